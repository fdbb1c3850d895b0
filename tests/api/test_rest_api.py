"""REST and ingestion against a real gateway process, with a real HTTP client."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fake_targets import FakeTargets
from tests.gateway import Gateway


def detection(**fields) -> dict:
    return {"frequency_mhz": 145.5, "snr_db": 12.5, "websdr_id": "torino", "timestamp": "2026-11-25T12:00:00Z", **fields}


def localization(**fields) -> dict:
    return {"latitude": 45.06, "longitude": 7.66, "uncertainty_m": 850.0, "confidence": 0.8,
            "timestamp": "2026-11-25T12:00:01Z", **fields}


def post(gw: Gateway, path: str, body, headers=None, raw: bytes | None = None) -> httpx.Response:
    headers = gw.auth() if headers is None else headers
    if raw is not None:
        return httpx.post(gw.url + path, content=raw, headers=headers, timeout=10)
    return httpx.post(gw.url + path, json=body, headers=headers, timeout=10)


def test_healthz(gateway):
    response = httpx.get(gateway.url + "/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "parts": {"storage": "up"}}


def test_detection_is_stored_published_and_answered_201(gateway):
    before = gateway.stats()["last_seq"]
    response = post(gateway, "/api/v1/signals", detection(modulation="FM", metrics={"bw_hz": 12500}))
    assert response.status_code == 201
    body = response.json()
    assert body["id"] and body["modulation"] == "FM" and body["metrics"] == {"bw_hz": 12500}
    assert body["timestamp"] == "2026-11-25T12:00:00.000Z"
    assert gateway.stats()["last_seq"] == before + 1
    listed = httpx.get(gateway.url + "/api/v1/signals").json()
    assert listed[0] == body


def test_localization_with_ellipse(gateway):
    ellipse = {"semi_major_m": 1200.0, "semi_minor_m": 400.0, "orientation_deg": 35.0}
    response = post(gateway, "/api/v1/localizations", localization(uncertainty_ellipse=ellipse))
    assert response.status_code == 201
    assert response.json()["uncertainty_ellipse"] == ellipse
    assert httpx.get(gateway.url + "/api/v1/localizations").json()[0]["id"] == response.json()["id"]


def test_client_id_twice_is_answered_with_the_first_and_published_once(gateway):
    first = post(gateway, "/api/v1/signals", detection(id="det-42", snr_db=3.0))
    seq = gateway.stats()["last_seq"]
    again = post(gateway, "/api/v1/signals", detection(id="det-42", snr_db=99.0))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert gateway.stats()["last_seq"] == seq


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_ingestion_without_a_valid_token_is_401_and_changes_nothing(gateway, headers):
    seq = gateway.stats()["last_seq"]
    count = len(httpx.get(gateway.url + "/api/v1/signals?limit=1000").json())
    response = post(gateway, "/api/v1/signals", detection(), headers=headers)
    assert response.status_code == 401
    assert gateway.stats()["last_seq"] == seq
    assert len(httpx.get(gateway.url + "/api/v1/signals?limit=1000").json()) == count


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/signals", detection(frequency_mhz=-1), "frequency_mhz"),
    ("/api/v1/signals", detection(frequency_mhz="145.5"), "frequency_mhz"),
    ("/api/v1/signals", detection(websdr_id=""), "websdr_id"),
    ("/api/v1/signals", {k: v for k, v in detection().items() if k != "snr_db"}, "snr_db"),
    ("/api/v1/signals", detection(timestamp="yesterday"), "timestamp"),
    ("/api/v1/signals", detection(id=""), "id"),
    ("/api/v1/localizations", localization(latitude=91), "latitude"),
    ("/api/v1/localizations", localization(longitude=-181), "longitude"),
    ("/api/v1/localizations", localization(confidence=1.5), "confidence"),
    ("/api/v1/localizations", localization(uncertainty_m=-3), "uncertainty_m"),
    ("/api/v1/localizations", localization(uncertainty_ellipse={"semi_major_m": 5}), "uncertainty_ellipse.semi_minor_m"),
])
def test_invalid_objects_are_422_naming_the_field(gateway, path, body, field):
    seq = gateway.stats()["last_seq"]
    response = post(gateway, path, body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert field in response.json()["detail"]
    assert gateway.stats()["last_seq"] == seq


@pytest.mark.parametrize("raw", [b"{nope", b"", b'{"frequency_mhz": NaN}', b"\xff\xfe", b"[" * 10_000],
                         ids=["broken", "empty", "nan", "not-utf8", "deeply-nested"])
def test_body_that_is_not_json_is_400_and_changes_nothing(gateway, raw):
    seq = gateway.stats()["last_seq"]
    response = post(gateway, "/api/v1/signals", None, raw=raw)
    assert response.status_code == 400
    assert gateway.stats()["last_seq"] == seq


def test_body_that_is_not_an_object_is_422(gateway):
    assert post(gateway, "/api/v1/signals", [detection()]).status_code == 422


def test_object_over_16_kib_is_413_and_just_under_is_accepted(gateway):
    seq = gateway.stats()["last_seq"]
    base = json.dumps(detection(pad=""), separators=(",", ":"))
    too_big = json.dumps(detection(pad="x" * (16 * 1024 - len(base) + 1)), separators=(",", ":")).encode()
    assert len(too_big) == 16 * 1024 + 1
    assert post(gateway, "/api/v1/signals", None, raw=too_big).status_code == 413
    assert gateway.stats()["last_seq"] == seq
    fits = json.dumps(detection(pad="x" * (16 * 1024 - len(base))), separators=(",", ":")).encode()
    assert post(gateway, "/api/v1/signals", None, raw=fits).status_code == 201


def test_lists_are_latest_first_and_limited(gateway):
    for minute in (1, 3, 2):
        post(gateway, "/api/v1/signals", detection(timestamp=f"2030-01-01T00:0{minute}:00Z", order=minute))
    latest = httpx.get(gateway.url + "/api/v1/signals?limit=3").json()
    assert [d["order"] for d in latest] == [3, 2, 1]
    assert httpx.get(gateway.url + "/api/v1/signals?limit=0").status_code == 422


def test_system_status_shape(gateway):
    body = httpx.get(gateway.url + "/api/v1/system/status").json()
    assert set(body) == {"overall_status", "services", "timestamp"}
    assert body["overall_status"] in ("healthy", "degraded", "unhealthy")


def test_websdrs_and_their_health_list_configured_receivers(make_gateway):
    with FakeTargets() as targets:
        gw = make_gateway(timeout=30, extra=f"""
[[services]]
name = "inference"
url = "{targets.url('inference-hangs', 'hang')}"

[[websdrs]]
id = "genova"
name = "Genova"
url = "{targets.url('genova-hangs', 'hang')}"
kind = "kiwisdr"
latitude = 44.395
longitude = 8.956
altitude_m = 100
frequency_ranges_mhz = [[144, 146]]
""")
        # Until the first check ends (these targets never answer): configured, status unknown.
        websdrs = httpx.get(gw.url + "/api/v1/websdrs").json()
        unknown = {"status": "unknown", "response_time_ms": None, "last_check": None, "error_message": None,
                   "since": None, "uptime_24h": None, "sites": {}, "details": {}}
        assert websdrs == [{
            "id": "genova", "name": "Genova", "url": targets.url("genova-hangs"), "kind": "kiwisdr",
            "latitude": 44.395, "longitude": 8.956, "altitude_m": 100.0, "frequency_ranges_mhz": [[144.0, 146.0]],
            "quorum": None, "platform_id": None, **unknown, "maintenance": None,
        }]
        health = httpx.get(gw.url + "/api/v1/websdrs/health").json()
        assert health == {"genova": {"websdr_id": "genova", **unknown}}
        status = httpx.get(gw.url + "/api/v1/system/status").json()
        assert status["services"] == [{"name": "inference", "status": "unknown", "url": targets.url("inference-hangs"),
                                       "response_time_ms": None, "last_check": None, "error": None, "since": None,
                                       "uptime_24h": None, "sites": {}, "maintenance": None}]
        assert status["overall_status"] == "degraded"


def test_events_endpoint_replays_and_pages(gateway):
    stats = gateway.stats()
    epoch, start = stats["epoch"], stats["last_seq"]
    ids = [post(gateway, "/api/v1/signals", detection()).json()["id"] for _ in range(3)]
    page = httpx.get(gateway.url + f"/api/v1/events?after={start}&epoch={epoch}&limit=2").json()
    assert page["recovered"] is True and page["more"] is True
    assert [e["data"]["id"] for e in page["events"]] == ids[:2]
    rest = httpx.get(gateway.url + f"/api/v1/events?after={page['next_after']}&epoch={epoch}").json()
    assert [e["data"]["id"] for e in rest["events"]] == ids[2:] and rest["more"] is False
    assert rest["next_after"] == gateway.stats()["last_seq"]


def test_events_endpoint_without_a_resume_point_gives_latest_state(gateway):
    body = httpx.get(gateway.url + "/api/v1/events").json()
    assert body["recovered"] is False
    assert {e["event"] for e in body["events"]} == {"services:health", "websdrs:status"}
    other_epoch = httpx.get(gateway.url + "/api/v1/events?after=0&epoch=not-this-one").json()
    assert other_epoch["recovered"] is False


@pytest.mark.parametrize("query", ["after=1", "topics=nope", "after=-1&epoch=x", "limit=0"])
def test_events_endpoint_rejects_bad_queries(gateway, query):
    assert httpx.get(gateway.url + f"/api/v1/events?{query}").status_code == 422


def test_stored_objects_survive_a_restart(make_gateway):
    gw = make_gateway()
    stored = post(gw, "/api/v1/localizations", localization(id="loc-1")).json()
    gw.restart()
    assert httpx.get(gw.url + "/api/v1/localizations").json() == [stored]
    assert post(gw, "/api/v1/localizations", localization(id="loc-1")).status_code == 200


def test_a_generated_token_is_kept_and_where_it_is_kept_is_said_never_the_token(tmp_path):
    """The console ends up in journald and `docker logs`: the start says where the token
    is, once, and never prints the token itself (issue 29, finding 14)."""
    from tests.gateway import write_config

    gw = Gateway(write_config(tmp_path / "c.toml"), tmp_path / "data", token=None).start()
    try:
        token = (tmp_path / "data" / "api_token").read_text().strip()
        said = [line for line in gw.output if "Generated an API token" in line]
        assert len(said) == 1 and str(tmp_path / "data" / "api_token") in said[0]
        assert not any(token in line for line in gw.output)
        assert (tmp_path / "data" / "api_token").stat().st_mode & 0o077 == 0
        ok = httpx.post(gw.url + "/api/v1/signals", json=detection(), headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 201
        printed_before = len(gw.output)
        gw.restart()
        assert not any(token in line for line in gw.output[printed_before:])
        assert httpx.post(gw.url + "/api/v1/signals", json=detection(),
                          headers={"Authorization": f"Bearer {token}"}).status_code == 201
    finally:
        gw.stop()


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/v1/nothing-here", 404),
    ("GET", "/api/", 404),
    ("POST", "/api/v2/signals", 404),
    ("DELETE", "/api/v1/signals", 405),
    ("PUT", "/api/v1/system/status", 405),
    ("TRACE", "/api/v1/signals", 405),
    ("POST", "/healthz", 405),
])
def test_every_api_error_is_json(gateway, method, path, status):
    response = httpx.request(method, gateway.url + path, headers=gateway.auth())
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"]
    if status == 405:
        assert "GET" in response.headers["allow"] or "POST" in response.headers["allow"]


def test_api_docs_are_served_from_bundled_assets(gateway):
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        page = httpx.get(gateway.url + path).text
        assert f"/api-docs-static/{asset}" in page and "cdn" not in page.lower()
        assert httpx.get(gateway.url + f"/api-docs-static/{asset}").status_code == 200
    assert httpx.get(gateway.url + "/openapi.json").json()["info"]["title"] == "Heimdall Live"

"""Monitoring end to end: a real gateway polls real fake targets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.fake_targets import FakeTargets, refused_url
from tests.waiting import wait_for

SERVICES = {
    "svc-healthy": "healthy",
    "svc-slow": "slow",
    "svc-degraded": "degraded-body",
    "svc-503": "503",
    "svc-hang": "hang",
    "svc-close": "close",
}
RECEIVERS = [
    ("owrx", "openwebrx", "openwebrx"),
    ("owrx-truncated", "openwebrx", "truncated"),
    ("owrx-garbage", "openwebrx", "garbage"),
    ("kiwi", "kiwisdr", "kiwisdr"),
    ("kiwi-offline", "kiwisdr", "kiwisdr-offline-updating"),
    ("kiwi-placeholder", "kiwisdr", "kiwisdr-default-location"),
    ("owrx-no-sdr", "openwebrx", "openwebrx-no-sdr"),
    ("owrx-hostile", "openwebrx", "openwebrx-hostile"),
    ("classic", "websdr", "websdr"),
    ("plain", "http", "head-refused"),
    ("plain-hang", "http", "hang"),
]


def monitoring_config(targets: FakeTargets, interval: float = 1.0, extra_services: str = "") -> str:
    lines = [f"""
[polling]
services_interval_s = {interval}
websdrs_interval_s = {interval}
timeout_s = 1
degraded_threshold_ms = 300
down_after = 2
up_after = 1
"""]
    for name, behaviour in SERVICES.items():
        lines.append(f'[[services]]\nname = "{name}"\nurl = "{targets.url(name, behaviour)}health"\n')
    lines.append(f'[[services]]\nname = "svc-refused"\nurl = "{refused_url()}health"\n')
    lines.append(extra_services)
    for key, kind, behaviour in RECEIVERS:
        lines.append(f'[[websdrs]]\nid = "{key}"\nname = "{key.title()}"\nurl = "{targets.url(key, behaviour)}"\n'
                     f'kind = "{kind}"\nlatitude = 45.0\nlongitude = 7.6\n')
    return "\n".join(lines)


@pytest.fixture
def targets():
    with FakeTargets() as fake:
        yield fake


def services_of(gw) -> dict:
    return {s["name"]: s for s in httpx.get(gw.url + "/api/v1/system/status").json()["services"]}


def websdrs_of(gw) -> dict:
    return httpx.get(gw.url + "/api/v1/websdrs/health").json()


def test_statuses_and_reasons_of_every_kind_of_target(make_gateway, targets):
    gw = make_gateway(raw=monitoring_config(targets))
    services = wait_for(lambda: (s := services_of(gw)) and all(v["last_check"] for v in s.values()) and s)
    assert services["svc-healthy"]["status"] == "healthy" and services["svc-healthy"]["error"] is None
    assert services["svc-healthy"]["response_time_ms"] < 300
    assert services["svc-slow"]["status"] == "degraded" and services["svc-slow"]["error"].startswith("slow: ")
    assert services["svc-degraded"]["status"] == "degraded"
    assert services["svc-degraded"]["error"] == "service reports degraded"
    assert (services["svc-503"]["status"], services["svc-503"]["error"]) == ("unhealthy", "HTTP 503")
    assert (services["svc-hang"]["status"], services["svc-hang"]["error"]) == ("unreachable", "timeout after 1 s")
    assert services["svc-hang"]["response_time_ms"] is None
    assert (services["svc-refused"]["status"], services["svc-refused"]["error"]) == ("unreachable", "connection refused")
    assert services["svc-close"]["status"] == "unreachable"
    assert services["svc-healthy"]["uptime_24h"] == 100.0 and services["svc-503"]["uptime_24h"] == 0.0

    receivers = wait_for(lambda: (r := websdrs_of(gw)) and all(v["last_check"] for v in r.values()) and r)
    owrx = receivers["owrx"]
    assert owrx["status"] == "online" and owrx["details"]["users"] == 3 and owrx["details"]["users_max"] == 20
    assert owrx["details"]["reported_position"] == {"lat": 45.044, "lon": 7.672}
    # Configured at 45.0, 7.6: the receiver's own position is 7.5 km away, not far.
    assert owrx["details"]["reported_offset_km"] == 7.5 and owrx["details"]["reported_far"] is False
    assert (receivers["owrx-no-sdr"]["status"], receivers["owrx-no-sdr"]["error_message"]) == \
        ("degraded", "no SDR running: nobody can listen")
    assert receivers["owrx-hostile"]["status"] == "online" and receivers["owrx-hostile"]["details"]["sdrs"] == 1
    assert "reported_position" not in receivers["kiwi-placeholder"]["details"]
    assert (receivers["owrx-truncated"]["status"], receivers["owrx-truncated"]["error_message"]) == \
        ("offline", "status.json is not valid JSON")
    assert receivers["owrx-garbage"]["status"] == "offline"
    kiwi = receivers["kiwi"]
    assert kiwi["status"] == "online" and kiwi["details"]["snr_db"] == {"all": 21, "hf": 18}
    assert kiwi["details"]["uptime_s"] == 86400 and kiwi["details"]["users"] == 2
    assert (receivers["kiwi-offline"]["status"], receivers["kiwi-offline"]["error_message"]) == \
        ("degraded", "receiver reports offline (updating or restarting)")
    assert receivers["kiwi"]["details"]["reported_far"] is True  # Genova, configured near Torino
    assert receivers["classic"]["status"] == "online"
    assert receivers["plain"]["status"] == "online"  # HEAD refused, GET answered
    assert receivers["plain-hang"]["error_message"] == "timeout after 1 s"
    assert receivers["owrx"]["uptime_24h"] == 100.0
    websdrs = {w["id"]: w for w in httpx.get(gw.url + "/api/v1/websdrs").json()}
    assert websdrs["kiwi"]["details"]["name"] == "Genova KiwiSDR" and websdrs["kiwi"]["kind"] == "kiwisdr"


def test_a_target_goes_down_after_two_failed_checks_and_comes_back_after_one(make_gateway, targets):
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0))
    wait_for(lambda: services_of(gw)["svc-healthy"]["status"] == "healthy")
    targets.set("svc-healthy", "503")
    # One failed check: still healthy, with the failure's reason beside it.
    one_failure = wait_for(lambda: (s := services_of(gw)["svc-healthy"])["error"] == "HTTP 503" and s)
    assert one_failure["status"] == "healthy"
    down = wait_for(lambda: (s := services_of(gw)["svc-healthy"])["status"] == "unhealthy" and s)
    assert down["since"] == down["last_check"] and down["error"] == "HTTP 503"
    targets.set("svc-healthy", "healthy")
    up = wait_for(lambda: (s := services_of(gw)["svc-healthy"])["status"] == "healthy" and s)
    assert up["error"] is None and 0 < up["uptime_24h"] < 100
    changes = httpx.get(gw.url + "/api/v1/status-changes", params={"kind": "services", "id": "svc-healthy"}).json()
    assert [(c["from"], c["to"]) for c in changes[:2]] == [("unhealthy", "healthy"), ("healthy", "unhealthy")]
    assert changes[1]["reason"] == "HTTP 503" and changes[1]["at"].endswith("Z")


def test_a_receiver_that_stops_answering_shows_no_stale_live_figures(make_gateway, targets):
    """Listeners, SDRs, SNR and GPS belong to the moment they were read; what the receiver
    told about itself (software, bands) stays, with the time it was read."""
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0))
    live = wait_for(lambda: (w := websdrs_of(gw)["owrx"])["details"].get("users") == 3 and w)
    assert live["details_at"] == live["last_check"] and live["details"]["sdrs"] == 1
    targets.set("owrx", "close")
    gone = wait_for(lambda: (w := websdrs_of(gw)["owrx"])["status"] == "offline" and w)
    assert "users" not in gone["details"] and "sdrs" not in gone["details"]
    assert gone["details"]["sw_version"] == "v1.1.0-dev" and gone["details"]["bands_mhz"]
    assert gone["details_at"] < gone["last_check"]


def test_readiness_for_a_frequency_from_real_receiver_answers(make_gateway, targets):
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0))
    wait_for(lambda: websdrs_of(gw)["owrx"]["details"].get("users") == 3 and websdrs_of(gw)["kiwi"]["details"])
    two_metres = httpx.get(gw.url + "/api/v1/readiness", params={"freq_mhz": 145.5}).json()
    receivers = two_metres["receivers"]
    assert two_metres["freq_mhz"] == 145.5 and receivers["owrx"] == {"state": "ready", "reasons": []}
    assert receivers["kiwi"] == {"state": "unusable", "reasons": ["145.5 MHz is outside its bands (0–30 MHz)"]}
    assert receivers["owrx-no-sdr"]["state"] == "unusable" and receivers["plain-hang"]["state"] == "unusable"
    assert receivers["kiwi-offline"]["reasons"][0] == "offline (updating or restarting)"
    assert two_metres["ready"] == sum(1 for r in receivers.values() if r["state"] == "ready")
    hf = httpx.get(gw.url + "/api/v1/readiness", params={"freq_mhz": "14.1"}).json()["receivers"]
    assert hf["kiwi"]["state"] == "ready" and hf["owrx"]["state"] == "unusable"
    assert websdrs_of(gw)["kiwi"]["readiness"] == {"state": "ready", "reasons": []}  # in its status entry too
    for bad in ({"freq_mhz": "abc"}, {"freq_mhz": "-1"}, {}):
        answer = httpx.get(gw.url + "/api/v1/readiness", params=bad)
        assert answer.status_code == 422 and "freq_mhz" in answer.text
    coverage = httpx.get(gw.url + "/api/v1/coverage", params={"freq_mhz": 14.1, "cells": 5}).json()
    ready = sorted(key for key, r in hf.items() if r["state"] == "ready")
    assert coverage["type"] == "FeatureCollection" and coverage["receivers"] == ready
    assert len(coverage["features"]) == 25
    # One KiwiSDR ready on 14.1 MHz: said, and no fix anywhere.
    assert coverage["warnings"] == ["1 receiver ready: a position needs at least 3"] and ready == ["kiwi"]
    assert all(f["properties"]["gdop"] is None for f in coverage["features"])
    assert httpx.get(gw.url + "/api/v1/coverage", params={"freq_mhz": 14.1, "sigma_t_us": 0}).status_code == 422


def test_readiness_and_coverage_honour_the_configured_bands(make_gateway, targets):
    """A real OpenWebRX answer (2 m and 70 cm profiles) on a receiver configured for 70 cm
    only: not ready at 145.5 MHz, with the configured bands named; ready at 438.5 MHz; the
    coverage API counts it the same way (issue 31)."""
    only_70cm = (f'[[websdrs]]\nid = "owrx-70cm"\nname = "Owrx 70 cm"\nurl = "{targets.url("owrx-70cm", "openwebrx")}"\n'
                 'kind = "openwebrx"\nlatitude = 45.2\nlongitude = 7.9\nfrequency_ranges_mhz = [[430.0, 440.0]]\n')
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0) + only_70cm)
    wait_for(lambda: websdrs_of(gw)["owrx-70cm"]["details"].get("users") == 3)
    two_metres = httpx.get(gw.url + "/api/v1/readiness", params={"freq_mhz": 145.5}).json()["receivers"]
    assert two_metres["owrx"]["state"] == "ready"  # the same answer, no bands configured
    assert two_metres["owrx-70cm"] == {"state": "unusable", "reasons": [
        "145.5 MHz is outside its configured bands within those it reports (437.6–440 MHz)"]}
    seventy = httpx.get(gw.url + "/api/v1/readiness", params={"freq_mhz": 438.5}).json()["receivers"]
    assert seventy["owrx-70cm"] == {"state": "ready", "reasons": []}
    on_2m = httpx.get(gw.url + "/api/v1/coverage", params={"freq_mhz": 145.5, "cells": 3}).json()["receivers"]
    on_70cm = httpx.get(gw.url + "/api/v1/coverage", params={"freq_mhz": 438.5, "cells": 3}).json()["receivers"]
    assert "owrx-70cm" not in on_2m and "owrx-70cm" in on_70cm


async def test_rounds_publish_full_maps_and_state_changes(make_gateway, targets):
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0))
    await asyncio.to_thread(wait_for, lambda: services_of(gw)["svc-degraded"]["status"] == "degraded")
    async with connect(gw.ws_url) as ws:
        await ws.recv()
        await ws.send(json.dumps({"event": "subscribe", "data": {"events": ["services:health", "status:changed"]}}))
        targets.set("svc-degraded", "hang")
        seen_maps, change = 0, None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (seen_maps >= 2 and change):
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["event"] == "services:health" and message["seq"] > 0:
                assert set(message["data"]) == set(SERVICES) | {"svc-refused"}  # the full map each time
                seen_maps += 1
            elif message["event"] == "status:changed" and message["data"]["id"] == "svc-degraded" \
                    and message["data"]["to"] == "unreachable":
                change = message["data"]
    assert seen_maps >= 2
    assert change == {"kind": "services", "id": "svc-degraded", "name": "svc-degraded", "aspect": "status",
                      "from": "degraded",
                      "to": "unreachable", "since": change["since"], "reason": "timeout after 1 s"}


async def test_a_change_of_readiness_goes_out_as_status_changed(make_gateway, targets):
    """The KiwiSDR stays online but loses its GPS fix (the captured no-fix answer): its
    status does not move, its readiness does, once, and back once."""
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0))
    await asyncio.to_thread(wait_for, lambda: (websdrs_of(gw)["kiwi"].get("readiness") or {}).get("state") == "ready")
    async with connect(gw.ws_url + "?initial=none") as ws:
        await ws.recv()
        await ws.send(json.dumps({"event": "subscribe", "data": {"events": ["status:changed"]}}))

        async def next_change_of_kiwi() -> dict:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if message["event"] == "status:changed" and message["data"]["id"] == "kiwi":
                    return message["data"]

        targets.set("kiwi", "kiwisdr-no-gps-fix")
        lost = await next_change_of_kiwi()
        targets.set("kiwi", "kiwisdr")
        back = await next_change_of_kiwi()
    assert lost["aspect"] == "readiness" and (lost["from"], lost["to"]) == ("ready", "unusable")
    assert "GPS" in lost["reason"]
    assert back["aspect"] == "readiness" and (back["from"], back["to"]) == ("unusable", "ready")
    assert websdrs_of(gw)["kiwi"]["status"] == "online"


def test_a_kiwisdrs_quality_is_kept_over_time(make_gateway, targets):
    """Per minute: users against the maximum, ADC overloads, GPS fixes; and hourly the
    receiver's own week of SNR measurements (/snr), read after the first round."""
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0))
    snr = wait_for(lambda: httpx.get(gw.url + "/api/v1/history/websdrs/kiwi/snr").json()["measurements"])
    assert [m["snr_all_db"] for m in snr] == [22, 21, 20] and [m["snr_hf_db"] for m in snr] == [21, 20, 19]
    assert snr[0]["bands"][1] == {"lo": 1800, "hi": 30000, "min": -130, "max": -60, "p50": -114, "p95": -93,
                                  "snr": 21}
    # Overloads count from the second answer on (a rise needs two readings).
    minute = wait_for(lambda: [b for b in httpx.get(gw.url + "/api/v1/history/websdrs/kiwi").json()["buckets"]
                               if b["adc_overloads"] is not None])[-1]
    assert minute["users_max"] == 8 and minute["max_users"] == 2
    assert minute["avg_gps_fixes_min"] == 12.0 and minute["adc_overloads"] == 0
    # A receiver whose kind keeps no history of its own is not asked, and nothing is made up.
    assert httpx.get(gw.url + "/api/v1/history/websdrs/owrx/snr").json()["measurements"] == []
    assert httpx.get(gw.url + "/api/v1/history/websdrs/nowhere/snr").status_code == 404
    assert httpx.get(gw.url + "/api/v1/history/websdrs/kiwi/snr", params={"start": "x"}).status_code == 422


def test_a_round_of_hanging_targets_takes_about_one_timeout(make_gateway, targets):
    # 40 receivers that never answer, 1 s timeout: one after another would take 40 s.
    receivers = "\n".join(
        f'[[websdrs]]\nid = "hang-{i}"\nname = "H{i}"\nurl = "{targets.url(f"hang-{i}", "hang")}"\n'
        f'kind = "openwebrx"\nlatitude = 45.0\nlongitude = 7.6\n' for i in range(40))
    started = time.monotonic()
    gw = make_gateway(raw=f"[polling]\nwebsdrs_interval_s = 60\ntimeout_s = 1\n{receivers}")
    checked = wait_for(lambda: (r := websdrs_of(gw)) and all(v["last_check"] for v in r.values()) and r, timeout=30)
    assert time.monotonic() - started < 15
    assert {v["error_message"] for v in checked.values()} == {"timeout after 1 s"}


def test_after_a_restart_statuses_and_history_are_there_before_the_first_round(make_gateway, targets):
    gw = make_gateway(raw=monitoring_config(targets, interval=1.0))
    wait_for(lambda: websdrs_of(gw)["kiwi"]["status"] == "online" and services_of(gw)["svc-503"]["last_check"])
    before = websdrs_of(gw)["kiwi"]
    # After the restart every target hangs, so no round can finish for a while.
    for name in list(targets.routes):
        targets.set(name, "hang")
    gw.restart()
    after = websdrs_of(gw)["kiwi"]
    assert after["status"] == "online" and after["details"]["name"] == "Genova KiwiSDR"
    assert after["last_check"] == before["last_check"] or after["last_check"] >= before["last_check"]
    assert services_of(gw)["svc-503"]["status"] == "unhealthy"
    history = httpx.get(gw.url + "/api/v1/history/websdrs/kiwi").json()
    assert history["resolution"] == "minute" and history["buckets"]
    assert history["buckets"][-1]["checks"] >= 1 and history["uptime_pct"]["24h"] == 100.0


def test_history_endpoint_validates_its_input(make_gateway, targets):
    gw = make_gateway(raw=monitoring_config(targets, interval=30))
    assert httpx.get(gw.url + "/api/v1/history/websdrs/nowhere").status_code == 404
    assert httpx.get(gw.url + "/api/v1/history/planets/kiwi").status_code == 422
    assert httpx.get(gw.url + "/api/v1/history/websdrs/kiwi?start=yesterday").status_code == 422
    assert httpx.get(gw.url + "/api/v1/history/websdrs/kiwi?start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z"
                     ).status_code == 422
    assert httpx.get(gw.url + "/api/v1/history/websdrs/kiwi?start=2025-01-01T00:00:00Z&resolution=minute"
                     ).status_code == 422
    year = httpx.get(gw.url + "/api/v1/history/websdrs/kiwi?start=2025-12-01T00:00:00Z").json()
    assert year["resolution"] == "day"

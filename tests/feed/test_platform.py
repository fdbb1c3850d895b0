"""The platform's events read into ours (backend/feed/platform.py), and a push service's
deadline judged with an injected clock (backend/kinds/push.py): plain functions, the
bodies as the platform's publisher writes them (fulgidus/heimdall, events/publisher.py)."""

from __future__ import annotations

import json

import pytest

from backend.config.schema import Config
from backend.feed import platform
from backend.kinds import push

CONFIG = Config.model_validate({
    "websdrs": [{"id": "torino", "name": "Torino", "url": "http://127.0.0.1:9/", "kind": "openwebrx",
                 "latitude": 45.0, "longitude": 7.6, "platform_id": "3"},
                {"id": "milano", "name": "Milano", "url": "http://127.0.0.1:9/", "kind": "openwebrx",
                 "latitude": 45.4, "longitude": 9.1}],
    "services": [{"name": "training", "kind": "push", "deadline_s": 90}]})


def body(event: str, data: dict, timestamp: str = "2026-12-07T06:00:00.123456") -> bytes:
    return json.dumps({"event": event, "timestamp": timestamp, "data": data}).encode()


def read(raw: bytes, message_id: str | None = None) -> platform.Reading:
    return platform.read_message(raw, message_id, CONFIG, ["training:*"], {"training"})


def test_a_detection_maps_the_platforms_fields_and_keeps_the_rest():
    reading = read(body("signal:detected", {"frequency_hz": 145_500_000, "signal_strength_db": -71.5,
                                            "station_id": 3, "bandwidth_hz": 12_500}))
    [(action, detection)] = reading.actions
    assert action == platform.DETECTION
    assert detection["frequency_mhz"] == 145.5 and detection["snr_db"] == -71.5 and detection["websdr_id"] == "torino"
    assert detection["timestamp"] == "2026-12-07T06:00:00.123Z" and detection["bandwidth_hz"] == 12_500
    assert "station_id" not in detection and detection["id"] == reading.identity
    by_id = read(body("signal:detected", {"frequency_hz": 1e6, "signal_strength_db": 1, "station_id": "milano"}))
    assert by_id.actions[0][1]["websdr_id"] == "milano"


def test_a_message_is_the_same_message_again_by_its_message_id_else_its_body():
    raw = body("signal:detected", {"frequency_hz": 1e6, "signal_strength_db": 1, "station_id": "3"})
    assert read(raw).identity == read(raw).identity
    assert read(raw, "m-1").identity == read(body("signal:detected", {
        "frequency_hz": 2e6, "signal_strength_db": 1, "station_id": "3"}), "m-1").identity
    assert read(raw, "m-1").identity != read(raw, "m-2").identity


def test_a_localization_takes_accuracy_meters_as_its_uncertainty():
    [(action, located)] = read(body("localization:complete", {"latitude": 45.1, "longitude": 7.7,
                                                              "accuracy_meters": 250})).actions
    assert action == platform.LOCALIZATION and located["uncertainty_m"] == 250 and located["confidence"] == 0.0


def test_health_reports_reach_only_the_configured_push_services():
    single = read(body("service:health", {"service": "training", "status": "degraded", "response_time_ms": 40.0,
                                          "error": None}))
    assert single.actions == [(platform.PUSH, ("training", {"status": "degraded", "response_time_ms": 40.0,
                                                            "error": None, "at": "2026-12-07T06:00:00.123Z"}))]
    assert read(body("service:health", {"service": "backend", "status": "healthy"})).actions == []
    every = read(body("system:comprehensive_health", {"components": {
        "training": {"status": "healthy"}, "postgresql": {"status": "healthy", "message": "OK"}}}))
    assert [name for _, (name, _) in every.actions] == ["training"]


def test_the_platforms_view_of_receivers_and_pass_through():
    [(action, views)] = read(body("websdrs:health", {"health_status": {
        "3": {"status": "offline"}, "77": {"status": "online"}}})).actions
    assert action == platform.SITE_VIEW and list(views) == ["torino"] and views["torino"]["status"] == "offline"
    [(action, document)] = read(body("training:progress", {"job_id": "j", "epoch": 1})).actions
    assert action == platform.PASS_THROUGH and document["data"] == {"job_id": "j", "epoch": 1}


@pytest.mark.parametrize("raw, kind, words", [
    (b"\xff not json", "not JSON", "not JSON"),
    (json.dumps({"data": {}}).encode(), "no event", "no 'event' name"),
    (json.dumps(["signal:detected"]).encode(), "no event", "no 'event' name"),
    (body("signal:detected", {"frequency_hz": "145.5", "signal_strength_db": 1, "station_id": "3"}), "wrong fields",
     "data.frequency_hz must be a number"),
    (body("signal:detected", {"frequency_hz": 1e6, "signal_strength_db": 1, "station_id": "9"}), "unknown receiver",
     "unknown receiver '9'"),
    (body("signal:detected", {"frequency_hz": 1e6, "signal_strength_db": 1, "station_id": "3"}, timestamp="soon"),
     "wrong fields", "'timestamp' 'soon' is not an ISO date-time"),
    (body("service:health", {"service": "training", "status": "fine"}), "wrong fields", "status must be one of"),
    (body("websdrs:health", {"health_status": {"3": {"status": "maybe"}}}), "wrong fields", "online or offline"),
    (body("dataset:generation_progress", {}), "unknown event", "no use for event"),
    (b"{" + b" " * platform.MAX_MESSAGE_BYTES + b"}", "too large", "over 1048576"),
])
def test_what_cannot_be_used_is_rejected_with_its_reason(raw, kind, words):
    with pytest.raises(platform.Rejected) as rejected:
        read(raw)
    assert rejected.value.kind == kind and words in str(rejected.value)


def test_a_push_services_deadline_with_an_injected_clock():
    start = 1_780_000_000_000
    # No report yet: unknown until the deadline has passed since it was first waited for.
    assert push.judge(None, 90, start + 89_000, start) is None
    late = push.judge(None, 90, start + 93_000, start)
    assert late.status == "unreachable" and late.error == "no report for 93 s (its deadline is 90 s)"
    report = {"status": "healthy", "response_time_ms": 12.0, "error": None, "received_ms": start}
    fresh = push.judge(report, 90, start + 60_000, start)
    assert (fresh.status, fresh.response_time_ms, fresh.error) == ("healthy", 12.0, None)
    silent = push.judge(report, 90, start + 93_000, start)
    assert silent.status == "unreachable" and silent.error.startswith("no report for 93 s")
    degraded = push.judge({**report, "status": "degraded"}, 90, start + 1000, start)
    assert degraded.error == "it reports itself degraded"

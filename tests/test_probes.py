"""The probe parsers and the flap rule, as plain functions on captured-shape examples."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl

import httpx
import pytest

from backend.monitor.debounce import Debouncer
from backend.probes import http, kiwisdr, openwebrx, service, websdr
from backend.probes.base import describe_failure
from tests.fake_targets import KIWISDR_STATUS, OPENWEBRX_STATUS

# -- services ---------------------------------------------------------------------------


def test_service_2xx_in_time_is_healthy():
    result = service.parse(200, b'{"status": "ok"}', 35.0, degraded_after_ms=1000)
    assert (result.status, result.response_time_ms, result.error) == ("healthy", 35.0, None)


def test_service_slow_2xx_is_degraded_with_the_reason():
    result = service.parse(204, b"", 1500.0, degraded_after_ms=1000)
    assert result.status == "degraded" and result.error == "slow: 1500 ms (threshold 1000 ms)"


@pytest.mark.parametrize("body, status", [
    (b'{"status": "degraded"}', "degraded"),
    (b'{"status": "DEGRADED "}', "degraded"),
    (b'{"status": "unhealthy"}', "unhealthy"),
    (b'{"status": "healthy"}', "healthy"),
    (b"not json at all", "healthy"),
    (b'["status", "degraded"]', "healthy"),
])
def test_service_body_can_say_degraded_or_down(body, status):
    assert service.parse(200, body, 10.0, degraded_after_ms=1000).status == status


@pytest.mark.parametrize("code", [301, 404, 500, 503])
def test_service_other_http_status_is_unhealthy(code):
    result = service.parse(code, b"", 10.0, degraded_after_ms=1000)
    assert result.status == "unhealthy" and result.error == f"HTTP {code}"


# -- OpenWebRX ---------------------------------------------------------------------------


def test_openwebrx_status_json_gives_users_gps_version_and_bands():
    result = openwebrx.parse(200, json.dumps(OPENWEBRX_STATUS).encode(), 80.0)
    assert result.status == "online" and result.error is None
    assert result.details == {
        "software": "OpenWebRX", "name": "Torino", "location": "Torino, Italy", "altitude_m": 250.0,
        "gps": {"lat": 45.044, "lon": 7.672}, "users": 3, "users_max": 20, "sw_version": "v1.2.2",
        "bands_mhz": [[143.8, 146.2], [432.3, 434.7]],
    }


def test_openwebrx_minimal_status_is_online():
    assert openwebrx.parse(200, b'{"receiver": {}}', 5.0).status == "online"


@pytest.mark.parametrize("body, reason", [
    (json.dumps(OPENWEBRX_STATUS).encode()[:60], "status.json is not valid JSON"),
    (b"\x00\xff\xfe garbage", "status.json is not valid JSON"),
    (b"", "status.json is not valid JSON"),
    (b"[]", "status.json has no receiver object"),
    (b'{"receiver": "Torino"}', "status.json has no receiver object"),
])
def test_openwebrx_truncated_or_garbage_is_offline_with_the_reason(body, reason):
    result = openwebrx.parse(200, body, 5.0)
    assert (result.status, result.error) == ("offline", reason)


def test_openwebrx_wrong_types_are_left_out_not_fatal():
    body = {"receiver": {"name": 5, "gps": {"lat": "north"}}, "clients": "three", "sdrs": [{"profiles": [None, 7]}]}
    result = openwebrx.parse(200, json.dumps(body).encode(), 5.0)
    assert result.status == "online" and result.details == {"software": "OpenWebRX"}


def test_openwebrx_http_error_is_offline():
    assert openwebrx.parse(404, b"", 5.0).error == "HTTP 404"


# -- KiwiSDR -----------------------------------------------------------------------------


def test_kiwisdr_status_page_gives_everything_it_tells():
    result = kiwisdr.parse(200, KIWISDR_STATUS.encode(), 60.0)
    assert result.status == "online"
    assert result.details == {
        "software": "KiwiSDR", "name": "Genova KiwiSDR", "sw_version": "KiwiSDR_v1.700", "location": "Genova, Italy",
        "antenna": "Wellbrook loop", "users": 2, "users_max": 8, "uptime_s": 86400, "gps_fixes": 123456,
        "adc_overloads": 0, "gps": {"lat": 44.395, "lon": 8.956}, "gps_good": 7, "antenna_connected": True,
        "snr_db": {"all": 21, "hf": 18}, "bands_mhz": [[0.0, 30.0]],
    }


@pytest.mark.parametrize("change, status, reason", [
    (("status=active", "status=offline"), "offline", "receiver reports offline"),
    (("offline=no", "offline=yes"), "offline", "receiver reports offline"),
    (("status=active", "status=private"), "online", None),
    (("status=active", "status=busy"), "offline", "unknown status 'busy'"),
])
def test_kiwisdr_states(change, status, reason):
    result = kiwisdr.parse(200, KIWISDR_STATUS.replace(*change).encode(), 5.0)
    assert (result.status, result.error) == (status, reason)


@pytest.mark.parametrize("body", [b"", b"<html>not a kiwi</html>", KIWISDR_STATUS.encode()[:5], b"\xff\xfe\x00"])
def test_kiwisdr_truncated_or_garbage_is_offline(body):
    result = kiwisdr.parse(200, body, 5.0)
    assert result.status == "offline" and result.error == "status page has no status= line"


def test_kiwisdr_bad_values_are_left_out():
    body = "status=active\nusers=lots\ngps=(north, east)\nsnr=1\nbands=wide\n"
    result = kiwisdr.parse(200, body.encode(), 5.0)
    assert result.status == "online" and result.details == {"software": "KiwiSDR"}


# -- websdr.org and plain HTTP -------------------------------------------------------------


def test_websdr_main_page():
    result = websdr.parse(200, b"<html><title> WebSDR\n Genova </title></html>", 40.0)
    assert result.status == "online" and result.details["title"] == "WebSDR Genova"
    assert websdr.parse(200, b"\x00\x01binary", 40.0).error == "main page is not HTML"
    assert websdr.parse(502, b"", 40.0).error == "HTTP 502"


@pytest.mark.parametrize("code, status", [(200, "online"), (302, "online"), (404, "offline"), (500, "offline")])
def test_http_reachability(code, status):
    assert http.parse(code, 3.0).status == status


# -- failures --------------------------------------------------------------------------------


def test_failures_have_short_human_reasons():
    assert describe_failure(httpx.ConnectTimeout("x"), 5) == "timeout after 5 s"
    assert describe_failure(asyncio.TimeoutError(), 2.5) == "timeout after 2.5 s"
    refused = httpx.ConnectError("All connection attempts failed")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert describe_failure(refused, 5) == "connection refused"
    dns = httpx.ConnectError("[Errno -2] Name or service not known")
    dns.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert describe_failure(dns, 5) == "DNS lookup failed"
    tls = httpx.ConnectError("certificate verify failed")
    tls.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    assert describe_failure(tls, 5).startswith("TLS error")
    assert describe_failure(httpx.RemoteProtocolError("Server disconnected"), 5) == \
        "connection closed without a valid HTTP response"


# -- flapping ----------------------------------------------------------------------------------


def test_one_lost_check_does_not_take_a_target_down():
    debouncer = Debouncer("online", down_after=2, up_after=1)
    assert debouncer.observe("offline") is False and debouncer.status == "online"
    assert debouncer.observe("online") is False
    assert debouncer.observe("offline") is False
    assert debouncer.observe("offline") is True and debouncer.status == "offline"


def test_coming_back_takes_one_good_check_by_default():
    debouncer = Debouncer("offline", down_after=2, up_after=1)
    assert debouncer.observe("online") is True and debouncer.status == "online"


def test_up_after_can_ask_for_more():
    debouncer = Debouncer("unreachable", down_after=2, up_after=3)
    assert [debouncer.observe("healthy") for _ in range(3)] == [False, False, True]


def test_first_result_and_moves_within_a_class_are_taken_at_once():
    debouncer = Debouncer("unknown", down_after=2, up_after=1)
    assert debouncer.observe("unreachable") is True and debouncer.status == "unreachable"
    assert debouncer.observe("unhealthy") is True and debouncer.status == "unhealthy"
    debouncer = Debouncer("healthy", down_after=2, up_after=1)
    assert debouncer.observe("degraded") is True and debouncer.status == "degraded"


def test_a_down_streak_counts_mixed_down_results_and_adopts_the_latest():
    debouncer = Debouncer("healthy", down_after=2, up_after=1)
    debouncer.observe("unreachable")
    assert debouncer.observe("unhealthy") is True and debouncer.status == "unhealthy"

"""The probe parsers and the flap rule, as plain functions on captured-shape examples."""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import ssl

import aiohttp
import pytest

from backend.kinds import http_receiver as http
from backend.kinds import http_service as service
from backend.kinds import kiwisdr, openwebrx, websdr
from backend.kinds.probing import describe_failure, probe_client
from backend.monitor.debounce import Debouncer
from tests.fake_targets import KIWISDR_ACTIVE, fixture

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


# -- OpenWebRX (bodies captured from real servers: tests/fixtures/receivers/) -----------------


@pytest.mark.parametrize("name, version", [("openwebrx-1.1.0-dev.status.json", "v1.1.0-dev"),
                                           ("openwebrx-0.20.3.status.json", "v0.20.3")])
def test_openwebrx_status_json_as_real_releases_serve_it(name, version):
    result = openwebrx.parse(200, fixture(name), 80.0)
    assert (result.status, result.error) == ("online", None)
    assert result.details == {
        "software": "OpenWebRX", "name": "IZ1XYZ Torino", "location": "Torino, Italy", "altitude_m": 250.0,
        "reported_position": {"lat": 45.044, "lon": 7.672}, "users_max": 20, "sw_version": version, "sdrs": 1,
        "bands_mhz": [[143.976, 146.024], [437.6, 440.0]],
    }
    assert "users" not in result.details  # status.json has no user count: it is in the metrics


@pytest.mark.parametrize("version, metrics, software", [
    ("v1.2.121", None, "OpenWebRX+"),  # the fork's numbering (luarvique/openwebrx owrx/version.py)
    ("v1.2.6", None, "OpenWebRX+"),  # its first own number
    ("v1.2.1", None, "OpenWebRX"),  # upstream's, also in the fork's history
    ("v1.1.0-dev", None, "OpenWebRX"),
    ("v1.2.1", {"openwebrx": {"users": 1}, "sondehub": {"spots": 3}}, "OpenWebRX+"),  # a fork-only reporter
    (None, None, "OpenWebRX"),
    ("garbage", {"openwebrx": {}}, "OpenWebRX"),
])
def test_openwebrx_plus_is_told_from_its_answers_where_they_allow(version, metrics, software):
    assert openwebrx.fork_of(version, metrics) == software


def test_openwebrx_plus_status_json_names_the_fork():
    body = json.loads(fixture("openwebrx-1.1.0-dev.status.json"))
    result = openwebrx.parse(200, json.dumps({**body, "version": "v1.2.121"}).encode(), 5.0)
    assert result.details["software"] == "OpenWebRX+" and result.details["sw_version"] == "v1.2.121"


def test_openwebrx_with_no_sdr_running_is_degraded():
    body = json.loads(fixture("openwebrx-1.1.0-dev.status.json"))
    result = openwebrx.parse(200, json.dumps({**body, "sdrs": []}).encode(), 5.0)
    assert (result.status, result.error) == ("degraded", "no SDR running: nobody can listen")
    assert result.details["sdrs"] == 0 and "bands_mhz" not in result.details


@pytest.mark.parametrize("body, users", [
    (b'{"openwebrx": {"users": 3}}', 3),  # metrics.json from 1.0, metrics in 0.20
    (b'{"openwebrx.users": 2}', 2),  # flat form
    (b"# https://prometheus.io/docs/instrumenting/exposition_formats/\nopenwebrx_users 5", 5),  # Prometheus
    (b'{"openwebrx": {}}', None),
    (b'{"openwebrx": {"users": NaN}}', None),
    (b'{"openwebrx": {"users": -1}}', None),
    (b"<html>404</html>", None),
    (b"[]", None),
])
def test_openwebrx_users_from_every_metrics_form(body, users):
    assert openwebrx.parse_users(body) == users


def test_openwebrx_before_0_18_answers_a_text_status():
    body = b"status=active\nname=Old\nusers=4\nusers_max=20\ngps=(45.0, 7.6)\nasl=250\nloc=Torino\nsw_version=v0.17.3"
    result = openwebrx.parse_status_text(200, body, 9.0)
    assert result.status == "online"
    assert result.details == {"software": "OpenWebRX", "name": "Old", "location": "Torino", "sw_version": "v0.17.3",
                              "users": 4, "users_max": 20, "altitude_m": 250.0,
                              "reported_position": {"lat": 45.0, "lon": 7.6}}
    assert openwebrx.parse_status_text(404, b"", 9.0).error == "HTTP 404"
    assert openwebrx.parse_status_text(200, b"<html>", 9.0).error == "neither status.json nor a status page"


def test_openwebrx_minimal_status_is_online():
    assert openwebrx.parse(200, b'{"receiver": {}}', 5.0).status == "online"


@pytest.mark.parametrize("body, reason", [
    (fixture("openwebrx-1.1.0-dev.status.json")[:60], "status.json is not valid JSON"),
    (b"\x00\xff\xfe garbage", "status.json is not valid JSON"),
    (b"", "status.json is not valid JSON"),
    (b"[]", "status.json has no receiver object"),
    (b'{"receiver": "Torino"}', "status.json has no receiver object"),
])
def test_openwebrx_truncated_or_garbage_is_offline_with_the_reason(body, reason):
    result = openwebrx.parse(200, body, 5.0)
    assert (result.status, result.error) == ("offline", reason)


def test_openwebrx_wrong_types_are_left_out_not_fatal():
    body = {"receiver": {"name": 5, "gps": {"lat": "north"}}, "max_clients": "three", "sdrs": [{"profiles": [None, 7]}]}
    result = openwebrx.parse(200, json.dumps(body).encode(), 5.0)
    assert result.status == "online" and result.details == {"software": "OpenWebRX", "sdrs": 1}


def test_openwebrx_non_finite_numbers_never_become_data():
    body = (b'{"receiver": {"asl": 1e999, "gps": {"lat": NaN, "lon": 7}}, "max_clients": Infinity, '
            b'"sdrs": [{"profiles": [{"center_freq": 1e999, "sample_rate": 2e6}]}]}')
    result = openwebrx.parse(200, body, 5.0)
    assert result.status == "online" and result.details == {"software": "OpenWebRX", "sdrs": 1}


@pytest.mark.parametrize("lat, lon", [(47.0, 19.0), (0.0, 0.0), (91.0, 7.0)])
def test_openwebrx_placeholder_or_impossible_location_is_not_a_position(lat, lon):
    body = {"receiver": {"gps": {"lat": lat, "lon": lon}}, "sdrs": [{}]}
    assert "reported_position" not in openwebrx.parse(200, json.dumps(body).encode(), 5.0).details


def test_openwebrx_http_error_is_offline():
    assert openwebrx.parse(404, b"", 5.0).error == "HTTP 404"


# -- KiwiSDR (status pages from KiwiSDR v1.711's own code: tests/fixtures/receivers/) ---------


def test_kiwisdr_active_receiver_tells_everything():
    result = kiwisdr.parse(200, fixture("kiwisdr-1.711-active.status.txt"), 60.0)
    assert (result.status, result.error) == ("online", None)
    assert result.details == {
        "software": "KiwiSDR", "name": "Genova KiwiSDR", "sw_version": "KiwiSDR_v1.711", "location": "Genova, Italy",
        "antenna": "Wellbrook loop", "users": 2, "users_max": 8, "uptime_s": 86400, "adc_overloads": 0,
        "altitude_m": 100.0, "reported_position": {"lat": 44.395, "lon": 8.956},
        "gps_fix": {"satellites": 7, "fixes": 123456}, "gps_fixes_min": 12, "antenna_connected": True, "snr_db": {"all": 21, "hf": 18},
        "bands_mhz": [[0.0, 30.0]],
    }


@pytest.mark.parametrize("state, status, reason", [
    ("active", "online", None),
    ("offline-updating", "degraded", "receiver reports offline (updating or restarting)"),
    ("password-all-channels", "degraded", "every channel needs a password"),
    ("private-unregistered", "online", None),
    ("no-gps-fix", "online", None),
    ("default-location", "online", None),
])
def test_kiwisdr_every_captured_state(state, status, reason):
    result = kiwisdr.parse(200, fixture(f"kiwisdr-1.711-{state}.status.txt"), 5.0)
    assert (result.status, result.error) == (status, reason)


def test_kiwisdr_private_is_only_unlisted():
    details = kiwisdr.parse(200, fixture("kiwisdr-1.711-private-unregistered.status.txt"), 5.0).details
    assert details["listed"] is False and details["users"] == 2


def test_kiwisdr_password_only_receiver_says_so():
    details = kiwisdr.parse(200, fixture("kiwisdr-1.711-password-all-channels.status.txt"), 5.0).details
    assert details["password_required"] is True and details["users_max"] == 0


def test_kiwisdr_gps_fix_only_when_satellites_are_used():
    details = kiwisdr.parse(200, fixture("kiwisdr-1.711-no-gps-fix.status.txt"), 5.0).details
    assert "gps_fix" not in details and details["reported_position"] == {"lat": 44.395, "lon": 8.956}


@pytest.mark.parametrize("gps", ["(-69.0, 90.0)", "(0.000000, 0.000000)", "(null)", "(north, east)", ""])
def test_kiwisdr_placeholder_locations_are_not_positions(gps):
    body = KIWISDR_ACTIVE.replace("gps=(44.395000, 8.956000)", f"gps={gps}")
    assert "reported_position" not in kiwisdr.parse(200, body.encode(), 5.0).details
    assert "reported_position" not in kiwisdr.parse(
        200, fixture("kiwisdr-1.711-default-location.status.txt"), 5.0).details


def test_kiwisdr_old_url_encoded_location_is_read():
    body = KIWISDR_ACTIVE.replace("gps=(44.395000, 8.956000)", "gps=(44.395000%2C%208.956000)")
    assert kiwisdr.parse(200, body.encode(), 5.0).details["reported_position"] == {"lat": 44.395, "lon": 8.956}


def test_kiwisdr_missing_settings_print_as_null_and_are_left_out():
    body = KIWISDR_ACTIVE.replace("loc=Genova, Italy", "loc=(null)").replace("antenna=Wellbrook loop", "antenna=(null)")
    details = kiwisdr.parse(200, body.encode(), 5.0).details
    assert "location" not in details and "antenna" not in details


def test_kiwisdr_unknown_status_word_is_offline():
    result = kiwisdr.parse(200, KIWISDR_ACTIVE.replace("status=active", "status=busy").encode(), 5.0)
    assert (result.status, result.error) == ("offline", "unknown status 'busy'")


@pytest.mark.parametrize("body", [b"", b"<html>not a kiwi</html>", KIWISDR_ACTIVE.encode()[:5], b"\xff\xfe\x00"])
def test_kiwisdr_truncated_or_garbage_is_offline(body):
    result = kiwisdr.parse(200, body, 5.0)
    assert result.status == "offline" and result.error == "status page has no status= line"


def test_kiwisdr_bad_values_are_left_out():
    body = "status=active\nusers=lots\ngps=(north, east)\nsnr=1\nbands=wide\nasl=1e999\n"
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
    assert describe_failure(aiohttp.ServerTimeoutError("x"), 5) == "timeout after 5 s"
    assert describe_failure(asyncio.TimeoutError(), 2.5) == "timeout after 2.5 s"
    refused = aiohttp.ClientConnectionError("Cannot connect")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert describe_failure(refused, 5) == "connection refused"
    dns = aiohttp.ClientConnectionError("Cannot connect to host x:80")
    dns.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert describe_failure(dns, 5) == "DNS lookup failed"
    tls = aiohttp.ClientConnectionError("Cannot connect")
    tls.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    assert describe_failure(tls, 5).startswith("TLS error")
    assert describe_failure(aiohttp.ServerDisconnectedError(), 5) == \
        "connection closed without a valid HTTP response"
    unreachable = aiohttp.ClientConnectionError("Cannot connect")
    unreachable.__cause__ = OSError(errno.ENETUNREACH, "Network is unreachable")
    assert describe_failure(unreachable, 5) == "network unreachable"


async def test_real_failures_read_as_their_reasons(targets):
    """What the probe client really raises, against real sockets on loopback."""
    from tests.fake_targets import refused_url

    async with probe_client(4) as client:
        refused = await websdr.probe(client, refused_url(), 2.0)
        closed = await websdr.probe(client, targets.url("p-close", "close"), 2.0)
        hanging = await websdr.probe(client, targets.url("p-hang", "hang"), 0.3)
    assert refused.error == "connection refused"
    assert closed.error == "connection closed without a valid HTTP response"
    assert hanging.error == "timeout after 0.3 s"


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


# -- the probes over real HTTP, against each release's paths -----------------------------------


@pytest.fixture(scope="module")
def targets():
    from tests.fake_targets import FakeTargets

    with FakeTargets() as fake:
        yield fake


@pytest.mark.parametrize("behaviour, status, users, version", [
    ("openwebrx", "online", 3, "v1.1.0-dev"),  # users from metrics.json
    ("openwebrx-0.20", "online", 1, "v0.20.3"),  # no metrics.json: users from metrics (JSON)
    ("openwebrx-0.17", "online", 4, "v0.17.3"),  # no status.json: the text status
    ("openwebrx-no-sdr", "degraded", 3, "v1.1.0-dev"),
])
async def test_openwebrx_probe_reads_what_each_release_serves(targets, behaviour, status, users, version):
    async with probe_client(4) as client:
        result = await openwebrx.probe(client, targets.url(f"p-{behaviour}", behaviour), 2.0)
    assert result.status == status
    assert result.details["users"] == users and result.details["sw_version"] == version
    assert result.response_time_ms is not None


async def test_openwebrx_probe_of_a_hostile_receiver_carries_no_non_finite_number(targets):
    async with probe_client(4) as client:
        result = await openwebrx.probe(client, targets.url("p-hostile", "openwebrx-hostile"), 2.0)
    assert result.status == "online"
    assert result.details == {"software": "OpenWebRX", "name": "x", "sw_version": "v1.1.0", "sdrs": 1}
    json.dumps(result.details, allow_nan=False)


def test_the_history_keeps_users_and_snr_where_the_kind_reports_them():
    from backend.kinds.fields import kept_figures

    kiwi = kiwisdr.parse(200, KIWISDR_ACTIVE.encode(), 30.0).details
    assert kept_figures(kiwi) == (kiwi["users"], float(kiwi["snr_db"]["all"]), 8, None, 12)  # no rise yet
    assert kept_figures({**kiwi, "adc_overloads_rise": 4})[3] == 4
    assert kept_figures({"users": 3, "users_max": 20}) == (3, None, 20, None, None)  # OpenWebRX: no SNR, no GPS
    assert kept_figures({}) == (None, None, None, None, None)
    assert kept_figures({"users": True, "snr_db": {"all": float("nan")}}) == (None, None, None, None, None)

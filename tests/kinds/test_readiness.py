"""Readiness (backend/kinds/readiness.py and each kind's rules) against what real
receivers answer: the KiwiSDR 1.711 captures and OpenWebRX's status.json."""

from __future__ import annotations

import json

import pytest

from backend.kinds import RECEIVERS, kind_of, kiwisdr, openwebrx
from backend.kinds.readiness import judge, of_entry
from tests.fake_targets import fixture


def kiwi_entry(state: str, **extra) -> dict:
    result = kiwisdr.parse(200, fixture(f"kiwisdr-1.711-{state}.status.txt"), 40.0)
    return {"status": result.status, "check_status": result.status, "details": {**result.details, **extra}}


def owrx_entry(document: dict, users: int | None = None) -> dict:
    result = openwebrx.parse(200, json.dumps(document).encode(), 40.0)
    details = {**result.details, **({"users": users} if users is not None else {})}
    return {"status": result.status, "check_status": result.status, "details": details}


OWRX = json.loads(fixture("openwebrx-1.1.0-dev.status.json"))  # profiles: 2 m (144–146 MHz), 70 cm


@pytest.mark.parametrize("state, expected, reasons", [
    ("active", "ready", []),
    ("offline-updating", "unusable", ["offline (updating or restarting)"]),
    ("password-all-channels", "unusable", ["every channel needs a password"]),
    ("no-gps-fix", "unusable", ["no GPS fix: its timestamps cannot be trusted"]),
    ("private-unregistered", "ready", []),  # unlisted, yet open to all
    ("default-location", "unusable", ["no GPS fix: its timestamps cannot be trusted"]),  # gps_good=0 too
])
def test_every_captured_kiwisdr_state(state, expected, reasons):
    readiness = of_entry(kiwisdr.readiness, kiwi_entry(state), 14.1)
    assert readiness["state"] == expected
    assert all(reason in readiness["reasons"] for reason in reasons), readiness


def test_kiwisdr_channels_gps_antenna_snr_adc_and_band():
    full = of_entry(kiwisdr.readiness, kiwi_entry("active", users=8), None)
    assert full == {"state": "unusable", "reasons": ["no free channel (8 of 8 in use)"]}
    stale_fix = kiwi_entry("active")
    stale_fix["details"]["gps_fixes_min"] = 0
    assert of_entry(kiwisdr.readiness, stale_fix, None)["reasons"] == ["no GPS fix in the last minute"]
    unplugged = of_entry(kiwisdr.readiness, kiwi_entry("active", antenna_connected=False,
                                                        snr_db={"all": 3, "hf": 2}), None)
    assert unplugged["reasons"] == ["antenna disconnected", "HF SNR 2 dB: no signal from the antenna"]
    clipping = of_entry(kiwisdr.readiness, kiwi_entry("active", adc_overloads_rise=4), None)
    assert clipping == {"state": "limited", "reasons": ["ADC overloading (4 since the last check)"]}
    assert of_entry(kiwisdr.readiness, kiwi_entry("active"), 145.5) == {
        "state": "unusable", "reasons": ["145.5 MHz is outside its bands (0–30 MHz)"]}


def test_openwebrx_profile_and_free_slot():
    assert of_entry(openwebrx.readiness, owrx_entry(OWRX, users=3), 145.5) == {"state": "ready", "reasons": []}
    assert of_entry(openwebrx.readiness, owrx_entry(OWRX, users=3), 438.5)["state"] == "ready"
    uncovered = of_entry(openwebrx.readiness, owrx_entry(OWRX, users=3), 14.1)
    assert uncovered["state"] == "unusable" and uncovered["reasons"][0].startswith("14.1 MHz is outside its bands")
    full = of_entry(openwebrx.readiness, owrx_entry(OWRX, users=20), 145.5)
    assert full == {"state": "unusable", "reasons": ["no free slot (20 of 20 in use)"]}
    no_sdr = of_entry(openwebrx.readiness, owrx_entry({**OWRX, "sdrs": []}, users=0), 145.5)
    assert no_sdr["state"] == "unusable" and "no SDR running: nobody can listen" in no_sdr["reasons"]


def test_a_receiver_not_answering_or_not_checked_is_unusable():
    gone = {"status": "offline", "check_status": "offline", "error_message": "connection refused", "details": {}}
    assert of_entry(openwebrx.readiness, gone, 145.5) == {"state": "unusable",
                                                          "reasons": ["not answering: connection refused"]}
    assert of_entry(openwebrx.readiness, {"status": "unknown"}, None)["reasons"] == ["not checked yet"]


def test_readiness_follows_the_confirmed_status_the_cards_show():
    """One failed check, not yet confirmed by the flap rule: the cards still say online, so
    readiness still counts it, and says why (issue 31: cards and coverage note in step)."""
    kept = owrx_entry(OWRX, users=3)
    once = {**kept, "status": "online", "check_status": "offline", "error_message": "connection refused",
            "details": {"bands_mhz": kept["details"]["bands_mhz"]}}
    judged = of_entry(openwebrx.readiness, once, 145.5)
    assert judged["state"] == "ready" and "its last check failed (connection refused)" in judged["reasons"][0]
    confirmed = {**once, "status": "offline"}
    assert of_entry(openwebrx.readiness, confirmed, 145.5)["state"] == "unusable"


def test_configured_bands_narrow_what_the_receiver_reports_and_say_so():
    """`frequency_ranges_mhz = [[430, 440]]` on a receiver reporting 2 m and 70 cm: not
    ready on 2 m, ready on 70 cm, and the reason names the configured bands."""
    entry = owrx_entry(OWRX, users=3)
    reported = entry["details"]["bands_mhz"]
    assert any(low <= 145.5 <= high for low, high in reported) and any(low <= 438.5 <= high for low, high in reported)
    on_2m = of_entry(openwebrx.readiness, entry, 145.5, [[430.0, 440.0]])
    assert on_2m["state"] == "unusable"
    assert on_2m["reasons"][0].startswith("145.5 MHz is outside its configured bands within those it reports (4")
    assert of_entry(openwebrx.readiness, entry, 438.5, [[430.0, 440.0]])["state"] == "ready"
    assert of_entry(openwebrx.readiness, entry, 145.5, None)["state"] == "ready"  # none configured: its own


def test_configured_bands_stand_alone_and_disagreeing_bands_are_unusable():
    online = {"status": "online", "check_status": "online", "details": {"title": "WebSDR"}}
    websdr = kind_of(RECEIVERS.name, type("T", (), {"kind": "websdr"})())
    assert of_entry(websdr.readiness, online, 7.1, [[7.0, 7.2]])["state"] == "ready"
    outside = of_entry(websdr.readiness, online, 14.1, [[7.0, 7.2]])
    assert outside == {"state": "unusable", "reasons": ["14.1 MHz is outside its configured bands (7–7.2 MHz)"]}
    entry = owrx_entry(OWRX, users=3)
    apart = of_entry(openwebrx.readiness, entry, None, [[1000.0, 1100.0]])
    assert apart["state"] == "unusable" and apart["reasons"][0].startswith("its configured bands (1000–1100 MHz) "
                                                                           "are outside those it reports")


def test_a_kind_without_bands_is_limited_for_a_frequency():
    online = {"status": "online", "check_status": "online", "details": {"title": "WebSDR"}}
    websdr = kind_of(RECEIVERS.name, type("T", (), {"kind": "websdr"})())
    assert of_entry(websdr.readiness, online, None) == {"state": "ready", "reasons": []}
    assert of_entry(websdr.readiness, online, 7.1)["state"] == "limited"


def test_the_worst_reason_decides_and_comes_first():
    assert judge([("limited", "a"), ("unusable", "b")]) == {"state": "unusable", "reasons": ["b", "a"]}
    assert judge([]) == {"state": "ready", "reasons": []}


def test_a_readiness_change_is_a_move_of_state_after_the_first_judgement():
    from backend.kinds.readiness import readiness_change
    ready, unusable = {"state": "ready", "reasons": []}, {"state": "unusable", "reasons": ["no GPS fix"]}
    assert readiness_change(None, ready) is None
    assert readiness_change({"status": "unknown", "readiness": unusable}, ready) is None  # its first check
    assert readiness_change({"status": "online", "readiness": ready}, unusable) == "ready"
    assert readiness_change({"status": "online", "readiness": unusable}, {**unusable, "reasons": ["x"]}) is None

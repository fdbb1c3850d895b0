"""KiwiSDR's own SNR measurements (`/snr`), read by a plain function. Shapes follow its
AJAX_SNR code (rx/rx_server_ajax.cpp) and SNR_meas (rx/rx_util.cpp); see
tests/fake_targets.py kiwisdr_snr."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from backend.kinds.kiwisdr import parse_snr_history
from tests.fake_targets import kiwisdr_snr

NOW = datetime(2026, 12, 2, 21, 40, tzinfo=timezone.utc).timestamp()


def entry(ts: str, snr: int, utc: int = 1, bands=None) -> dict:
    bands = bands or [(0, 30000, snr), (1800, 30000, snr - 2), (0, 1800, 5)]
    return {"ts": ts, "seq": 1, "utc": utc, "ihr": 1, "snr": [
        {"lo": lo, "hi": hi, "min": -130, "max": -50, "p50": -110, "p95": -110 + s, "snr": s} for lo, hi, s in bands]}


def test_the_ring_is_read_oldest_first_with_all_and_hf():
    found = parse_snr_history(kiwisdr_snr(NOW, hours=5), NOW)
    assert [m["snr_all_db"] for m in found] == [24, 23, 22, 21, 20]
    assert all(m["snr_hf_db"] == m["snr_all_db"] - 1 for m in found)
    assert found[-1]["noise_db"] == -115 and len(found[-1]["bands"]) == 6
    assert NOW * 1000 - 3_600_000 < found[-1]["ts_ms"] < NOW * 1000


def test_asctime_stamps_in_utc_and_in_the_receivers_local_time():
    utc = parse_snr_history(json.dumps([entry("Wed Dec  2 21:00:00 2026", 20)]).encode(), NOW)
    assert utc[0]["ts_ms"] == datetime(2026, 12, 2, 21, 0, tzinfo=timezone.utc).timestamp() * 1000
    # A receiver in UTC+1 that knows its zone: its newest stamp, 22:00 local, is 21:00 UTC.
    local = parse_snr_history(json.dumps([entry("Wed Dec  2 22:00:00 2026", 20, utc=0),
                                          entry("Wed Dec  2 21:00:00 2026", 19, utc=0)]).encode(), NOW)
    assert [m["ts_ms"] for m in local] == [datetime(2026, 12, 2, h, 0, tzinfo=timezone.utc).timestamp() * 1000
                                          for h in (20, 21)]


def test_a_transverter_setup_has_no_hf_figure():
    found = parse_snr_history(json.dumps([entry("Wed Dec  2 21:00:00 2026", 12,
                                                bands=[(144000, 146000, 12)])]).encode(), NOW)
    assert found[0]["snr_all_db"] == 12 and found[0]["snr_hf_db"] is None


def test_what_does_not_read_is_left_out_and_a_non_list_is_an_error():
    body = json.dumps([entry("Wed Dec  2 21:00:00 2026", 20), {"ts": "yesterday", "snr": []}, "x",
                       {"ts": "Wed Dec  2 20:00:00 2026", "snr": [{"lo": "a"}]},
                       entry("Wed Dec  2 19:00:00 2026", float("nan"))]).encode()
    assert [m["snr_all_db"] for m in parse_snr_history(body, NOW)] == [20]
    for bad in (b"{}", b"not json", b"[" * 100_000):
        with pytest.raises(ValueError):
            parse_snr_history(bad, time.time())

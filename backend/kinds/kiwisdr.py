"""KiwiSDR receivers: GET {url}status, plain `key=value` lines.

Shape from KiwiSDR v1.711's own AJAX_STATUS code (`rx/rx_server_ajax.cpp`; captures in
tests/fixtures/receivers/): keys in a fixed order, `status` active/offline/private,
`offline` yes/no, `auth=password` only when no channel is open without a password,
`users`/`users_max`, `gps=(lat, lon)` the *configured* location (the GPS fix is
`gps_good` satellites and `fixes`), `snr=all,HF`, `bands=low-high` in Hz, `asl`,
`loc`, `antenna`, `sw_version`, `uptime` in seconds, `adc_ov`, `ant_connected`.
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime, timezone
from typing import Any

from backend.kinds import fields
from backend.kinds.base import CheckSpec, TargetKind
from backend.kinds.probing import ProbeClient, ProbeResult, fetch, get_and_parse
from backend.kinds.readiness import LIMITED, UNUSABLE, free_slot_problems

_BANDS = re.compile(r"(\d+)-(\d+)")

UPDATING = "receiver reports offline (updating or restarting)"
PASSWORD_ONLY = "every channel needs a password"


def details_of(found: dict[str, str]) -> dict[str, Any]:
    """What the status page tells about the receiver, in the gateway's detail names."""
    details = fields.status_page_details(found, "KiwiSDR")
    if found.get("antenna"):
        details["antenna"] = found["antenna"]
    for key, name in (("uptime", "uptime_s"), ("adc_ov", "adc_overloads")):
        if fields.integer(found.get(key)) is not None:
            details[name] = fields.integer(found[key])
    if fields.integer(found.get("fixes_min")) is not None:  # 0 too: no fix in the last minute
        details["gps_fixes_min"] = fields.integer(found["fixes_min"])
    satellites = fields.integer(found.get("gps_good"))
    if satellites:  # a fix needs satellites; 0 or absent is no fix
        details["gps_fix"] = {"satellites": satellites, "fixes": fields.integer(found.get("fixes"))}
    if "ant_connected" in found:
        details["antenna_connected"] = found["ant_connected"] == "1"
    snr = [fields.integer(part) for part in found.get("snr", "").split(",")]
    if len(snr) == 2 and None not in snr:
        details["snr_db"] = {"all": snr[0], "hf": snr[1]}
    bands = _BANDS.fullmatch(found.get("bands", ""))
    if bands:
        details["bands_mhz"] = [[int(bands.group(1)) / 1e6, int(bands.group(2)) / 1e6]]
    if found.get("status", "").lower() == "private":
        details["listed"] = False  # not on the public directory; may still be open to all
    if found.get("auth") == "password":
        details["password_required"] = True
    if found.get("status", "").lower() == "offline" or found.get("offline", "no").lower() == "yes":
        details["offline"] = True
    return details


# KiwiSDR's own antenna check reads an HF SNR of 3 dB or less as no antenna.
NO_ANTENNA_SNR_DB = 3


def readiness(details: dict[str, Any]) -> list[tuple[str, str]]:
    """Why this KiwiSDR cannot take part in a TDoA run now (KiwiSDR's public TDoA service
    refuses receivers offline, password-only, without a GPS fix or a free channel)."""
    problems = []
    if details.get("offline"):
        problems.append((UNUSABLE, "offline (updating or restarting)"))
    if details.get("password_required"):
        problems.append((UNUSABLE, PASSWORD_ONLY))
    problems += free_slot_problems(details, "channel")
    fix = details.get("gps_fix")
    if not fix:
        problems.append((UNUSABLE, "no GPS fix: its timestamps cannot be trusted"))
    elif details.get("gps_fixes_min") == 0:
        problems.append((UNUSABLE, "no GPS fix in the last minute"))
    if details.get("antenna_connected") is False:
        problems.append((UNUSABLE, "antenna disconnected"))
    snr = details.get("snr_db")
    if isinstance(snr, dict) and isinstance(snr.get("hf"), int) and snr["hf"] <= NO_ANTENNA_SNR_DB:
        problems.append((UNUSABLE, f"HF SNR {snr['hf']} dB: no signal from the antenna"))
    if details.get("adc_overloads_rise"):
        problems.append((LIMITED, f"ADC overloading ({details['adc_overloads_rise']} since the last check)"))
    return problems


def parse(status_code: int, body: bytes, elapsed_ms: float) -> ProbeResult:
    """The status page to a receiver status. Pure; anything unexpected is offline with the reason."""
    if not 200 <= status_code < 300:
        return ProbeResult("offline", elapsed_ms, f"HTTP {status_code}")
    found = fields.key_values(body.decode("utf-8", errors="replace"))
    if "status" not in found:
        return ProbeResult("offline", elapsed_ms, "status page has no status= line")
    details = details_of(found)
    state = found["status"].lower()
    if state == "offline" or found.get("offline", "no").lower() == "yes":
        return ProbeResult("degraded", elapsed_ms, UPDATING, details)
    if state not in ("active", "private"):
        return ProbeResult("offline", elapsed_ms, f"unknown status {found['status']!r}", details)
    if details.get("password_required"):
        return ProbeResult("degraded", elapsed_ms, PASSWORD_ONLY, details)
    return ProbeResult("online", elapsed_ms, None, details)


async def probe(client: ProbeClient, url: str, timeout_s: float) -> ProbeResult:
    return await get_and_parse(client, url.rstrip("/") + "/status", timeout_s, parse)


async def check(client: ProbeClient, spec: CheckSpec) -> ProbeResult:
    return await probe(client, spec.url, spec.timeout_s)


# /snr: the receiver's own SNR measurements, JSON, a list of
#   {"ts": asctime text, "seq": n, "utc": 1 (ts is UTC) or 0 (the receiver's local time),
#    "ihr": hours between measurements, "snr": [{"lo", "hi" (kHz), "min", "max", "p50", "p95", "snr"}]}
# Shape from KiwiSDR's AJAX_SNR (rx/rx_server_ajax.cpp) and SNR_meas (rx/rx_util.cpp): a
# ring of 24 x 7 entries in ring order (not by time); per entry the bands in a fixed order,
# all of the receiver's span first, then HF (1.8 MHz to the top) and four sub-bands, bands
# with lo = hi = 0 left out (a transverter setup measures only the first). snr = p95 - p50.
SNR_MEASUREMENTS_MAX = 24 * 7
HF_FROM_KHZ = 1800
_BAND_FIELDS = ("lo", "hi", "min", "max", "p50", "p95", "snr")


def _whole(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and abs(value) < 1e9 else None


def parse_snr_history(body: bytes, now_s: float) -> list[dict[str, Any]]:
    """The receiver's own SNR measurements, oldest first, each {ts_ms, snr_all_db,
    snr_hf_db, noise_db, bands}. Entries that do not read are left out; a body that is
    not the list raises ValueError.

    A receiver that knows its time zone stamps its measurements in local time (`utc: 0`)
    without saying the zone. Its offset is taken as the whole hours by which its newest
    stamp is ahead of now, rounded up: exact for whole-hour zones when it measures hourly
    (the newest measurement is then less than an hour old)."""
    try:
        entries = json.loads(body)
    except RecursionError:  # nested beyond reason: not what KiwiSDR sends
        raise ValueError("nested too deeply") from None
    if not isinstance(entries, list):
        raise ValueError("not a list of measurements")
    found = []
    for entry in entries[:SNR_MEASUREMENTS_MAX * 2]:
        if not isinstance(entry, dict) or not isinstance(entry.get("ts"), str) or not isinstance(entry.get("snr"), list):
            continue
        try:
            stamp = datetime.strptime(entry["ts"].strip(), "%a %b %d %H:%M:%S %Y").replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        bands = [{name: _whole(band.get(name)) for name in _BAND_FIELDS} if isinstance(band, dict) else {"": None}
                 for band in entry["snr"][:16]]
        if not bands or any(None in band.values() for band in bands):
            continue  # one measurement: a band that does not read spoils the order of the rest
        first = bands[0]
        hf = next((b for b in bands[1:] if b["lo"] == HF_FROM_KHZ and b["hi"] == first["hi"]), None)
        found.append({"ts_ms": int(stamp.timestamp() * 1000), "utc": entry.get("utc") != 0,
                      "snr_all_db": first["snr"], "snr_hf_db": hf["snr"] if hf else None,
                      "noise_db": first["p50"], "bands": bands})
    local = [m for m in found if not m["utc"]]
    if local:
        ahead_h = math.ceil((max(m["ts_ms"] for m in local) / 1000 - now_s) / 3600)
        for m in local:
            m["ts_ms"] -= ahead_h * 3_600_000
    for m in found:
        del m["utc"]
    return sorted(found, key=lambda m: m["ts_ms"])


async def own_history(client: ProbeClient, url: str, timeout_s: float) -> list[dict[str, Any]]:
    """GET {url}snr: raises OSError/ValueError (or the client's errors) when it cannot be read."""
    answer, body, _ = await fetch(client, "GET", url.rstrip("/") + "/snr", timeout_s)
    if not 200 <= answer.status_code < 300:
        raise ValueError(f"HTTP {answer.status_code}")
    return parse_snr_history(body, time.time())


KIND = TargetKind("kiwisdr", "websdrs", check, label="KiwiSDR", detection_rank=2, readiness=readiness,
                  own_history=own_history)

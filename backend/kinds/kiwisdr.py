"""KiwiSDR receivers: GET {url}status, plain `key=value` lines.

Shape from KiwiSDR v1.711's own AJAX_STATUS code (`rx/rx_server_ajax.cpp`; captures in
tests/fixtures/receivers/): keys in a fixed order, `status` active/offline/private,
`offline` yes/no, `auth=password` only when no channel is open without a password,
`users`/`users_max`, `gps=(lat, lon)` the *configured* location (the GPS fix is
`gps_good` satellites and `fixes`), `snr=all,HF`, `bands=low-high` in Hz, `asl`,
`loc`, `antenna`, `sw_version`, `uptime` in seconds, `adc_ov`, `ant_connected`.
"""

from __future__ import annotations

import re
from typing import Any


from backend.kinds import fields
from backend.kinds.base import CheckSpec, TargetKind
from backend.kinds.probing import ProbeClient, ProbeResult, get_and_parse
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
    satellites = fields.integer(found.get("gps_good"))
    if satellites:  # a fix needs satellites; 0 or absent is no fix
        details["gps_fix"] = {"satellites": satellites, "fixes": fields.integer(found.get("fixes")),
                              "fixes_min": fields.integer(found.get("fixes_min"))}
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
    elif fix.get("fixes_min") == 0:
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


KIND = TargetKind("kiwisdr", "websdrs", check, readiness=readiness)

"""KiwiSDR receivers: GET {url}status, plain `key=value` lines.

Keys used: status (active/offline/private), offline (yes/no), name, users, users_max,
uptime (s), gps=(lat, lon), gps_good, fixes, snr=all,HF, adc_ov, ant_connected,
bands (Hz, low-high), sw_version, loc, antenna.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from backend.probes.base import ProbeResult, get_and_parse

_GPS = re.compile(r"^\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)$")


def _int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else None


def parse_fields(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[a-z_]+", key.strip()):
            fields[key.strip()] = value.strip()
    return fields


def parse(status_code: int, body: bytes, elapsed_ms: float) -> ProbeResult:
    """The status page to a receiver status. Pure; anything unexpected is offline with the reason."""
    if not 200 <= status_code < 300:
        return ProbeResult("offline", elapsed_ms, f"HTTP {status_code}")
    fields = parse_fields(body.decode("utf-8", errors="replace"))
    if "status" not in fields:
        return ProbeResult("offline", elapsed_ms, "status page has no status= line")
    details: dict[str, Any] = {"software": "KiwiSDR"}
    for key in ("name", "sw_version", "loc", "antenna"):
        if fields.get(key):
            details["location" if key == "loc" else key] = fields[key]
    for key, name in (("users", "users"), ("users_max", "users_max"), ("uptime", "uptime_s"),
                      ("fixes", "gps_fixes"), ("adc_ov", "adc_overloads")):
        if key in fields and _int(fields[key]) is not None:
            details[name] = _int(fields[key])
    gps = _GPS.match(fields.get("gps", ""))
    if gps:
        details["gps"] = {"lat": float(gps.group(1)), "lon": float(gps.group(2))}
    if "gps_good" in fields and _int(fields["gps_good"]) is not None:
        details["gps_good"] = _int(fields["gps_good"])
    if "ant_connected" in fields:
        details["antenna_connected"] = fields["ant_connected"] == "1"
    snr = [_int(part) for part in fields.get("snr", "").split(",")]
    if len(snr) == 2 and None not in snr:
        details["snr_db"] = {"all": snr[0], "hf": snr[1]}
    bands = re.fullmatch(r"(\d+)-(\d+)", fields.get("bands", ""))
    if bands:
        details["bands_mhz"] = [[int(bands.group(1)) / 1e6, int(bands.group(2)) / 1e6]]
    state = fields["status"].lower()
    if state == "offline" or fields.get("offline", "no").lower() == "yes":
        return ProbeResult("offline", elapsed_ms, "receiver reports offline", details)
    if state not in ("active", "private"):
        return ProbeResult("offline", elapsed_ms, f"unknown status {fields['status']!r}", details)
    if state == "private":
        details["private"] = True
    return ProbeResult("online", elapsed_ms, None, details)


async def probe(client: httpx.AsyncClient, url: str, timeout_s: float) -> ProbeResult:
    return await get_and_parse(client, url.rstrip("/") + "/status", timeout_s, parse)

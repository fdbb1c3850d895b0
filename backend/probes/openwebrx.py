"""OpenWebRX receivers: GET {url}status.json.

Fields used: receiver{name, admin, gps{lat, lon}, asl, location}, clients, max_clients,
sw_version, sdrs[{name, type, profiles[{name, center_freq, sample_rate}]}].
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from backend.probes.base import ProbeResult, get_and_parse


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def parse(status_code: int, body: bytes, elapsed_ms: float) -> ProbeResult:
    """status.json to a receiver status. Pure; anything unexpected is offline with the reason."""
    if not 200 <= status_code < 300:
        return ProbeResult("offline", elapsed_ms, f"HTTP {status_code}")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ProbeResult("offline", elapsed_ms, "status.json is not valid JSON")
    if not isinstance(document, dict) or not isinstance(document.get("receiver"), dict):
        return ProbeResult("offline", elapsed_ms, "status.json has no receiver object")
    receiver = document["receiver"]
    details: dict[str, Any] = {"software": "OpenWebRX"}
    if isinstance(receiver.get("name"), str):
        details["name"] = receiver["name"]
    if isinstance(receiver.get("location"), str):
        details["location"] = receiver["location"]
    if _number(receiver.get("asl")) is not None:
        details["altitude_m"] = _number(receiver["asl"])
    gps = receiver.get("gps")
    if isinstance(gps, dict) and _number(gps.get("lat")) is not None and _number(gps.get("lon")) is not None:
        details["gps"] = {"lat": _number(gps["lat"]), "lon": _number(gps["lon"])}
    if _number(document.get("clients")) is not None:
        details["users"] = int(document["clients"])
    if _number(document.get("max_clients")) is not None:
        details["users_max"] = int(document["max_clients"])
    if isinstance(document.get("sw_version"), str):
        details["sw_version"] = document["sw_version"]
    bands = _bands(document.get("sdrs"))
    if bands:
        details["bands_mhz"] = bands
    return ProbeResult("online", elapsed_ms, None, details)


def _bands(sdrs: Any) -> list[list[float]]:
    """Each profile's coverage, center ± half the sample rate, in MHz, merged and sorted."""
    spans = []
    for sdr in sdrs if isinstance(sdrs, list) else []:
        profiles = sdr.get("profiles") if isinstance(sdr, dict) else None
        for profile in profiles if isinstance(profiles, list) else []:
            if not isinstance(profile, dict):
                continue
            center, rate = _number(profile.get("center_freq")), _number(profile.get("sample_rate"))
            if center and rate:
                spans.append([round((center - rate / 2) / 1e6, 3), round((center + rate / 2) / 1e6, 3)])
    merged: list[list[float]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


async def probe(client: httpx.AsyncClient, url: str, timeout_s: float) -> ProbeResult:
    return await get_and_parse(client, url.rstrip("/") + "/status.json", timeout_s, parse)

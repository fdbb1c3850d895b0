"""OpenWebRX receivers (upstream 0.17 to 1.x, and OpenWebRX+ 1.2.x, which answers alike;
`fork_of` tells it where its answers allow).

What each release serves, from its source (jketterl/openwebrx, `owrx/http.py`,
`owrx/controllers/status.py`, `owrx/controllers/metrics.py`) and from captures of a
real server (tests/fixtures/receivers/):
- 0.18 and later: `GET status.json` answers
  `{"receiver": {name, admin, gps{lat, lon}, asl, location}, "max_clients", "version",
  "sdrs": [{name, type, profiles[{name, center_freq, sample_rate}]}]}`, with no user
  count. `gps` is the configured location (default lat 47, lon 19), not a fix. A
  receiver whose SDR failed still answers, with `"sdrs": []`.
- The listener count is in the metrics: `GET metrics.json` (1.0 and later) or
  `GET metrics` (JSON in 0.20, Prometheus text `openwebrx_users N` from 1.0), as
  `{"openwebrx": {"users": N}}`. Before 0.20 there is none.
- Before 0.18 there is no status.json, only a plain-text `GET status` of `key=value`
  lines (status, name, op_email, users, users_max, gps, asl, loc, sw_version).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from backend.events.envelope import decode_lenient
from backend.kinds import fields
from backend.kinds.base import CheckSpec, TargetKind
from backend.kinds.probing import ProbeClient, ProbeResult, describe_failure, fetch
from backend.kinds.readiness import UNUSABLE, free_slot_problems

NO_SDR = "no SDR running: nobody can listen"

# OpenWebRX+ (luarvique/openwebrx) serves the same status.json as upstream and names
# itself "OpenWebRX" too. What tells it apart in its answers: its version numbers, which
# go on from upstream's 1.2.1 at 1.2.6 (the fork's own owrx/version.py history; upstream's
# last release is 1.2.2), and metrics only its reporters register (SondeHub, AIS).
PLUS_FROM_VERSION = (1, 2, 6)
PLUS_ONLY_METRICS = ("sondehub", "aisreporter")
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def fork_of(version: str | None, metrics: dict[str, Any] | None = None) -> str:
    """"OpenWebRX+" when its answers show the fork, else "OpenWebRX"."""
    found = _VERSION.match(version or "")
    if found and tuple(int(part) for part in found.groups()) >= PLUS_FROM_VERSION:
        return "OpenWebRX+"
    if isinstance(metrics, dict) and any(name in metrics for name in PLUS_ONLY_METRICS):
        return "OpenWebRX+"
    return "OpenWebRX"
_PROMETHEUS_USERS = re.compile(rb"^openwebrx_users\s+(\d+(?:\.0+)?)\s*$", re.MULTILINE)


def parse(status_code: int, body: bytes, elapsed_ms: float) -> ProbeResult:
    """status.json to a receiver status. Pure; anything unexpected is offline with the reason."""
    if not 200 <= status_code < 300:
        return ProbeResult("offline", elapsed_ms, f"HTTP {status_code}")
    try:
        document = decode_lenient(body)
    except (ValueError, RecursionError):
        return ProbeResult("offline", elapsed_ms, "status.json is not valid JSON")
    if not isinstance(document, dict) or not isinstance(document.get("receiver"), dict):
        return ProbeResult("offline", elapsed_ms, "status.json has no receiver object")
    receiver = document["receiver"]
    details: dict[str, Any] = {"software": "OpenWebRX"}
    for key, name in (("name", "name"), ("location", "location")):
        if isinstance(receiver.get(key), str) and receiver[key]:
            details[name] = receiver[key]
    if fields.number(receiver.get("asl")) is not None:
        details["altitude_m"] = fields.number(receiver["asl"])
    gps = receiver.get("gps")
    reported = fields.location(gps.get("lat"), gps.get("lon")) if isinstance(gps, dict) else None
    if reported:
        details["reported_position"] = reported
    if fields.number(document.get("max_clients")) is not None:
        details["users_max"] = int(fields.number(document["max_clients"]))
    if isinstance(document.get("version"), str) and document["version"]:
        details["sw_version"] = document["version"]
        details["software"] = fork_of(document["version"])
    sdrs = document.get("sdrs")
    if isinstance(sdrs, list):
        details["sdrs"] = len(sdrs)
        bands = _bands(sdrs)
        if bands:
            details["bands_mhz"] = bands
        if not sdrs:
            return ProbeResult("degraded", elapsed_ms, NO_SDR, details)
    return ProbeResult("online", elapsed_ms, None, details)


def parse_status_text(status_code: int, body: bytes, elapsed_ms: float) -> ProbeResult:
    """The plain-text `status` of OpenWebRX before 0.18. Pure."""
    if not 200 <= status_code < 300:
        return ProbeResult("offline", elapsed_ms, f"HTTP {status_code}")
    found = fields.key_values(body.decode("utf-8", errors="replace"))
    if found.get("status") != "active":
        return ProbeResult("offline", elapsed_ms, "neither status.json nor a status page")
    return ProbeResult("online", elapsed_ms, None, fields.status_page_details(found, "OpenWebRX"))


def parse_users(body: bytes) -> int | None:
    """The listener count from a metrics answer: `{"openwebrx": {"users": N}}`, the flat
    `{"openwebrx.users": N}`, or the Prometheus line `openwebrx_users N`. Pure."""
    try:
        document = decode_lenient(body)
    except (ValueError, RecursionError):
        found = _PROMETHEUS_USERS.search(body)
        return int(float(found.group(1))) if found else None
    if not isinstance(document, dict):
        return None
    nested = document.get("openwebrx")
    value = nested.get("users") if isinstance(nested, dict) else document.get("openwebrx.users")
    users = fields.number(value)
    return int(users) if users is not None and users >= 0 else None


def metrics_document(body: bytes) -> dict[str, Any] | None:
    """metrics.json as a dict (its top-level names are the metric groups), else None."""
    try:
        document = decode_lenient(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _bands(sdrs: list) -> list[list[float]]:
    """Each profile's coverage, center ± half the sample rate, in MHz, merged and sorted."""
    spans = []
    for sdr in sdrs:
        profiles = sdr.get("profiles") if isinstance(sdr, dict) else None
        for profile in profiles if isinstance(profiles, list) else []:
            if not isinstance(profile, dict):
                continue
            center, rate = fields.number(profile.get("center_freq")), fields.number(profile.get("sample_rate"))
            if center and rate and center > 0 and rate > 0:
                spans.append([round((center - rate / 2) / 1e6, 3), round((center + rate / 2) / 1e6, 3)])
    merged: list[list[float]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def readiness(details: dict[str, Any]) -> list[tuple[str, str]]:
    """Why this OpenWebRX cannot take part now: no SDR running, or every slot taken."""
    problems = free_slot_problems(details, "slot")
    if details.get("sdrs") == 0:
        problems.append((UNUSABLE, NO_SDR))
    return problems


async def probe(client: ProbeClient, url: str, timeout_s: float) -> ProbeResult:
    """status.json (or the old text status), then the user count from the metrics; the
    whole check keeps to `timeout_s`. Metrics that fail change nothing but the count."""
    base = url.rstrip("/")
    deadline = asyncio.get_running_loop().time() + timeout_s

    def left() -> float:
        return max(0.001, deadline - asyncio.get_running_loop().time())

    try:
        response, body, elapsed = await fetch(client, "GET", base + "/status.json", timeout_s)
        if response.status_code == 404:
            response, body, _ = await fetch(client, "GET", base + "/status", left())
            return parse_status_text(response.status_code, body, elapsed)
    except Exception as exc:
        return ProbeResult("offline", None, describe_failure(exc, timeout_s))
    result = parse(response.status_code, body, elapsed)
    if result.status == "offline":
        return result
    for path in ("/metrics.json", "/metrics"):
        try:
            response, body, _ = await fetch(client, "GET", base + path, left())
        except Exception:
            break  # out of time or refused: the status stands without a count
        users = parse_users(body) if 200 <= response.status_code < 300 else None
        if users is not None:
            software = fork_of(result.details.get("sw_version"), metrics_document(body))
            return ProbeResult(result.status, result.response_time_ms, result.error,
                               {**result.details, "users": users, "software": software})
    return result


async def check(client: ProbeClient, spec: CheckSpec) -> ProbeResult:
    return await probe(client, spec.url, spec.timeout_s)


KIND = TargetKind("openwebrx", "websdrs", check, label="OpenWebRX", detection_rank=1, readiness=readiness)

"""Platform services: GET the configured health URL.

2xx in time is healthy; 2xx slower than the degraded threshold, or a body that says
degraded, is degraded; any other HTTP status is unhealthy; no HTTP answer at all
(refused, DNS, TLS, timeout) is unreachable.
"""

from __future__ import annotations

import functools
import json

from backend.kinds.base import CheckSpec, TargetKind, WhereField
from backend.kinds.probing import ProbeClient, ProbeResult, get_and_parse

_SAYS_DOWN = {"unhealthy", "down", "error", "fail", "failed", "critical"}


def parse(status_code: int, body: bytes, elapsed_ms: float, degraded_after_ms: float) -> ProbeResult:
    """A health endpoint's answer to a service status. Pure."""
    if not 200 <= status_code < 300:
        return ProbeResult("unhealthy", elapsed_ms, f"HTTP {status_code}")
    said = _reported_status(body)
    if said in _SAYS_DOWN:
        return ProbeResult("unhealthy", elapsed_ms, f"service reports {said}")
    if said == "degraded":
        return ProbeResult("degraded", elapsed_ms, "service reports degraded")
    if elapsed_ms > degraded_after_ms:
        return ProbeResult("degraded", elapsed_ms, f"slow: {elapsed_ms:.0f} ms (threshold {degraded_after_ms:.0f} ms)")
    return ProbeResult("healthy", elapsed_ms)


def _reported_status(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(document, dict) and isinstance(document.get("status"), str):
        return document["status"].strip().lower()
    return None


async def probe(client: ProbeClient, url: str, timeout_s: float, degraded_after_ms: float) -> ProbeResult:
    return await get_and_parse(client, url, timeout_s, functools.partial(parse, degraded_after_ms=degraded_after_ms),
                               down="unreachable")


async def check(client: ProbeClient, spec: CheckSpec) -> ProbeResult:
    return await probe(client, spec.url, spec.timeout_s, spec.degraded_after_ms)


KIND = TargetKind("http", "services", check, label="HTTP health endpoint",
                  where=WhereField("url", "Health URL", "http://host:8001/health"), detection_rank=1, default=True)

"""Classic websdr.org servers: reachability and response time from the main page."""

from __future__ import annotations

import re

from backend.kinds.base import CheckSpec, TargetKind
from backend.kinds.probing import ProbeClient, ProbeResult, get_and_parse

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def parse(status_code: int, body: bytes, elapsed_ms: float) -> ProbeResult:
    """The main page to a receiver status. Pure."""
    if not 200 <= status_code < 300:
        return ProbeResult("offline", elapsed_ms, f"HTTP {status_code}")
    if b"<" not in body[:4096]:
        return ProbeResult("offline", elapsed_ms, "main page is not HTML")
    details = {"software": "WebSDR"}
    title = _TITLE.search(body[:65536])
    if title:
        details["title"] = " ".join(title.group(1).decode("utf-8", errors="replace").split())[:200]
    return ProbeResult("online", elapsed_ms, None, details)


async def probe(client: ProbeClient, url: str, timeout_s: float) -> ProbeResult:
    return await get_and_parse(client, url, timeout_s, parse)


async def check(client: ProbeClient, spec: CheckSpec) -> ProbeResult:
    return await probe(client, spec.url, spec.timeout_s)


KIND = TargetKind("websdr", "websdrs", check, label="websdr.org", detection_rank=3)

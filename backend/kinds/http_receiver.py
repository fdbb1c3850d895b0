"""Anything else: plain HTTP reachability. HEAD, falling back to GET where HEAD is refused."""

from __future__ import annotations

from backend.kinds.base import CheckSpec, TargetKind
from backend.kinds.probing import ProbeClient, ProbeResult, describe_failure, fetch

HEAD_REFUSED = {405, 501}


def parse(status_code: int, elapsed_ms: float) -> ProbeResult:
    """Any answer below 400 is a reachable, working server. Pure."""
    if status_code < 400:
        return ProbeResult("online", elapsed_ms)
    return ProbeResult("offline", elapsed_ms, f"HTTP {status_code}")


async def probe(client: ProbeClient, url: str, timeout_s: float) -> ProbeResult:
    try:
        response, _, elapsed = await fetch(client, "HEAD", url, timeout_s)
        if response.status_code in HEAD_REFUSED:
            response, _, elapsed = await fetch(client, "GET", url, timeout_s)
    except Exception as exc:
        return ProbeResult("offline", None, describe_failure(exc, timeout_s))
    return parse(response.status_code, elapsed)


async def check(client: ProbeClient, spec: CheckSpec) -> ProbeResult:
    return await probe(client, spec.url, spec.timeout_s)


KIND = TargetKind("http", "websdrs", check, label="any HTTP server", detection_rank=9, default=True)

"""Push services: what nothing can probe (a cron job, a service behind NAT, a platform
component that reports on the bus) reports its own health, and is down, with the reason
"no report for 93 s", when none arrives within its `deadline_s`. Uptime Kuma calls
these push monitors, Gatus external endpoints.

Reports come through `POST /api/v1/push/{name}` (the `push` scope) or the platform's
feed (`service:health`, `system:comprehensive_health`: backend/feed/platform.py), in the
platform's own fields: `status` healthy | unhealthy | degraded, `response_time_ms`,
`error`. The poller judges each round from the latest one (`judge`); nothing connects
anywhere, so a push service has no URL."""

from __future__ import annotations

from typing import Any

from backend.kinds.base import TargetKind
from backend.kinds.probing import ProbeClient, ProbeResult


async def check(client: ProbeClient, spec: Any) -> ProbeResult:  # never probed: see judge
    return ProbeResult("unreachable", None, "a push service is judged from its reports, not probed")


def judge(report: dict[str, Any] | None, deadline_s: float, now_ms: int, since_ms: int) -> ProbeResult | None:
    """The check a push service's latest report amounts to now; `since_ms`: since when it
    has been waited for (the gateway's start, or the service's configuration). None: no
    report yet, and its deadline has not passed (still `unknown`)."""
    if report is None:
        waited_s = (now_ms - since_ms) / 1000
        if waited_s < deadline_s:
            return None
        return ProbeResult("unreachable", None, f"no report for {waited_s:.0f} s (its deadline is {deadline_s:g} s)")
    silent_s = (now_ms - report["received_ms"]) / 1000
    if silent_s > deadline_s:
        return ProbeResult("unreachable", None, f"no report for {silent_s:.0f} s (its deadline is {deadline_s:g} s)")
    error = report.get("error")
    reason = error or (None if report["status"] == "healthy" else f"it reports itself {report['status']}")
    return ProbeResult(report["status"], report.get("response_time_ms"), reason)


KIND = TargetKind("push", "services", check, label="push (reports itself)", where=None, reported=True,
                  response_label="reported response, ms",
                  config_problem=lambda target: None if getattr(target, "deadline_s", None)
                  else "a push service needs deadline_s: the longest it may go without a report")

"""Status values of monitored targets and the rules that combine them.

The shapes here are those of the REST answers (`/api/v1/system/status`,
`/api/v1/websdrs/health`) and of the `services:health` / `websdrs:status` events.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_STATUSES = ("healthy", "degraded", "unhealthy", "unreachable", "unknown")
WEBSDR_STATUSES = ("online", "degraded", "offline", "unknown")

# The one rule of what counts as down, for display, flap suppression, history and
# uptime. `degraded` is up: the target answers (a service slowly or saying so; a
# receiver with no SDR running, every channel behind a password, or updating), so it
# counts as up for uptime and a move between healthy/online and degraded is no outage;
# pages and summaries name it apart. `unknown` (not yet checked) is neither.
DOWN_STATUSES = frozenset({"unhealthy", "unreachable", "offline"})


def is_down(status: str | None) -> bool:
    return status in DOWN_STATUSES


@dataclass
class Streak:
    """The one flap rule: consecutive failed and good results of one target. The display
    moves a target's status after `down_after`/`up_after` of them (backend/monitor/
    debounce.py); an alert opens and resolves after its own thresholds of them
    (backend/alerting/rules.py `decide`). A target that flaps never builds either."""

    failures: int = 0
    successes: int = 0

    def observe(self, down: bool) -> None:
        if down:
            self.failures, self.successes = self.failures + 1, 0
        else:
            self.failures, self.successes = 0, self.successes + 1

    def reset(self) -> None:
        self.failures = self.successes = 0


def is_up(status: str | None) -> bool:
    return status is not None and status != "unknown" and status not in DOWN_STATUSES


def overall_status(statuses: list[str]) -> str:
    """healthy when every service is; unhealthy when none answers at all; degraded otherwise.

    A service not yet checked (`unknown`) keeps the whole from being called healthy, but
    does not by itself make it unhealthy: a gateway that has just started is not down.
    """
    if all(s == "healthy" for s in statuses):
        return "healthy"
    if all(s in ("unhealthy", "unreachable") for s in statuses):
        return "unhealthy"
    return "degraded"

"""The parts underneath the gateway: its storage (the database, the disk) and, with
several gateways, its event bus (Redis). Each is watched from what the gateway met last
(`Database.unavailable`, the bus's connection), never by a probe of its own; one down
for `[connectivity] parts_grace_s` (a blip, a failover, is not worth a message) is the
gateway's own problem (AlertEngine.part_problem): shown on every page
and /healthz at once, told once, resolved once."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

WATCH_EVERY_S = 1.0  # how often the parts' last known state is looked at; grace: [connectivity] parts_grace_s


class PartWatch:
    """One part's state over time: down since when, and whether it has been told."""

    def __init__(self, part: str, name: str, reason: Callable[[], str | None]) -> None:
        self.part, self.name, self._reason = part, name, reason
        self.down_since: float | None = None
        self.raised = False

    def step(self, now: float, grace_s: float) -> tuple[bool, str | None] | None:
        """(raise it?, reason) when something is to be told now, else None."""
        reason = self._reason()
        if reason is None:
            self.down_since = None
            if self.raised:
                self.raised = False
                return False, None
            return None
        if self.down_since is None:
            self.down_since = now
        if not self.raised and now - self.down_since >= grace_s:
            self.raised = True
            return True, reason
        return None


def watches(runtime: Any) -> list[PartWatch]:
    found = [PartWatch("storage", "storage (the database)", lambda: runtime.database.unavailable)]
    if runtime.event_bus_state() != "local":
        found.append(PartWatch("event-bus", "event bus (Redis)",
                               lambda: "Redis does not answer" if runtime.event_bus_state() == "down" else None))
    return found


async def watch(runtime: Any, clock: Callable[[], float] = time.monotonic) -> None:
    parts = watches(runtime)
    lease = runtime.monitor.lease
    while True:
        await asyncio.sleep(WATCH_EVERY_S)
        for part in parts:
            told = part.step(clock(), runtime.settings.config.connectivity.parts_grace_s)
            if told is not None:
                may_tell = lease.held or getattr(lease, "lost_to_redis", False)
                runtime.alerts.part_problem(part.part, part.name, told[1], may_tell)

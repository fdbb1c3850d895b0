"""Flap suppression: a target changes state only after N consecutive results that agree.

Statuses fall in two classes, up and down (`backend.kinds.status.is_down`). Moving into the other class takes
`down_after` (default 2) or `up_after` (default 1) consecutive results of that class;
a move within a class (healthy to degraded, unhealthy to unreachable) and the first
result after `unknown` are taken at once. Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.kinds.status import Streak, is_down


@dataclass
class Debouncer:
    status: str = "unknown"
    down_after: int = 2
    up_after: int = 1
    streak: Streak = field(default_factory=Streak)  # the one flap rule (backend/kinds/status.py)

    def observe(self, result: str) -> bool:
        """Feed one result; True when the status changed."""
        self.streak.observe(is_down(result))
        if self.status == "unknown" or is_down(result) == is_down(self.status):
            return self._adopt(result)
        moved = (self.streak.failures >= self.down_after if is_down(result)
                 else self.streak.successes >= self.up_after)
        return self._adopt(result) if moved else False

    def _adopt(self, result: str) -> bool:
        changed = result != self.status
        self.status = result
        return changed

"""Flap suppression: a target changes state only after N consecutive results that agree.

Statuses fall in two classes, up and down (`backend.kinds.status.is_down`). Moving into the other class takes
`down_after` (default 2) or `up_after` (default 1) consecutive results of that class;
a move within a class (healthy to degraded, unhealthy to unreachable) and the first
result after `unknown` are taken at once. Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.kinds.status import is_down


@dataclass
class Debouncer:
    status: str = "unknown"
    down_after: int = 2
    up_after: int = 1
    _streak: int = 0  # consecutive results in the class opposite to the current status

    def observe(self, result: str) -> bool:
        """Feed one result; True when the status changed."""
        if self.status == "unknown" or is_down(result) == is_down(self.status):
            self._streak = 0
            return self._adopt(result)
        self._streak += 1
        needed = self.down_after if is_down(result) else self.up_after
        if self._streak >= needed:
            self._streak = 0
            return self._adopt(result)
        return False

    def _adopt(self, result: str) -> bool:
        changed = result != self.status
        self.status = result
        return changed

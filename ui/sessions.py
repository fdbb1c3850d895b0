"""Closed tabs' page sessions, collected soon after NiceGUI deletes them.

NiceGUI's elements hold one another in reference cycles, so a deleted session is freed
only by the cyclic garbage collector's full pass, and CPython runs that pass rarely on a
large heap (once the long-lived objects have grown by a quarter; rarer still with the
server's own policy, backend/serving/gcpolicy.py, which keeps full passes out of the
fan-out's way). Left to it, a gateway whose tabs open and close keeps tens of MiB of
dead sessions at a time, and the allocator keeps that high-water mark as RSS for good:
about 0.7 MiB an open of a receiver's page, measured (issue 33, docs/reliability.md). So
a full pass runs a little after sessions are deleted: one for a burst of closes, at most
one every `min_interval_s`.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

COLLECT_AFTER_S = 1.0  # a burst of closes (a reload, a window of tabs) is one pass
MIN_INTERVAL_S = 10.0  # a pass costs 16–109 ms at 1,000 receivers: at most this often


class SessionSweeper:
    def __init__(self, collect: Callable[[], object] = gc.collect, clock: Callable[[], float] = time.monotonic,
                 after_s: float = COLLECT_AFTER_S, min_interval_s: float = MIN_INTERVAL_S) -> None:
        self._collect, self._clock = collect, clock
        self.after_s, self.min_interval_s = after_s, min_interval_s
        self._pending: asyncio.Task | None = None
        self._last_at = float("-inf")
        self.passes = 0
        self.last_pass_ms: float | None = None

    def session_deleted(self) -> None:
        """NiceGUI deleted a session: a pass soon, unless one is already due."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # deleted outside the server's loop (its shutdown): nothing to keep small
            return
        if self._pending is None or self._pending.done():
            self._pending = loop.create_task(self._pass_soon(), name="collect closed sessions")

    def wait_s(self) -> float:
        return max(self.after_s, self._last_at + self.min_interval_s - self._clock())

    async def _pass_soon(self) -> None:
        await asyncio.sleep(self.wait_s())
        started = time.perf_counter()
        self._collect()
        self.last_pass_ms = round((time.perf_counter() - started) * 1000, 1)
        self._last_at = self._clock()
        self.passes += 1

    def figures(self) -> dict[str, Any]:
        return {"collections_after_closed_tabs": self.passes, "last_collection_ms": self.last_pass_ms}

    def stop(self) -> None:
        if self._pending is not None:
            self._pending.cancel()

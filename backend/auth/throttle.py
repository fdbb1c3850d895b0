"""Failed logins and failed token checks, counted per client address.

After `limit` failures within `window_s`, the address is refused (429, Retry-After)
until `block_s` has passed. Pure apart from the injected clock; bounded in memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Callable

MAX_ADDRESSES = 100_000  # the oldest address is forgotten beyond this


class Throttle:
    def __init__(self, limit: int = 10, window_s: float = 60.0, block_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.block_s = limit, window_s, block_s
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._blocked_until: dict[str, float] = {}

    def retry_after(self, address: str) -> int:
        """Seconds the address must wait, or 0 when it may try."""
        until = self._blocked_until.get(address)
        if until is None:
            return 0
        left = until - self._clock()
        if left <= 0:
            del self._blocked_until[address]
            return 0
        return max(1, round(left))

    def failed(self, address: str) -> None:
        now = self._clock()
        times = self._failures.pop(address, None) or deque()
        times.append(now)
        while times and times[0] < now - self.window_s:
            times.popleft()
        self._failures[address] = times
        if len(times) >= self.limit:
            self._blocked_until[address] = now + self.block_s
            times.clear()
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

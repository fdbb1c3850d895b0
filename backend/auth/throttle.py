"""Failed attempts, counted per key, and the login rule built on them. Pure apart from
the injected clock; bounded in memory.

`Throttle`: after `limit` failures of one key within `window_s`, the key is refused
until `block_s` has passed.

`LoginThrottle`: failed password logins are counted per account and address together,
tightly, so one script that guesses cannot lock out a colleague at the next desk behind
the same NAT; and per address and per account alone, loosely, so guesses spread over
many accounts, or over many addresses, are still slowed.

API tokens are not throttled this way: they are random and long, so guessing is useless.
The guard counts failed token checks per address only to slow and log them, and never
refuses a valid token because of someone else's failures (backend/auth/guard.py).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Callable

MAX_KEYS = 100_000  # the oldest key is forgotten beyond this


class Throttle:
    def __init__(self, limit: int = 10, window_s: float = 60.0, block_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.block_s = limit, window_s, block_s
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._blocked_until: dict[str, float] = {}

    def retry_after(self, key: str) -> int:
        """Seconds the key must wait, or 0 when it may try."""
        until = self._blocked_until.get(key)
        if until is None:
            return 0
        left = until - self._clock()
        if left <= 0:
            del self._blocked_until[key]
            return 0
        return max(1, round(left))

    def failed(self, key: str) -> None:
        now = self._clock()
        times = self._failures.pop(key, None) or deque()
        times.append(now)
        while times and times[0] < now - self.window_s:
            times.popleft()
        self._failures[key] = times
        if len(times) >= self.limit:
            self._blocked_until[key] = now + self.block_s
            times.clear()
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)


class LoginThrottle:
    PAIR_LIMIT = 10  # one account from one address
    ADDRESS_LIMIT = 100  # any accounts from one address (a control room behind one NAT)
    ACCOUNT_LIMIT = 50  # one account from any addresses (guesses spread over a botnet)

    def __init__(self, window_s: float = 60.0, block_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pair = Throttle(self.PAIR_LIMIT, window_s, block_s, clock)
        self.address = Throttle(self.ADDRESS_LIMIT, window_s, block_s, clock)
        self.account = Throttle(self.ACCOUNT_LIMIT, window_s, block_s, clock)

    def retry_after(self, account: str, address: str) -> int:
        return max(self.pair.retry_after(f"{account}\n{address}"), self.address.retry_after(address),
                   self.account.retry_after(account))

    def failed(self, account: str, address: str) -> None:
        self.pair.failed(f"{account}\n{address}")
        self.address.failed(address)
        self.account.failed(account)

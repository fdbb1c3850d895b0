"""A log line that anyone can cause (a refused Host, a made-up sign-in callback) is
written at most once every few seconds, with how many were left out since: a flood of
requests must not flood the log, nor block a process whose output nobody reads."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable


class SparseLog:
    def __init__(self, logger: logging.Logger, every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger, self.every_s, self._clock = logger, every_s, clock
        self._last = -every_s
        self.left_out = 0

    def warning(self, message: str, *args: Any) -> None:
        now = self._clock()
        if now - self._last < self.every_s:
            self.left_out += 1
            return
        more = f" (and {self.left_out} more since the last line)" if self.left_out else ""
        self._logger.warning(message + "%s", *args, more)
        self._last, self.left_out = now, 0

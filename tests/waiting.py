"""The one way tests wait for something that happens elsewhere (a process, a socket, a
round): ask until it is so, within a limit. Never a bare sleep that hopes it is enough."""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 15, interval: float = 0.1) -> T:
    """Ask `condition` until it returns something true; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


async def eventually(condition: Callable[[], T | Awaitable[T]], timeout: float = 15, interval: float = 0.05) -> T:
    """`wait_for` inside an event loop: the loop goes on between the questions."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError("condition not met in time")

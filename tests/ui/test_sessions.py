"""Closed tabs' sessions are collected soon (ui/sessions.py): a burst of closes is one
full pass, and passes are at least `min_interval_s` apart. The soak
(tests/faults/test_soak.py) shows what it is for: without it, RSS grows with each
receiver's page opened and closed."""

from __future__ import annotations

import asyncio

from ui.sessions import SessionSweeper


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_of_closed_sessions_is_one_pass():
    passes: list[float] = []
    clock = Clock()
    sweeper = SessionSweeper(collect=lambda: passes.append(clock.now), clock=clock, after_s=0)
    for _ in range(5):
        sweeper.session_deleted()
    await sweeper._pending
    assert passes == [100.0]
    assert sweeper.figures()["collections_after_closed_tabs"] == 1
    assert sweeper.figures()["last_collection_ms"] is not None


async def test_passes_are_min_interval_apart():
    clock = Clock()
    sweeper = SessionSweeper(collect=lambda: 0, clock=clock, after_s=0, min_interval_s=10)
    assert sweeper.wait_s() == 0  # nothing collected yet: at once
    sweeper.session_deleted()
    await sweeper._pending
    clock.now += 3
    assert sweeper.wait_s() == 7  # the next pass waits out the interval
    clock.now += 20
    assert sweeper.wait_s() == 0


async def test_a_close_during_a_wait_joins_it():
    sweeper = SessionSweeper(collect=lambda: 0, after_s=0.05)
    sweeper.session_deleted()
    first = sweeper._pending
    sweeper.session_deleted()
    assert sweeper._pending is first
    await asyncio.wait_for(first, 5)
    assert sweeper.passes == 1

"""The hand-off of events between the hubs of all gateway processes.

A bus stamps each published event (sequence number, timestamp, epoch) and delivers it
to every attached hub, in seq order. `LocalBus` is the single-process bus. A Redis bus
(several processes) implements the same interface: the sequence counter and the epoch
then live in Redis, so nothing outside this module may assume one process.
"""

from __future__ import annotations

import abc
import secrets
from typing import Any, Callable

from backend.events.envelope import Envelope
from backend.timefmt import utc_now_iso

Deliver = Callable[[Envelope], None]


class BusUnavailable(Exception):
    """The event log cannot be reached (Redis down): nothing was appended."""


class StaleLeader(Exception):
    """An event carried the fencing token of a poller that is no longer the leader."""


class Bus(abc.ABC):
    """Stamps events and delivers them to every process's hub."""

    epoch: str

    @abc.abstractmethod
    def attach(self, deliver: Deliver, restart: Callable[[], None] | None = None) -> None:
        """Register the local hub's delivery function (called in seq order, on the event loop)
        and what to call when the log starts over in a new epoch (a shared log only)."""

    @abc.abstractmethod
    async def publish(self, event: str, data: Any, fence: str | None = None, once: str | None = None) -> Envelope | None:
        """Stamp and deliver an event. `fence`: the poller's fencing token
        (backend/cluster/leader.py); an event with a stale one raises StaleLeader. `once`: an
        idempotency key (a stored record's kind and id): when the shared log has an
        event with that key already (another gateway drained the same outbox row), nothing
        is appended and None is returned. One process needs none: its outbox never
        publishes a row twice."""

    @abc.abstractmethod
    def last_seq(self) -> int:
        """The seq of the last event delivered to this process."""

    async def latest_states(self) -> list[Envelope]:
        """The latest event of each state topic kept by a shared log (for a process that
        joins after the log was trimmed past them). One process: none beyond its own."""
        return []

    async def start(self) -> None:
        """Open connections, if any."""

    async def stop(self) -> None:
        """Close connections, if any."""


class LocalBus(Bus):
    """One process: a counter and a direct call."""

    def __init__(self, epoch: str | None = None) -> None:
        self.epoch = epoch or secrets.token_hex(8)
        self._seq = 0
        self._deliver: list[Deliver] = []

    def attach(self, deliver: Deliver, restart: Callable[[], None] | None = None) -> None:
        self._deliver.append(deliver)  # one process: the epoch never changes

    async def publish(self, event: str, data: Any, fence: str | None = None, once: str | None = None) -> Envelope:
        self._seq += 1  # one process has one poller: no fencing
        envelope = Envelope.make(event, data, utc_now_iso(), self._seq, self.epoch)
        for deliver in self._deliver:
            deliver(envelope)
        return envelope

    def last_seq(self) -> int:
        return self._seq

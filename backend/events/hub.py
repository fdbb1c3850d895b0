"""The hub: the one place every event enters and every consumer reads from.

It keeps the latest value of each state topic and a bounded replay buffer, and calls
its subscribers (the /ws/updates manager, the pages, storage, alerts) for each event.
Subscribers are plain functions called on the event loop: they must not block and
must not await (a broadcast never waits for a slow consumer).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from backend.events.bus import Bus
from backend.events.envelope import Envelope
from backend.events.topics import ALL_TOPICS, STATE_TOPICS, WILDCARD, passes_through
from backend.timefmt import utc_now_iso

log = logging.getLogger(__name__)

Subscriber = Callable[[Envelope], None]


class UnknownTopic(ValueError):
    pass


@dataclass(frozen=True)
class Since:
    """A resume point: the last event a client has, in a given epoch."""

    epoch: str
    seq: int


@dataclass(frozen=True)
class Replay:
    """What a client resuming from `since` should be sent.

    recovered: every event of the asked topics after `since` is in `events`, in order.
    Otherwise `events` holds the latest value of each asked state topic instead, and the
    client knows it may have a gap in the stream topics.
    """

    recovered: bool
    events: list[Envelope]
    more: bool = False


def topic_matches(topics: frozenset[str], event: str) -> bool:
    return WILDCARD in topics or event in topics


class Hub:
    def __init__(self, bus: Bus, initial_state: dict[str, Any], replay_size: int = 10_000,
                 passed: tuple[str, ...] = (), replay_bytes: int = 32 * 1024 * 1024) -> None:
        self._bus = bus
        # The platform's own events passed through as they came ([feed] pass_through): stream
        # topics of their own names (backend/events/topics.py `passes_through`).
        self.passed = passed
        # The replay window: the newest events, at most `replay_size` of them and at most
        # `replay_bytes` of their wire form (the latest value of each state topic is kept
        # apart, in _latest, whatever leaves the window).
        self._buffer: deque[Envelope] = deque()
        self._replay_size, self._replay_bytes = replay_size, replay_bytes
        self._buffer_bytes = 0
        self._evicted_upto = 0  # seq of the newest event that has left the buffer
        self._subscribers: list[Subscriber] = []
        self.log_restarted: list[Callable[[], None]] = []  # called when a new epoch begins
        self.events_published = 0
        started = utc_now_iso()
        # Seq 0: the configured targets, all `unknown`, before any check. Not an event.
        self._latest: dict[str, Envelope] = {
            topic: Envelope.make(topic, initial_state.get(topic, {}), started, 0, bus.epoch) for topic in STATE_TOPICS
        }
        bus.attach(self._deliver, self.restart_log)

    @property
    def bus(self) -> Bus:
        return self._bus

    async def join(self) -> None:
        """Start the bus, then take from it any state newer than this hub's (a shared log
        trimmed past the last status round still has its latest values)."""
        await self._bus.start()
        for env in await self._bus.latest_states():
            if env.event in STATE_TOPICS and env.seq > self._latest[env.event].seq:
                self._latest[env.event] = env

    def restart_log(self) -> None:
        """The shared log was lost (a new epoch): nothing before it can be replayed."""
        self._buffer.clear()
        self._buffer_bytes = 0
        self._evicted_upto = 0
        for listener in list(self.log_restarted):
            listener()

    @property
    def epoch(self) -> str:
        return self._bus.epoch

    @property
    def last_seq(self) -> int:
        return self._bus.last_seq()

    async def publish(self, event: str, data: Any, fence: str | None = None, once: str | None = None) -> Envelope | None:
        """The only way an event enters. `fence`, `once`: see Bus.publish."""
        if event not in ALL_TOPICS and not passes_through(event, self.passed):
            raise UnknownTopic(event)
        return await self._bus.publish(event, data, fence, once)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` for every event from now on; returns the function that stops it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def latest(self, topic: str) -> Envelope:
        return self._latest[topic]

    def latest_values(self, topics: frozenset[str]) -> list[Envelope]:
        """The latest event of each asked state topic, oldest first."""
        chosen = [env for topic, env in self._latest.items() if topic_matches(topics, topic)]
        return sorted(chosen, key=lambda env: env.seq)

    def replay(self, topics: frozenset[str], since: Since | None, limit: int | None = None,
               max_bytes: int | None = None) -> Replay:
        """Events of `topics` after `since`, or the latest values when that cannot be done.
        `limit` and `max_bytes` (of their wire form) bound a page; `more` says one follows."""
        if since is None or not self._can_resume(since):
            return Replay(recovered=False, events=self.latest_values(topics))
        events: list[Envelope] = []
        size = 0
        for env in self._after(since.seq):
            if topic_matches(topics, env.event):
                size += len(env.wire)
                if (limit is not None and len(events) >= limit) or (max_bytes is not None and events
                                                                     and size > max_bytes):
                    return Replay(recovered=True, events=events, more=True)
                events.append(env)
        return Replay(recovered=True, events=events)

    def _can_resume(self, since: Since) -> bool:
        return since.epoch == self.epoch and self._evicted_upto <= since.seq <= self.last_seq

    def _after(self, seq: int) -> Iterable[Envelope]:
        # Walk back from the newest: resumes are usually from a recent point.
        newer: list[Envelope] = []
        for env in reversed(self._buffer):
            if env.seq <= seq:
                break
            newer.append(env)
        return reversed(newer)

    def _deliver(self, env: Envelope) -> None:
        self.events_published += 1
        if not self._buffer and env.seq - 1 > self._evicted_upto:
            # Joined a shared log mid-epoch (backend/events/redis_bus.py): what came before the
            # first event this hub has cannot be replayed from here.
            self._evicted_upto = env.seq - 1
        self._buffer.append(env)
        self._buffer_bytes += len(env.wire)
        while len(self._buffer) > 1 and (len(self._buffer) > self._replay_size
                                         or self._buffer_bytes > self._replay_bytes):
            gone = self._buffer.popleft()
            self._buffer_bytes -= len(gone.wire)
            self._evicted_upto = gone.seq
        if env.event in STATE_TOPICS:
            self._latest[env.event] = env
        for subscriber in list(self._subscribers):
            try:
                subscriber(env)
            except Exception:  # one broken consumer must not starve the others
                log.exception("hub subscriber %r failed on %s #%d", subscriber, env.event, env.seq)

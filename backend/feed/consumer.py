"""The platform's RabbitMQ feed (`[feed]`): the `heimdall.events` topic exchange read
into this gateway, each message becoming what backend/feed/platform.py says.

Why aio-pika: the gateway is one asyncio process, and aio-pika (on aiormq, both kept by
the same maintainers, typed, releases through 2026) is the asyncio AMQP 0-9-1 client
with publisher confirms, per-channel QoS and explicit acknowledgements. kombu, the
platform's own client, is synchronous: its consumer runs in a thread and hands every
message across to the loop (bench/feed.py measures that way beside this one).

The rules:
- our queue is durable and bound with `[feed] bindings`; the exchange (non-durable, the
  platform declares it on each publish) and the queue are declared again at every
  connect, so a broker restarted empty works again;
- a message is acknowledged only once what it became is kept (stored, published through
  the outbox, its identity noted in `feed_handled`); a redelivered one (its AMQP
  message_id, else a hash of its body) is acknowledged and not counted twice, on any
  gateway of a cluster (the table is shared);
- a message that cannot be used goes to `<queue>.rejected` with its reason in the
  `x-heimdall-reason` header, is counted, and logged once a minute per kind of reason;
- prefetch is bounded: a flood waits in RabbitMQ, not in our memory;
- when the broker is away the gateway serves on: the state says why, reconnects back off
  from 1 s up to 30 s, and a FEED PROBLEM alert is raised after `alert_after_s`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from backend.feed import platform
from backend.kinds import push_services
from backend.safety.redact import redact_text, redact_url
from backend.safety.sparse_log import SparseLog

log = logging.getLogger(__name__)

# Again soon: the platform's exchange is not durable, so while we are not bound whatever
# it publishes goes to no queue and is lost (a broker restart drops our binding with the
# exchange). A refused connection costs nothing; refused credentials wait longer, since
# trying again will not change them and each try is a line in the broker's log.
BACKOFF_S = (0.5, 1, 2)
REFUSED_CREDENTIALS_BACKOFF_S = 30


def retry_after(attempt: int, exc: BaseException | None) -> float:
    """Seconds before connect attempt `attempt + 1` (0: the first retry)."""
    if isinstance(exc, aio_pika.exceptions.ProbableAuthenticationError):
        return REFUSED_CREDENTIALS_BACKOFF_S
    return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]

CONNECT_TIMEOUT_S = 10
HANDLED_KEPT_MS = 7 * 86_400_000  # a message's identity is remembered this long (redeliveries come sooner)
STATE_EVERY_S = 5.0  # the queue's depth is asked this often
RECENT_IDENTITIES = 100_000  # handled messages remembered in memory (redeliveries of what only passes through)


@dataclass
class FeedState:
    """What the System page, /metrics and the API say of the feed."""

    state: str = "connecting"  # connecting | connected
    reason: str | None = None  # why it is not connected
    since_ms: int = 0  # in this state since
    last_heard_ms: int | None = None  # the last message
    queue_depth: int | None = None
    messages: Counter = field(default_factory=Counter)  # (event, outcome) -> count
    recent: deque = field(default_factory=lambda: deque(maxlen=100_000))  # monotonic time of each message

    def per_minute(self, now: float) -> int:
        while self.recent and now - self.recent[0] > 60:
            self.recent.popleft()
        return len(self.recent)

    def as_dict(self, now_ms: int) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason, "since_ms": self.since_ms,
                "last_heard_ms": self.last_heard_ms, "queue_depth": self.queue_depth,
                "messages_per_minute": self.per_minute(time.monotonic()),
                "messages": [{"event": e, "outcome": o, "count": n} for (e, o), n in sorted(self.messages.items())]}


def counted_event(event: str | None, pass_through: list[str]) -> str:
    """The event label of a counted message: a name the gateway knows, or "other" (names
    come from outside: the label set stays bounded)."""
    if event in platform.MAPPED_EVENTS:
        return event
    return "pass_through" if event and any(fnmatchcase(event, p) for p in pass_through) else "other"


@dataclass
class Sinks:
    """Where what a message became goes (the gateway's own parts, given at construction)."""

    store: Callable[[str, dict[str, Any]], Awaitable[Any]]  # ("detections" | "localizations", record)
    push: Callable[[str, dict[str, Any], int], Awaitable[None]]  # (service, report, received_ms)
    site_view: Callable[[dict[str, dict[str, Any]], int], Awaitable[None]]  # ({receiver: view}, received_ms)
    pass_through: Callable[[dict[str, Any], str], Awaitable[None]]  # (the platform's envelope, identity)
    seen: Callable[[str], Awaitable[bool]]  # identity handled before?
    mark: Callable[[str, int], Awaitable[None]]  # identity handled now


class Feed:
    def __init__(self, url: str, settings: Any, config: Callable[[], Any], sinks: Sinks,
                 clock: Callable[[], float] = time.time) -> None:
        self._url = url
        self.settings = settings  # [feed]
        self._config = config  # the running configuration (its receivers, its push services)
        self._sinks = sinks
        self._clock = clock
        self.state = FeedState(since_ms=self.now_ms())
        self.listeners: list[Callable[[FeedState], None]] = []  # told when connected or not
        self._rejections: dict[str, SparseLog] = {}
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._channel: Any = None
        self._depth_task: asyncio.Task | None = None
        self.answers: Any = None  # our answers on the bus, with `[feed] publish` (backend/feed/answers.py)
        # aio-pika runs each delivery's callback as a task of its own: one at a time here, in
        # the order they came, so a redelivery is seen as one and the platform's order holds.
        self._one_at_a_time = asyncio.Lock()
        self._recent: OrderedDict[str, None] = OrderedDict()  # identities handled lately, newest last
        self._acks: set[asyncio.Future] = set()  # acknowledgements on their way

    def open_channel(self) -> Any:
        """The channel while connected (our answers publish on it), else None."""
        return self._channel if self.state.state == "connected" else None

    @property
    def rejected_queue(self) -> str:
        return f"{self.settings.queue}.rejected"

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def shown_url(self) -> str:
        return redact_url(self._url)

    def _set(self, state: str, reason: str | None) -> None:
        if (state, reason) == (self.state.state, self.state.reason):
            return
        moved = state != self.state.state
        self.state.state, self.state.reason = state, reason
        if moved:
            self.state.since_ms = self.now_ms()
        for listener in list(self.listeners):
            try:
                listener(self.state)
            except Exception:
                log.exception("a feed listener failed")

    async def run(self) -> None:
        """Connect, consume, and connect again when the broker goes, for ever."""
        attempt = 0
        while True:
            closed = asyncio.Event()
            failure: Exception | None = None
            try:
                await self._connect(closed)
                attempt = 0
                await closed.wait()
                self._set("connecting", "the broker closed the connection")
            except asyncio.CancelledError:
                await self._close()
                raise
            except Exception as exc:  # the broker away, refused credentials, a channel error ...
                failure = exc
                self._set("connecting", redact_text(f"{type(exc).__name__}: {exc}")[:300] or type(exc).__name__)
            await self._close()
            wait = retry_after(attempt, failure)
            attempt += 1
            await asyncio.sleep(wait)

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed:
            try:
                await asyncio.wait_for(connection.close(), 5)
            except Exception:
                pass

    async def _connect(self, closed: asyncio.Event) -> None:
        settings = self.settings
        connection = await aio_pika.connect(self._url, timeout=CONNECT_TIMEOUT_S,
                                            client_properties={"connection_name": "heimdall-live feed"})
        self._connection = connection
        connection.close_callbacks.add(lambda *_: closed.set())
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=settings.prefetch)
        # As the platform declares it (kombu Exchange('heimdall.events', 'topic', durable=False)).
        exchange = await channel.declare_exchange(settings.exchange, aio_pika.ExchangeType.TOPIC, durable=False)
        await channel.declare_queue(self.rejected_queue, durable=True)
        queue = await channel.declare_queue(settings.queue, durable=True)
        for binding in settings.bindings:
            await queue.bind(exchange, routing_key=binding)
        self._queue, self._channel = queue, channel
        self._set("connected", None)
        await queue.consume(self._on_message)
        self._depth_task = asyncio.get_running_loop().create_task(self._watch_depth(queue, closed))  # kept: not collected

    async def _watch_depth(self, queue: Any, closed: asyncio.Event) -> None:
        while not closed.is_set():
            try:
                declared = await queue.declare()  # passive enough: the same arguments again
                self.state.queue_depth = declared.message_count
            except Exception:
                return
            try:
                await asyncio.wait_for(closed.wait(), STATE_EVERY_S)
            except asyncio.TimeoutError:
                pass

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with self._one_at_a_time:
            await self._handle(message)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        self.state.last_heard_ms = self.now_ms()
        self.state.recent.append(time.monotonic())
        config = self._config()
        pass_through = list(self.settings.pass_through)
        try:
            reading = platform.read_message(message.body, message.message_id, config, pass_through,
                                            push_services(config))
        except platform.Rejected as rejected:
            await self._reject(message, rejected)
            return
        except Exception as exc:  # a reading this code did not foresee: set aside, never a stuck feed
            log.exception("feed: a message could not be read")
            await self._reject(message, platform.Rejected(f"could not be read ({type(exc).__name__})", "unreadable"))
            return
        label = counted_event(reading.event, pass_through)
        # What only passes through (progress, not kept) is told apart from a redelivery here,
        # in memory (and once in a shared event log by its identity): no database trip for
        # each of a thousand progress messages a second. What is kept is checked in the
        # shared table, across restarts and gateways.
        passing = all(action == platform.PASS_THROUGH for action, _ in reading.actions)
        try:
            if reading.identity in self._recent or (not passing and await self._sinks.seen(reading.identity)):
                self.state.messages[(label, "duplicate")] += 1
                await message.ack()
                return
            received_ms = self.now_ms()
            for action, payload in reading.actions:
                if action == platform.DETECTION:
                    await self._sinks.store("detections", payload)
                elif action == platform.LOCALIZATION:
                    await self._sinks.store("localizations", payload)
                elif action == platform.PUSH:
                    await self._sinks.push(payload[0], payload[1], received_ms)
                elif action == platform.SITE_VIEW:
                    await self._sinks.site_view(payload, received_ms)
                elif action == platform.PASS_THROUGH:
                    await self._sinks.pass_through(payload, reading.identity)
            if not passing:
                await self._sinks.mark(reading.identity, received_ms)
            self._remember(reading.identity)
        except Exception as exc:
            # Kept nowhere yet (the database or the event log away): back to the queue, and a
            # pause, so a broken store is not a busy loop; it comes again.
            self.state.messages[(label, "retried")] += 1
            self._sparse("store").warning("feed: could not keep a %s message, it goes back to the queue: %s",
                                          reading.event, type(exc).__name__)
            await asyncio.sleep(1)
            await message.nack(requeue=True)
            return
        self.state.messages[(label, "accepted")] += 1
        # Kept: the acknowledgement goes out behind it, without holding the next message
        # (the next one's fan-out then joins this one's in one write to each subscriber).
        self._acks.add(task := asyncio.ensure_future(message.ack()))
        task.add_done_callback(self._acked)

    def _acked(self, task: asyncio.Future) -> None:
        self._acks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The channel went away: the broker redelivers it, and it is recognised then.
            self.state.messages[("other", "ack lost")] += 1

    async def _reject(self, message: AbstractIncomingMessage, rejected: platform.Rejected) -> None:
        """To the dead-letter queue with the reason, then acknowledged: the feed goes on."""
        event = None
        try:
            event = platform.envelope_of(message.body).get("event")
        except platform.Rejected:
            pass
        label = counted_event(event if isinstance(event, str) else None, list(self.settings.pass_through))
        self.state.messages[(label, "rejected")] += 1
        self._sparse(rejected.kind, 60).warning("feed: message rejected to %s: %s", self.rejected_queue,
                                                str(rejected)[:200])
        try:
            await self._channel.default_exchange.publish(
                aio_pika.Message(message.body, headers={"x-heimdall-reason": str(rejected)[:500],
                                                        "x-heimdall-routing-key": message.routing_key or ""},
                                 content_type=message.content_type, message_id=message.message_id,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=self.rejected_queue)
        except Exception:
            await message.nack(requeue=True)  # not set aside: it comes again
            return
        await message.ack()

    def _remember(self, identity: str) -> None:
        self._recent[identity] = None
        if len(self._recent) > RECENT_IDENTITIES:
            self._recent.popitem(last=False)

    def _sparse(self, kind: str, every_s: float = 60) -> SparseLog:
        found = self._rejections.get(kind)
        if found is None:
            found = self._rejections[kind] = SparseLog(log, every_s)
        return found

"""The /ws/updates connection manager: who is connected, who wants which topic.

It subscribes to the hub and fans each event out: the event's WebSocket frame is built
once and the same bytes are written to every interested connection (never awaiting a
socket; see connection.py for why this path skips ASGI `send`). It applies the
protocol rules of `protocol.py` to what clients send, and sends the heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from backend import __version__
from backend.config.schema import WebSocketSettings
from backend.events.envelope import Envelope, encode
from backend.events.hub import Hub
from backend.events.topics import ALL_TOPICS, SPELLINGS, UPSTREAM_SPELLINGS, WILDCARD, respelled, topic_of
from backend.timefmt import utc_now_iso
from backend.ws import protocol
from backend.ws.connection import Connection
from backend.ws.frames import CLOSE_INTERNAL_ERROR, text_frame_of
from backend.ws.socket import UpdatesSocket

log = logging.getLogger(__name__)


@dataclass
class ManagerStats:
    connections_total: int = 0
    slow_consumers_closed: int = 0
    rate_limited_closed: int = 0
    oversized_closed: int = 0
    binary_closed: int = 0
    client_errors: int = 0
    revoked: int = 0  # closed because their session ended or their token was revoked


def _expand(topics: tuple[str, ...]) -> set[str]:
    """The spellings a request names (`*` is every topic in the gateway's own spelling)."""
    return set(ALL_TOPICS) if WILDCARD in topics else set(topics)


def _aliases_of(topic: str) -> tuple[str, ...]:
    return tuple(alias for alias, of in UPSTREAM_SPELLINGS.items() if of == topic)


class ConnectionManager:
    def __init__(self, hub: Hub, settings: WebSocketSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._hub = hub
        self._settings = settings
        self._clock = clock
        self.connections: set[Connection] = set()
        # Keyed by spelling: a client that subscribed with an upstream alias gets that name.
        self._by_topic: dict[str, set[Connection]] = {spelling: set() for spelling in SPELLINGS}
        self.stats = ManagerStats()
        self._pending: list[tuple[str, bytes]] = []  # (topic, frame) of events not yet written
        self._unsubscribe_hub: Callable[[], None] | None = hub.subscribe(self._on_event)
        hub.log_restarted.append(self._on_new_epoch)

    # -- connection life -------------------------------------------------------------

    def open(self, socket: UpdatesSocket, receive_all: bool = True, principal: Any = None) -> Connection:
        """A new connection. `receive_all`: until its first subscribe or unsubscribe it
        receives every event, as the original gateway broadcast to every connection
        (clients written for it never subscribe); `initial=none` clients start empty."""
        self.flush()  # pending events are older than the `connected` this client gets
        limiter = protocol.RateLimiter(self._settings.rate_limit_per_s, self._settings.rate_limit_burst, self._clock)
        conn = Connection(socket, self._settings.send_queue_bytes, limiter, principal)
        self.connections.add(conn)
        if receive_all:
            self._index(conn, set(ALL_TOPICS))
        else:
            conn.chosen = True
        self.stats.connections_total += 1
        data = protocol.connected_data(
            self._hub.epoch, self._hub.last_seq, __version__, self._settings.heartbeat_interval_s
        )
        self._send_control(conn, "connected", data)
        return conn

    def remove(self, conn: Connection) -> None:
        """Forget a connection everywhere (its socket is gone or going)."""
        self.connections.discard(conn)
        for topic in conn.topics:
            self._by_topic.get(topic, set()).discard(conn)
        conn.topics.clear()

    def open_principals(self) -> list[tuple[Any, Callable[[Any], None]]]:
        """For backend/auth/revalidate.py: each open connection's principal, and what to do
        when it lost its rights (4401 when its credential gives nothing, 4403 without `read`)."""
        return [(conn.principal, lambda now, conn=conn: self._revoke(conn, now))
                for conn in self.connections if conn.principal is not None and conn.principal.credential]

    def _revoke(self, conn: Connection, now: Any) -> None:
        self.stats.revoked += 1
        if now is None:
            conn.close(protocol.CLOSE_UNAUTHENTICATED, "session ended or token revoked")
        elif not now.may("read"):
            conn.close(protocol.CLOSE_FORBIDDEN, "no longer allowed to read")
        else:
            return
        self.remove(conn)

    # -- what the sockets report (backend.ws.socket.Handler) ----------------------------

    def on_message(self, socket: UpdatesSocket, text: str | None, binary: bytes | None) -> None:
        self.handle_frame(socket.owner, text, binary)

    def on_lost(self, socket: UpdatesSocket) -> None:
        self.remove(socket.owner)

    # -- outgoing ---------------------------------------------------------------------

    def _on_event(self, env: Envelope) -> None:
        # Off the publish path: the event waits for the next turn of the loop, with any
        # others that arrive before it (see flush).
        was_empty = not self._pending
        self._pending.append((env.event, text_frame_of(env.wire)))
        for alias in _aliases_of(env.event):
            if self._by_topic[alias]:  # built only when someone asked for that spelling
                self._pending.append((alias, text_frame_of(respelled(env.wire, env.event, alias))))
        if was_empty:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write the pending events' frames: one transport write per subscriber.

        The hot path. A write is a system call, which costs far more than the Python
        around it, so the events that queued up while the loop was busy go out joined
        into one write per connection; the busier the gateway, the more each write
        carries. Called before anything that sends a client a sequence number, so every
        client sees events and control messages in seq order.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        if len(pending) == 1:
            topic, frame = pending[0]
            overflowed = [conn for conn in self._by_topic.get(topic, ()) if not conn.write(frame)]
        else:
            wanted: dict[Connection, list[int]] = {}
            for index, (topic, _) in enumerate(pending):
                for conn in self._by_topic.get(topic, ()):
                    wanted.setdefault(conn, []).append(index)
            joined: dict[tuple[int, ...], bytes] = {}  # most clients want the same events: join once
            overflowed = []
            for conn, indices in wanted.items():
                key = tuple(indices)
                data = joined.get(key)
                if data is None:
                    data = joined[key] = b"".join(pending[i][1] for i in indices)
                if not conn.write(data):
                    overflowed.append(conn)
        for conn in overflowed:
            self._drop_slow(conn)

    def _queue(self, conn: Connection, text: str) -> None:
        self.flush()
        if not conn.write(text_frame_of(text)):
            self._drop_slow(conn)

    def _send_control(self, conn: Connection, event: str, data: dict[str, Any]) -> None:
        self._queue(conn, encode(protocol.control(event, data, utc_now_iso(), self._hub.last_seq)))

    def _drop_slow(self, conn: Connection) -> None:
        self.stats.slow_consumers_closed += 1
        log.warning("closing a /ws/updates client that let %d bytes queue up", conn.queued_bytes)
        self._unindex(conn)
        conn.close(protocol.CLOSE_TRY_AGAIN_LATER, "send queue full: the client does not read fast enough")

    def _index(self, conn: Connection, topics: set[str]) -> None:
        for topic in topics:  # a platform event's name gets its set when first asked for
            self._by_topic.setdefault(topic, set()).add(conn)
        conn.topics |= topics

    def _choose(self, conn: Connection) -> None:
        """The connection's first own choice of topics replaces the receive-all default."""
        if not conn.chosen:
            conn.chosen = True
            self._unindex(conn)

    def _unindex(self, conn: Connection) -> None:
        for topic in conn.topics:
            self._by_topic.get(topic, set()).discard(conn)
        conn.topics.clear()

    async def heartbeat_loop(self) -> None:
        """Every interval, one heartbeat to every client (encoded once) and a protocol
        ping. A client that has not answered the previous interval's ping is dead: it is
        closed, so dead peers go within two intervals. One loop for all clients instead
        of a timer per connection."""
        while True:
            await asyncio.sleep(self._settings.heartbeat_interval_s)
            self.flush()
            frame = text_frame_of(encode(protocol.control("heartbeat", {}, utc_now_iso(), self._hub.last_seq)))
            overflowed = []
            for conn in list(self.connections):
                socket = conn.socket
                if socket.closing:
                    continue
                if socket.awaiting_pong:
                    self._unindex(conn)
                    socket.close(CLOSE_INTERNAL_ERROR, "keepalive ping timeout")
                    socket.abort()
                    continue
                if conn.write(frame):
                    socket.ping()
                else:
                    overflowed.append(conn)
            for conn in overflowed:
                self._drop_slow(conn)

    # -- incoming ---------------------------------------------------------------------

    def handle_frame(self, conn: Connection, text: str | None, binary: bytes | None) -> None:
        """Apply the protocol to one received frame."""
        if conn.closing:
            return
        self.flush()  # a subscribe's replay and index must see every event up to now
        if not conn.limiter.allow():
            self.stats.rate_limited_closed += 1
            rate = self._settings.rate_limit_per_s
            self._send_control(conn, "error", protocol.error_data("rate_limited", f"more than {rate:g} messages a second"))
            self._close(conn, protocol.CloseFrame(protocol.CLOSE_POLICY_VIOLATION, "rate limit exceeded"))
            return
        close = protocol.check_frame(text, binary, self._settings.max_message_bytes)
        if close is not None:
            if close.code == protocol.CLOSE_MESSAGE_TOO_BIG:
                self.stats.oversized_closed += 1
            else:
                self.stats.binary_closed += 1
            self._close(conn, close)
            return
        try:
            request = protocol.parse_client_message(text or "", self._hub.passed)
        except protocol.ClientError as error:
            self.stats.client_errors += 1
            self._send_control(conn, "error", protocol.error_data(error.code, error.message))
            return
        self._apply(conn, request)

    def _close(self, conn: Connection, close: protocol.CloseFrame) -> None:
        self._unindex(conn)
        conn.close(close.code, close.reason)

    def _apply(self, conn: Connection, request: protocol.Request) -> None:
        if isinstance(request, protocol.Ping):
            self._send_control(conn, "pong", {})
        elif isinstance(request, protocol.Subscribe):
            self._subscribe(conn, request)
        elif isinstance(request, protocol.Unsubscribe):
            if not conn.chosen:  # everything but these, from the receive-all default
                conn.chosen = True
            for topic in _expand(request.topics):
                self._by_topic.get(topic, set()).discard(conn)
                conn.topics.discard(topic)
            self._send_control(conn, "unsubscribed", {"events": list(request.topics)})

    def _subscribe(self, conn: Connection, request: protocol.Subscribe) -> None:
        # All of this runs in one step of the event loop: no event can slip in between
        # the replay and the subscription, so the client gets no gap and no duplicate.
        self._choose(conn)
        spellings = _expand(request.topics)
        replay = self._hub.replay(frozenset(topic_of(s) for s in spellings), request.since)
        self._index(conn, spellings)
        recovered = replay.recovered if request.since is not None else None
        # Replayed events come before `subscribed`; latest values (no replay) after it.
        before, after = (replay.events, []) if replay.recovered else ([], replay.events)
        for env in before:
            self._queue_spelled(conn, env, spellings)
        self._send_control(conn, "subscribed", protocol.subscribed_data(request.topics, recovered))
        for env in after:
            self._queue_spelled(conn, env, spellings)

    def _queue_spelled(self, conn: Connection, env: Envelope, spellings: set[str]) -> None:
        """One event, once under each of its names that the request used."""
        for spelling in (env.event, *_aliases_of(env.event)):
            if spelling in spellings:
                self._queue(conn, respelled(env.wire, env.event, spelling))

    def _on_new_epoch(self) -> None:
        """The shared event log was lost: every client's position means nothing now. They
        reconnect, resume, and learn from `recovered: false` that they may have a gap."""
        self.flush()
        for conn in list(self.connections):
            self._unindex(conn)
            conn.close(protocol.CLOSE_SERVICE_RESTART, "the event log restarted; resume to learn what you missed")

    async def close_all(self, grace_s: float = 2.0) -> None:
        """Going away: every client gets close 1001 after what is queued for it, within
        `grace_s`; then the server may tear down what is left."""
        self.flush()
        if self._unsubscribe_hub is not None:
            self._unsubscribe_hub()
            self._unsubscribe_hub = None
        for conn in list(self.connections):
            conn.close(protocol.CLOSE_GOING_AWAY, "server shutting down")
        deadline = self._clock() + grace_s
        while any(not conn.closed for conn in self.connections) and self._clock() < deadline:
            await asyncio.sleep(0.02)

"""The asyncio client."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from client.backoff import backoff_delay
from client.tracker import STATE_TOPICS, StreamPosition

log = logging.getLogger(__name__)

GAP = "gap"  # the client's own event: the gateway could not replay what was missed


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"


class TokenRefused(Exception):
    """The gateway refused the token: retrying will not help."""


@dataclass(frozen=True)
class Event:
    event: str
    data: Any
    timestamp: str | None = None
    seq: int | None = None
    via: str = "websocket"  # or "polling"


def gateway_urls(url: str) -> tuple[str, str]:
    """(http base, ws url of /ws/updates) from either an http(s):// or a ws(s):// address."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    secure = parts.scheme in ("https", "wss")
    path = parts.path.rstrip("/")
    for suffix in ("/ws/updates", "/ws"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    http = urlunsplit(("https" if secure else "http", parts.netloc, path, "", ""))
    ws = urlunsplit(("wss" if secure else "ws", parts.netloc, path + "/ws/updates", "", ""))
    return http, ws


def subscribe_explicitly(ws_url: str) -> str:
    """The URL with `initial=none`: this client receives only what it subscribes to, from
    its resume point, instead of the receive-all default of a new connection."""
    parts = urlsplit(ws_url)
    query = "&".join(p for p in [parts.query, "initial=none"] if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class HeimdallClient:
    """Subscribes to a gateway's events and keeps delivering them, exactly once and in
    order, across reconnects; says so (a `gap` event) when the gateway could not replay
    what was missed."""

    def __init__(
        self,
        url: str,
        *,
        ws_url: str | None = None,
        topics: list[str] | tuple[str, ...] = ("*",),
        token: str | None = None,
        max_attempts: int | None = None,
        poll_after_failures: int = 3,
        poll_interval_s: float = 30.0,
        heartbeat_s: float | None = None,
        on_state: Callable[[ConnectionState], Any] | None = None,
        on_subscribed: Callable[[bool], Any] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        open_timeout_s: float = 10.0,
    ) -> None:
        self.http_url, self.ws_url = gateway_urls(url)
        if ws_url is not None:  # a different way in for the WebSocket (a proxy, say)
            self.ws_url = ws_url
        self.topics = list(topics)
        self.token = token
        self.max_attempts = max_attempts
        self.poll_after_failures = poll_after_failures
        self.poll_interval_s = poll_interval_s
        self.heartbeat_s = heartbeat_s  # None: the gateway's, from its `connected` message
        self.open_timeout_s = open_timeout_s
        self._on_state = on_state
        self._on_subscribed = on_subscribed  # called with `recovered` each time a subscription is in place
        self._subscribed: asyncio.Event | None = None
        self._sleep = sleep
        self._rng = rng
        self.state = ConnectionState.DISCONNECTED
        self.position = StreamPosition()
        self.recovered: bool | None = None  # of the last resume
        self.attempts = 0
        self.error: BaseException | None = None
        self.last_failure: str | None = None  # why the latest connection failed or ended, for people
        self._callbacks: dict[str, list[Callable[[Event], Any]]] = {}
        self._queues: list[asyncio.Queue] = []
        self._runner: asyncio.Task | None = None
        self._poller: asyncio.Task | None = None
        self._ws = None
        self._closed = False
        self._snapshots_due: set[str] = set()
        self._server_epoch: str | None = None

    # -- public API --------------------------------------------------------------------

    async def __aenter__(self) -> "HeimdallClient":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="heimdall-client")

    async def close(self) -> None:
        self._closed = True
        for task in (self._runner, self._poller):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._set_state(ConnectionState.DISCONNECTED)
        for queue in self._queues:
            queue.put_nowait(None)

    def on(self, topic: str, callback: Callable[[Event], Any]) -> None:
        """Call `callback(event)` for every event of `topic` ("*" for all, "gap" for gaps)."""
        self._callbacks.setdefault(topic, []).append(callback)

    async def events(self) -> AsyncIterator[Event]:
        """Every event from now on, until `close()`."""
        queue: asyncio.Queue = asyncio.Queue()
        self._queues.append(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._queues.remove(queue)

    async def subscribe(self, topics: list[str]) -> None:
        self.topics = sorted(set(self.topics) | set(topics))
        await self._send({"event": "subscribe", "data": {"events": topics}})

    async def unsubscribe(self, topics: list[str]) -> None:
        self.topics = [t for t in self.topics if t not in topics]
        await self._send({"event": "unsubscribe", "data": {"events": topics}})

    async def wait_subscribed(self, timeout: float) -> None:
        """Until the gateway has confirmed the subscription of the current connection: from
        then on, nothing published is missed."""
        if self._subscribed is None:
            self._subscribed = asyncio.Event()
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def wait_for_state(self, state: ConnectionState, timeout: float) -> None:
        async def reached() -> None:
            while self.state != state:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(reached(), timeout)

    # -- the loop ----------------------------------------------------------------------

    async def _run(self) -> None:
        connected_once = False
        while not self._closed:
            self._set_state(ConnectionState.RECONNECTING if connected_once else ConnectionState.CONNECTING)
            try:
                await self._session()
                connected_once = True
            except TokenRefused as refused:
                self.error = refused
                self._set_state(ConnectionState.DISCONNECTED)
                self._wake_iterators()
                return
            except (OSError, asyncio.TimeoutError, ConnectionClosed, InvalidStatus,
                    websockets.exceptions.InvalidHandshake) as exc:
                log.debug("connection to %s failed: %r", self.ws_url, exc)
                self.last_failure = why_disconnected(exc, self.open_timeout_s)
            if self._closed:
                return
            self.attempts += 1
            if self.max_attempts is not None and self.attempts > self.max_attempts:
                self._set_state(ConnectionState.DISCONNECTED)
                self._wake_iterators()
                return
            if self.attempts >= self.poll_after_failures:
                self._start_polling()
            self._set_state(ConnectionState.RECONNECTING)
            await self._sleep(backoff_delay(self.attempts, rng=self._rng))

    async def _session(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            ws = await connect(subscribe_explicitly(self.ws_url), additional_headers=headers, open_timeout=self.open_timeout_s,
                               ping_interval=None, max_size=2**22)
        except InvalidStatus as exc:
            if exc.response.status_code in (401, 403):
                raise TokenRefused(f"the gateway at {self.http_url} refused the token "
                                   f"(HTTP {exc.response.status_code})") from None
            raise
        self._ws = ws
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), self.open_timeout_s))
            if hello.get("event") != "connected":
                raise ConnectionError("the gateway did not say connected")
            self._server_epoch = hello["data"]["epoch"]
            self.attempts = 0
            self._stop_polling()
            if self._subscribed is not None:
                self._subscribed.clear()
            self._set_state(ConnectionState.CONNECTED)
            await ws.send(json.dumps({"event": "subscribe",
                                      "data": {"events": self.topics, "since": self.position.since()}}))
            watchdog = 2 * (self.heartbeat_s or hello["data"].get("heartbeat_interval_s") or 30.0)
            while True:
                # Nothing at all (event, heartbeat, pong) for two heartbeats: the connection is dead.
                text = await asyncio.wait_for(ws.recv(), watchdog)
                self._handle_message(json.loads(text), via="websocket")
        finally:
            self._ws = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)

    def _handle_message(self, message: dict[str, Any], via: str) -> None:
        event, seq = message.get("event"), message.get("seq")
        if event in ("heartbeat", "pong", "connected", "unsubscribed", "error"):
            if isinstance(seq, int):
                self.position.advance(seq)
            if event == "error":
                log.warning("the gateway says: %s", message.get("data"))
            return
        if event == "subscribed":
            recovered = (message.get("data") or {}).get("recovered")
            if recovered:
                self.recovered = True
            else:
                self._fresh_state(self._server_epoch or self.position.epoch, gap=recovered is False, via=via)
            if isinstance(seq, int):
                self.position.advance(seq)
            if self._subscribed is None:
                self._subscribed = asyncio.Event()
            self._subscribed.set()
            if self._on_subscribed is not None:
                self._on_subscribed(bool(recovered))
            return
        if not isinstance(seq, int):
            return
        snapshot = event in self._snapshots_due
        self._snapshots_due.discard(event)
        if self.position.accept(event, seq, snapshot):
            self._emit(Event(event, message.get("data"), message.get("timestamp"), seq, via))

    def _fresh_state(self, epoch: str | None, gap: bool, via: str) -> None:
        """The latest value of each state topic follows; with `gap`, events were missed."""
        wanted = STATE_TOPICS if "*" in self.topics else STATE_TOPICS & set(self.topics)
        self._snapshots_due = set(wanted)
        if epoch is not None:
            self.position.restart(epoch)
        if gap:
            self.recovered = False
            self._emit(Event(GAP, {"reason": "the gateway could not replay what was missed; fresh state follows",
                                   "epoch": epoch}, via=via))

    def _emit(self, event: Event) -> None:
        for callback in self._callbacks.get(event.event, []) + self._callbacks.get("*", []):
            try:
                result = callback(event)
                if asyncio.iscoroutine(result):
                    asyncio.ensure_future(result)
            except Exception:
                log.exception("callback for %s failed", event.event)
        for queue in self._queues:
            queue.put_nowait(event)

    def _wake_iterators(self) -> None:
        for queue in self._queues:
            queue.put_nowait(None)

    def _set_state(self, state: ConnectionState) -> None:
        if state == ConnectionState.CONNECTED:
            self.last_failure = None
        if state != self.state:
            self.state = state
            if self._on_state is not None:
                try:
                    self._on_state(state)
                except Exception:
                    log.exception("state callback failed")

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.send(json.dumps(message))

    # -- polling fallback --------------------------------------------------------------------

    def _start_polling(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="heimdall-client-poll")

    def _stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def _poll(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(base_url=self.http_url, headers=headers, timeout=10) as http:
            while True:
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    await self._poll_once(http)
                await self._sleep(self.poll_interval_s)

    async def _poll_once(self, http: httpx.AsyncClient) -> None:
        while True:
            params: dict[str, Any] = {"topics": ",".join(self.topics)}
            if self.position.epoch is not None:
                params.update(after=self.position.seq, epoch=self.position.epoch)
            response = await http.get("/api/v1/events", params=params)
            response.raise_for_status()
            page = response.json()
            if not page["recovered"]:
                self._fresh_state(page["epoch"], gap=self.position.epoch is not None, via="polling")
            for message in page["events"]:
                self._handle_message(message, via="polling")
            self.position.advance(page["next_after"])
            if not page["more"]:
                return


def why_disconnected(exc: BaseException, open_timeout_s: float) -> str:
    """A short reason a connection failed or ended: "connection refused", "HTTP 502"."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the gateway running on that address?)"
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer within {open_timeout_s:g} s"
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code} instead of a WebSocket"
    if isinstance(exc, ConnectionClosed):
        code = exc.rcvd.code if exc.rcvd is not None else None
        reason = exc.rcvd.reason if exc.rcvd is not None else ""
        return f"closed by the gateway ({code}{': ' + reason if reason else ''})" if code else "the connection dropped"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__

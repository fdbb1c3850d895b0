"""The socket of one /ws/updates connection: an asyncio protocol, no task once open.

Why not uvicorn's WebSocket protocol: an idle connection there held ~22 KiB (a receive
queue and its events, parsed request headers, the ASGI task and its coroutine frames,
a ping timer) where Node's `ws` holds ~10 KiB, and every frame out went through an
awaited ASGI `send`. Here the upgrade request is taken over by the edge (backend/
serving/edge.py); the handshake still runs through the ASGI app, so the guard's checks
(Origin, credentials, scope) apply exactly as before. Once the endpoint has accepted
the connection it hands the socket to the manager and its task ends: from then on
frames are parsed in `data_received` (rules in frames.py) and written straight to the
transport, whose write buffer is the client's send queue.

The ASGI side of the handshake understands `websocket.accept`, `websocket.close`
(before accept: HTTP 403) and `websocket.send`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from typing import Any, Awaitable, Callable, Protocol

from backend.ws import frames
from backend.ws.frames import FrameError

log = logging.getLogger(__name__)

UPDATES_PATHS = frozenset({"/ws/updates", "/ws"})  # the original gateway served /ws

# The largest frame or message a client may send; /ws/updates applies its own, lower
# limit (max_message_bytes) so that it can answer with close 1009 and count it.
MAX_CLIENT_MESSAGE_BYTES = 1024 * 1024

# How long a close frame may wait for a client that does not read before the socket is cut.
CLOSE_TIMEOUT_S = 10.0


class Handler(Protocol):
    """What the socket reports to once open (the connection manager)."""

    def on_message(self, socket: "UpdatesSocket", text: str | None, binary: bytes | None) -> None: ...

    def on_lost(self, socket: "UpdatesSocket") -> None: ...


def _http_response(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class UpdatesSocket(asyncio.Protocol):
    __slots__ = ("_app", "_scope", "_transport", "_buffer", "_max_frame", "_on_lost_extra", "_fragments",
                 "_fragment_opcode", "handler", "accepted", "closing", "closed", "awaiting_pong", "_close_timer",
                 "_handshake", "owner")

    def __init__(self, app: Callable[..., Awaitable[None]], scope: dict[str, Any], max_frame_bytes: int,
                 on_lost: Callable[[], None] | None = None) -> None:
        self._app = app
        self._scope: dict[str, Any] | None = scope  # for the handshake only
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._max_frame = max_frame_bytes
        self._on_lost_extra = on_lost
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0
        self._close_timer: asyncio.TimerHandle | None = None
        self._handshake: asyncio.Task | None = None  # a reference, so the running task is not collected
        self.handler: Handler | None = None
        self.owner: Any = None  # the manager's Connection for this socket
        self.accepted = False
        self.closing = False  # a close frame went out (or the socket is going): write nothing more
        self.closed = False  # the socket is gone
        self.awaiting_pong = False

    # -- asyncio protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in self._scope["headers"]} if self._scope else {}
        if headers.get("sec-websocket-version") != "13":
            self._refuse_handshake("426 Upgrade Required", [("Sec-WebSocket-Version", "13")])
            return
        if not frames.valid_client_key(headers.get("sec-websocket-key")):
            self._refuse_handshake("400 Bad Request", [])
            return
        self._handshake = asyncio.get_running_loop().create_task(self._run_handshake(headers["sec-websocket-key"]))

    def data_received(self, data: bytes) -> None:
        if not self.accepted or self.closed:
            return  # a client may not send frames before the 101
        self._buffer += data
        self.awaiting_pong = False  # anything from the peer shows it is alive, as a pong does
        try:
            parsed, used = frames.parse_client_frames(self._buffer, self._max_frame)
            del self._buffer[:used]
            for frame in parsed:
                self._on_frame(frame)
        except FrameError as error:
            self._buffer.clear()
            self.close(error.code, error.reason)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = self.closed = True
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if self._on_lost_extra is not None:
            self._on_lost_extra()
            self._on_lost_extra = None
        if self.handler is not None:
            self.handler.on_lost(self)
            self.handler = None

    # -- writing ----------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return self._transport.get_write_buffer_size() if self._transport is not None else 0

    def write(self, data: bytes) -> None:
        """Whole frames only, so nothing else written to this socket can land inside one."""
        if not self.closing:
            self._transport.write(data)

    def ping(self) -> None:
        self.write(frames.frame(frames.OP_PING, b""))
        self.awaiting_pong = True

    def close(self, code: int, reason: str = "") -> None:
        """Send a close frame after what is already buffered; cut the socket if the peer
        has not answered (or read it) within CLOSE_TIMEOUT_S."""
        if self.closing:
            return
        self._transport.write(frames.close_frame(code, reason))
        self.closing = True
        self._close_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, self.abort)

    def abort(self) -> None:
        """Drop the TCP connection now."""
        self.closing = True
        if self._transport is not None:
            self._transport.abort()

    # -- reading ----------------------------------------------------------------------------

    def _on_frame(self, frame: frames.Frame) -> None:
        opcode = frame.opcode
        if opcode == frames.OP_PING:
            self.write(frames.frame(frames.OP_PONG, frame.payload))
        elif opcode == frames.OP_PONG:
            self.awaiting_pong = False
        elif opcode == frames.OP_CLOSE:
            code, _ = frames.parse_close(frame.payload)
            if not self.closing:  # the peer closes: echo its code (RFC 6455 §5.5.1)
                self._transport.write(frames.close_frame(code if code != 1005 else 1000))
            self.closing = True
            self._transport.close()
        elif self.closing:
            return
        elif opcode == frames.OP_CONTINUATION:
            if not self._fragments:
                raise FrameError(frames.CLOSE_PROTOCOL_ERROR, "continuation without a message")
            self._add_fragment(frame)
        else:
            if self._fragments:
                raise FrameError(frames.CLOSE_PROTOCOL_ERROR, "a new message inside a fragmented one")
            self._fragment_opcode = opcode
            self._add_fragment(frame)

    def _add_fragment(self, frame: frames.Frame) -> None:
        self._fragments.append(frame.payload)
        if sum(len(part) for part in self._fragments) > self._max_frame:
            raise FrameError(frames.CLOSE_MESSAGE_TOO_BIG, f"message over {self._max_frame} bytes")
        if not frame.fin:
            return
        payload = b"".join(self._fragments)
        self._fragments = []
        if self.handler is None:
            return
        if self._fragment_opcode == frames.OP_TEXT:
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                raise FrameError(frames.CLOSE_INVALID_DATA, "text is not UTF-8") from None
            self.handler.on_message(self, text, None)
        else:
            self.handler.on_message(self, None, payload)

    # -- the handshake, through the ASGI app (the guard, then the endpoint) -----------------

    def hand_over(self, handler: Handler, owner: Any) -> None:
        """The endpoint accepted: from now on, frames go to `handler` and no task runs."""
        self.owner = owner
        if self.closed:  # lost while the guard was deciding: the handler forgets it at once
            handler.on_lost(self)
            return
        self.handler = handler

    async def _run_handshake(self, key: str) -> None:
        scope, self._scope = self._scope, None
        connected = False

        async def receive() -> dict[str, Any]:
            nonlocal connected
            if not connected:
                connected = True
                return {"type": "websocket.connect"}
            await asyncio.Future()  # the endpoint reads nothing more through ASGI
            return {}

        async def send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "websocket.accept" and not self.accepted and not self.closing:
                self.accepted = True
                self._transport.write(_http_response("101 Switching Protocols", [
                    ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", frames.accept_key(key)),
                    ("Date", email.utils.formatdate(usegmt=True))]))
            elif kind == "websocket.close":
                if self.accepted:
                    self.close(message.get("code", 1000), message.get("reason") or "")
                else:
                    self._refuse_handshake("403 Forbidden", [])
            elif kind == "websocket.send" and self.accepted:
                text, binary = message.get("text"), message.get("bytes")
                self.write(frames.text_frame_of(text) if text is not None else frames.frame(frames.OP_BINARY, binary))
            else:
                raise RuntimeError(f"unexpected ASGI message {kind!r} during the /ws/updates handshake")

        try:
            await self._app(scope, _Receive(receive, self), send)
        except Exception:
            log.exception("the /ws/updates handshake failed")
            if not self.accepted:
                self._refuse_handshake("500 Internal Server Error", [])
        finally:
            self._handshake = None
            if self.handler is None and not self.closing:
                self.close(1011, "not handed over") if self.accepted else self.abort()

    def _refuse_handshake(self, status: str, headers: list[tuple[str, str]]) -> None:
        self.closing = True
        self._transport.write(_http_response(status, [*headers, ("Content-Length", "0"), ("Connection", "close")]))
        self._transport.close()


class _Receive:
    """The ASGI `receive` of the handshake; `.socket` lets the endpoint take the socket over."""

    __slots__ = ("_receive", "socket")

    def __init__(self, receive: Callable[[], Awaitable[dict[str, Any]]], socket: UpdatesSocket) -> None:
        self._receive = receive
        self.socket = socket

    def __call__(self) -> Awaitable[dict[str, Any]]:
        return self._receive()

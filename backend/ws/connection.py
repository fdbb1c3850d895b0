"""One /ws/updates connection: frames are written straight to its socket's transport.

Why not the ASGI `send`: awaiting `send` per client per event cost a task, a message
dict and a framing step per frame; at 4,000 clients × 20 events a second that work
saturated the event loop (bench/fanout.py). A frame is written whole with one
`transport.write`, so frames from here and uvicorn's own (pings, the close) never
interleave, and the transport keeps them in order.

The transport's write buffer is the send queue, bounded in bytes: a client that stops
reading lets it fill, `write` answers False, and the manager drops the client (close
1013), so a slow consumer costs nobody else anything. Closing goes through ASGI `send`,
so uvicorn knows the close frame went out (it then sends nothing more).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

log = logging.getLogger(__name__)

# How long a close frame may wait for a client that does not read before the socket is cut.
CLOSE_TIMEOUT_S = 10.0


class NoTransport(RuntimeError):
    """The ASGI server does not expose the socket /ws/updates writes to."""


def transport_of(receive: Receive) -> asyncio.WriteTransport:
    """The socket transport under an accepted ASGI WebSocket.

    uvicorn's `receive` is a bound method of its WebSocket protocol object, which holds
    the transport (the guard in front wraps `send`, never `receive`). The gateway always
    runs under uvicorn (backend/server.py); anything else is a configuration error.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "get_write_buffer_size"):
        raise NoTransport("/ws/updates needs uvicorn's WebSocket protocol (see backend/server.py)")
    return transport


class Connection:
    __slots__ = ("_send", "_transport", "_limit", "topics", "chosen", "closing", "closed", "_closer", "limiter")

    def __init__(self, send: Send, transport: asyncio.WriteTransport, queue_limit_bytes: int) -> None:
        self._send = send
        self._transport = transport
        self._limit = queue_limit_bytes
        self.topics: set[str] = set()
        self.chosen = False  # the client has subscribed or unsubscribed (see manager.open)
        self.closing = False
        self.closed = False  # the close frame went out, or the peer is gone
        self._closer: asyncio.Task | None = None
        self.limiter: Any = None  # the manager's rate limiter for what this client sends

    @property
    def queued_bytes(self) -> int:
        return self._transport.get_write_buffer_size()

    def write(self, frame: bytes) -> bool:
        """Queue one whole frame. False when it does not fit: the client is too slow."""
        if self.closing:
            return True  # on its way out; nothing more is queued, nothing to report
        transport = self._transport
        if transport.is_closing():  # uvicorn answered the peer's close or timed it out
            self.closing = True
            return True
        if transport.get_write_buffer_size() + len(frame) > self._limit:
            return False
        transport.write(frame)
        return True

    def close(self, code: int, reason: str) -> None:
        """Close after everything already written (an error message, say). For a client
        that does not read, the close frame waits behind what is buffered, and the
        socket is cut if it is not read within CLOSE_TIMEOUT_S."""
        if self._closer is not None or self.closed:
            return
        self.closing = True
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason))

    def stop(self) -> None:
        """The peer is gone: write nothing more."""
        self.closing = self.closed = True

    async def _close(self, code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(self._send({"type": "websocket.close", "code": code, "reason": reason}),
                                   CLOSE_TIMEOUT_S)
        except asyncio.TimeoutError:
            self._transport.abort()  # the peer never read its close frame: drop the TCP connection
        except Exception as exc:
            log.debug("close of /ws/updates client failed: %r", exc)
        finally:
            self.closed = True

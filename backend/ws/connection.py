"""One /ws/updates connection: a send queue bounded in bytes and the task that drains it.

`send` never awaits: it queues the text and starts a writer task if none is running
(an idle connection holds no task). A client that stops reading lets its queue fill;
`send` then answers False and the manager drops the client (close 1013), so a slow
consumer costs nobody else anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from typing import Any, Awaitable, Callable

Send = Callable[[dict[str, Any]], Awaitable[None]]

log = logging.getLogger(__name__)

# How long a close frame may wait for a client that does not read before the socket is cut.
CLOSE_TIMEOUT_S = 10.0

_CLOSE = object()  # queue marker: send the close frame once what is before it is sent


class Connection:
    def __init__(self, send: Send, queue_limit_bytes: int) -> None:
        self._send = send
        self.topics: set[str] = set()
        self.chosen = False  # the client has subscribed or unsubscribed (see manager.open)
        self.closing = False
        self.closed = False  # the close frame went out, or the peer is gone
        self._limit = queue_limit_bytes
        self._queue: deque = deque()
        self._queued_bytes = 0
        self._close_code = 1000
        self._close_reason = ""
        self._writer: asyncio.Task | None = None
        self._closer: asyncio.Task | None = None

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def send(self, text: str) -> bool:
        """Queue one message. False when it does not fit: the client is too slow."""
        if self.closing:
            return True  # on its way out; nothing more is queued, nothing to report
        size = len(text)
        if self._queued_bytes + size > self._limit:
            return False
        self._queue.append(text)
        self._queued_bytes += size
        self._start_writer()
        return True

    def _start_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    def finish(self, code: int, reason: str) -> None:
        """Close after everything already queued (an error message, say) is sent."""
        if self.closing:
            return
        self.closing = True
        self._close_code, self._close_reason = code, reason
        self._queue.append(_CLOSE)
        self._start_writer()

    def abort(self, code: int, reason: str) -> None:
        """Close now, dropping the queue: the client is not reading it anyway."""
        if self._closer is not None:
            return
        self.closing = True
        self._queue.clear()
        self._queued_bytes = 0
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason))

    def stop(self) -> None:
        """The peer is gone: stop writing."""
        self.closing = self.closed = True
        self._queue.clear()
        if self._writer is not None:
            self._writer.cancel()

    async def _write(self) -> None:
        try:
            while self._queue:
                item = self._queue.popleft()
                if item is _CLOSE:
                    await self._close(self._close_code, self._close_reason)
                    return
                self._queued_bytes -= len(item)
                await self._send({"type": "websocket.send", "text": item})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away while we wrote: the reader cleans up
            log.debug("write to /ws/updates client failed: %r", exc)
            self.closing = True
        finally:
            self._writer = None

    async def _close(self, code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(self._send({"type": "websocket.close", "code": code, "reason": reason}),
                                   CLOSE_TIMEOUT_S)
        except asyncio.TimeoutError:
            _cut(self._send)
        except Exception as exc:
            log.debug("close of /ws/updates client failed: %r", exc)
        finally:
            self.closed = True


def _cut(send: Send) -> None:
    """Drop the TCP connection of a client that never reads its close frame.

    ASGI offers no way to abort a connection; under uvicorn, `send` is a method of the
    protocol object, which holds the transport. Without this the socket would linger
    with its unsent buffer for as long as the peer keeps it open without reading.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
    else:
        log.warning("could not cut a /ws/updates client that does not read; it is left to time out")

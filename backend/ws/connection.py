"""One /ws/updates client as the protocol sees it: its topics, its rate limiter, and
its send queue, which is the socket's write buffer, bounded in bytes.

`write` never awaits. A client that stops reading lets the buffer fill; `write` then
answers False and the manager drops the client (close 1013), so a slow consumer costs
nobody else anything. The socket itself is in socket.py.
"""

from __future__ import annotations

from typing import Any

from backend.ws.socket import UpdatesSocket


class Connection:
    __slots__ = ("socket", "_limit", "topics", "chosen", "limiter", "principal")

    def __init__(self, socket: UpdatesSocket, queue_limit_bytes: int, limiter: Any, principal: Any = None) -> None:
        self.socket = socket
        self.principal = principal  # who opened it (backend.auth.principal.Principal), checked again while open
        self._limit = queue_limit_bytes
        self.topics: set[str] = set()
        self.chosen = False  # the client has subscribed or unsubscribed (see manager.open)
        self.limiter = limiter  # the flood rule for what this client sends

    @property
    def closing(self) -> bool:
        return self.socket.closing

    @property
    def closed(self) -> bool:
        return self.socket.closed

    @property
    def queued_bytes(self) -> int:
        return self.socket.buffered

    def write(self, data: bytes) -> bool:
        """Queue whole frames. False when they do not fit: the client is too slow."""
        socket = self.socket
        if socket.closing:
            return True  # on its way out; nothing more is queued, nothing to report
        if socket.buffered + len(data) > self._limit:
            return False
        socket.write(data)
        return True

    def close(self, code: int, reason: str) -> None:
        """Close after everything already queued (an error message, say); a client that
        does not read it is cut after socket.CLOSE_TIMEOUT_S."""
        self.socket.close(code, reason)

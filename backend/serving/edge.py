"""The edge of the HTTP server: limits uvicorn does not apply itself, applied where the
bytes arrive (a subclass of its httptools protocol), so that no ASGI code runs for them.

- A connection that has not sent complete request headers within `header_timeout_s`
  is closed (uvicorn waits forever; 20,000 of them exhausted the file limit).
- Request headers over `max_header_bytes` are answered 431 and the connection closed,
  before they are parsed or kept (a 64 MB header stalled the loop for seconds).
- At most `max_connections_per_address` open connections per client address, so one
  address cannot starve the others (trusted proxies, which carry everyone, are exempt).
- Idle keep-alive connections are closed by uvicorn after `keep_alive_s`.
A WebSocket keeps its slot until it closes.
"""

from __future__ import annotations

from asyncio import TimerHandle
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr

from backend.auth.networks import Network, address_in, networks
from backend.config.schema import HttpSettings
from backend.ws.socket import MAX_CLIENT_MESSAGE_BYTES, UPDATES_PATHS, UpdatesSocket


@dataclass
class EdgeLimits:
    header_timeout_s: float
    max_header_bytes: int
    max_per_address: int
    exempt: tuple[Network, ...] = ()  # trusted proxies, which carry everyone
    open_by_address: Counter = field(default_factory=Counter)
    header_timeouts: int = 0
    headers_too_large: int = 0
    address_cap_refused: int = 0

    @classmethod
    def from_settings(cls, http: HttpSettings, trusted_proxies: list[str]) -> "EdgeLimits":
        return cls(http.header_timeout_s, http.max_header_bytes, http.max_connections_per_address,
                   networks(trusted_proxies))

    def release(self, address: str) -> None:
        """A connection from `address` has closed."""
        self.open_by_address[address] -= 1
        if self.open_by_address[address] <= 0:
            del self.open_by_address[address]

    def figures(self) -> dict[str, int]:
        return {"edge_header_timeouts": self.header_timeouts, "edge_headers_too_large": self.headers_too_large,
                "edge_address_cap_refused": self.address_cap_refused,
                "edge_open_connections": sum(self.open_by_address.values())}


def _answer(status: bytes, text: str) -> bytes:
    body = text.encode()
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


TOO_LARGE = _answer(b"431 Request Header Fields Too Large", "request headers too large")
TOO_MANY = _answer(b"503 Service Unavailable", "too many connections from your address")


def edge_protocol(limits: EdgeLimits) -> type:
    """uvicorn's httptools protocol with `limits` applied (pass as uvicorn.Config(http=...))."""

    class EdgeProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._edge_address: str | None = None
            self._edge_timer: TimerHandle | None = None
            self._edge_header_bytes = 0
            self._edge_in_headers = True

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            remote = get_remote_addr(transport)
            address = remote[0] if remote else "unknown"
            if not address_in(address, limits.exempt):
                if limits.open_by_address[address] >= limits.max_per_address:
                    limits.address_cap_refused += 1
                    transport.write(TOO_MANY)
                    transport.close()
                    return
                limits.open_by_address[address] += 1
                self._edge_address = address
            self._edge_arm()

        def _edge_release(self) -> None:
            if self._edge_address is not None:
                limits.release(self._edge_address)
                self._edge_address = None

        def _edge_arm(self) -> None:
            self._edge_in_headers, self._edge_header_bytes = True, 0
            if self._edge_timer is None:
                self._edge_timer = self.loop.call_later(limits.header_timeout_s, self._edge_too_slow)

        def _edge_disarm(self) -> None:
            self._edge_in_headers = False
            if self._edge_timer is not None:
                self._edge_timer.cancel()
                self._edge_timer = None

        def _edge_too_slow(self) -> None:
            self._edge_timer = None
            if self._edge_in_headers and not self.transport.is_closing():
                limits.header_timeouts += 1
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self._edge_in_headers:
                end = data.find(b"\r\n\r\n")
                seen = self._edge_header_bytes + (len(data) if end < 0 else end)
                if seen > limits.max_header_bytes:
                    limits.headers_too_large += 1
                    self._edge_disarm()
                    self.transport.write(TOO_LARGE)
                    self.transport.close()
                    return
                self._edge_header_bytes = seen
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if not self._edge_in_headers:  # the next request on a kept-alive connection
                self._edge_arm()

        def on_headers_complete(self) -> None:
            self._edge_disarm()
            super().on_headers_complete()

        def handle_websocket_upgrade(self) -> None:
            self._edge_disarm()
            parsed = httptools.parse_url(self.url)  # uvicorn leaves an upgrade's URL unparsed
            path = self.root_path + unquote(parsed.path.decode("ascii"))
            if path in UPDATES_PATHS:
                self._take_over_updates(path, parsed.path, parsed.query or b"")
                return
            super().handle_websocket_upgrade()
            websocket = self.transport.get_protocol()
            lost = websocket.connection_lost
            # The WebSocket holds the address's slot until its socket closes. The closure
            # keeps the address only, so this HTTP protocol object (and its parser) can go.
            address, self._edge_address = self._edge_address, None

            def connection_lost(exc: Exception | None) -> None:
                if address is not None:
                    limits.release(address)
                lost(exc)

            websocket.connection_lost = connection_lost

        def _take_over_updates(self, path: str, raw_path: bytes, query: bytes) -> None:
            """/ws/updates gets its own lean socket (backend/ws/socket.py) instead of
            uvicorn's WebSocket protocol; the handshake still runs through the app."""
            self.connections.discard(self)
            address, self._edge_address = self._edge_address, None
            http = self.scope
            scope = {"type": "websocket", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                     "scheme": "wss" if http["scheme"] == "https" else "ws", "server": http["server"],
                     "client": http["client"], "root_path": self.root_path, "path": path,
                     "raw_path": raw_path, "query_string": query, "headers": http["headers"],
                     "subprotocols": [], "state": self.app_state.copy()}
            socket = UpdatesSocket(self.app, scope, MAX_CLIENT_MESSAGE_BYTES,
                                   on_lost=(lambda: limits.release(address)) if address is not None else None)
            self.transport.set_protocol(socket)
            socket.connection_made(self.transport)

        def connection_lost(self, exc: Exception | None) -> None:
            self._edge_disarm()
            self._edge_release()
            super().connection_lost(exc)

    return EdgeProtocol

"""Serving: bind the listening socket ourselves (a clear error when the port is taken),
then run uvicorn on it with the WebSocket settings /ws/updates needs."""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import threading
from typing import Any, Awaitable, Callable, Iterator

import uvicorn

from backend.config.loading import Settings
from backend.serving.edge import EdgeLimits, edge_protocol
from backend.serving.gcpolicy import tune_garbage_collector
from backend.ws.socket import MAX_CLIENT_MESSAGE_BYTES

log = logging.getLogger(__name__)


class ListenError(Exception):
    pass


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise ListenError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, settings: Settings, edge: EdgeLimits | None = None) -> uvicorn.Config:
    heartbeat = settings.config.websocket.heartbeat_interval_s
    http = settings.config.http
    return uvicorn.Config(
        app,
        # The edge protocol also takes /ws/updates sockets over (backend/ws/socket.py).
        http=edge_protocol(edge or EdgeLimits.from_settings(http, settings.config.auth.trusted_proxies)),
        timeout_keep_alive=http.keep_alive_s,
        h11_max_incomplete_event_size=http.max_header_bytes,
        log_level="warning",
        # uvicorn would believe X-Forwarded-For and -Proto from 127.0.0.1 and rewrite the
        # client address before the guard sees it: anything on the host could then claim to
        # be a trusted proxy. The guard reads them itself, from [auth] trusted_proxies only.
        proxy_headers=False,
        ws="websockets-sansio",
        # What follows is for the pages' socket.io WebSockets (uvicorn's protocol);
        # /ws/updates applies the same rules itself (backend/ws/manager.py).
        ws_max_size=MAX_CLIENT_MESSAGE_BYTES,
        # Protocol pings every heartbeat; a client that answers none for another
        # heartbeat is closed: dead peers go within two intervals.
        ws_ping_interval=heartbeat,
        ws_ping_timeout=heartbeat,
        # Compressing each message for each client costs more CPU than it saves here.
        ws_per_message_deflate=False,
        backlog=2048,
        timeout_graceful_shutdown=3,
    )


class GatewayServer(uvicorn.Server):
    """uvicorn, with one step of ours at the start of its shutdown: uvicorn closes every
    WebSocket with 1012 (service restart) before the application hears of the shutdown,
    so /ws/updates clients get the 1001 (going away) the protocol names first."""

    def __init__(self, config: uvicorn.Config, before_shutdown: Callable[[], Awaitable[None]] | None) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """As uvicorn's, less its last step: uvicorn raises the stop signal again once it has
        shut down, so the process dies of it (exit 143, or a KeyboardInterrupt traceback).
        A stop that was asked for and carried out is a success: exit 0, and one line."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)
        if self._captured_signals:
            print(f"Heimdall Live stopped ({signal.Signals(self._captured_signals[0]).name})", flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._before_shutdown is not None:
            try:
                await self._before_shutdown()
            except Exception:
                log.exception("closing /ws/updates clients at shutdown failed")
        await super().shutdown(sockets)


def serve(app: Any, settings: Settings, sock: socket.socket,
          before_shutdown: Callable[[], Awaitable[None]] | None = None, edge: EdgeLimits | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = GatewayServer(uvicorn_config(app, settings, edge), before_shutdown)
    tune_garbage_collector()
    server.run(sockets=[sock])

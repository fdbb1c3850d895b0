"""The socket I/O of /ws/updates (also served at /ws): accept, read frames, clean up.

A bare ASGI app in front of the FastAPI app: an updates connection lives for hours and
there are thousands of them, so it skips the routing and middleware layers, whose
per-connection coroutines and objects would be held (and scanned by the garbage
collector) for the connection's whole life.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from backend.ws import protocol
from backend.ws.connection import transport_of
from backend.ws.manager import ConnectionManager

PATHS = frozenset({"/ws/updates", "/ws"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class UpdatesEndpoint:
    def __init__(self, manager: ConnectionManager) -> None:
        self._manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        # Credentials and Origin were checked by the guard in front (backend/auth/guard.py).
        await send({"type": "websocket.accept"})
        try:
            receive_all = protocol.receives_all_at_first(scope.get("query_string", b""))
        except protocol.ClientError as error:
            await send({"type": "websocket.close", "code": protocol.CLOSE_POLICY_VIOLATION, "reason": error.message})
            return
        conn = self._manager.open(send, transport_of(receive), receive_all)
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                self._manager.handle_frame(conn, message.get("text"), message.get("bytes"))
        finally:
            self._manager.remove(conn)


class UpdatesRouter:
    """ASGI: WebSocket requests for PATHS go to the updates endpoint, all else to `app`."""

    def __init__(self, app: ASGIApp, endpoint: UpdatesEndpoint) -> None:
        self.app = app  # NiceGUI finds its uvicorn server by following `.app`
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] in PATHS:
            await self._endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)

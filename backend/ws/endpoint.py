"""The ASGI end of a /ws/updates (also /ws) handshake: accept, then hand the socket over.

A bare ASGI app in front of the FastAPI app, reached after the guard. It runs only for
the handshake: once it has accepted, the connection's socket (socket.py) reports its
frames to the manager, and no task or coroutine is kept per connection.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from backend.ws import protocol
from backend.ws.manager import ConnectionManager
from backend.ws.socket import UPDATES_PATHS as PATHS

log = logging.getLogger(__name__)

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
        socket = getattr(receive, "socket", None)
        if socket is None:  # not through the edge (backend/serving/edge.py), which takes these sockets over
            log.error("/ws/updates reached without the edge protocol; refusing the connection")
            await send({"type": "websocket.close", "code": 1011})
            return
        # Credentials and Origin were checked by the guard in front (backend/auth/guard.py).
        await send({"type": "websocket.accept"})
        try:
            receive_all = protocol.receives_all_at_first(scope.get("query_string", b""))
        except protocol.ClientError as error:
            await send({"type": "websocket.close", "code": protocol.CLOSE_POLICY_VIOLATION, "reason": error.message})
            return
        conn = self._manager.open(socket, receive_all, (scope.get("state") or {}).get("principal"))
        socket.hand_over(self._manager, conn)  # frames now go to the manager; this task ends


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

"""The socket I/O of /ws/updates (also served at /ws): accept, read frames, clean up."""

from __future__ import annotations

from fastapi import FastAPI, WebSocket

from backend.ws.manager import ConnectionManager

PATHS = ("/ws/updates", "/ws")


def add_websocket_routes(app: FastAPI, manager: ConnectionManager) -> None:
    async def updates(websocket: WebSocket) -> None:
        await websocket.accept()
        conn = manager.open(websocket)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                manager.handle_frame(conn, message.get("text"), message.get("bytes"))
        finally:
            manager.remove(conn)

    for path in PATHS:
        app.add_api_websocket_route(path, updates)

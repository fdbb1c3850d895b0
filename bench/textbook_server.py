"""The textbook peer of bench/fanout.py: FastAPI's documented WebSocket pattern.

A list of connections and a `broadcast` that awaits `send_text` on each in turn, as in
FastAPI's "WebSockets" tutorial (the ConnectionManager example), behind the same
POST /api/v1/signals as the gateway. uvicorn's defaults, compression off like the others.

    python bench/textbook_server.py PORT      (prints "listening PORT" when ready)
"""

from __future__ import annotations

import json
import socket
import sys
from datetime import datetime, timezone

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect


class ConnectionManager:
    def __init__(self) -> None:
        self.active_connections: list[WebSocket] = []

    async def connect(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.active_connections.append(websocket)

    def disconnect(self, websocket: WebSocket) -> None:
        self.active_connections.remove(websocket)

    async def broadcast(self, message: str) -> None:
        for connection in self.active_connections:
            await connection.send_text(message)


app = FastAPI()
manager = ConnectionManager()
seq = 0


@app.post("/api/v1/signals", status_code=201)
async def publish(request: Request) -> dict:
    global seq
    seq += 1
    data = await request.json()
    envelope = {"event": "signals:detected", "data": data,
                "timestamp": datetime.now(timezone.utc).isoformat(), "seq": seq}
    await manager.broadcast(json.dumps(envelope))
    return {"seq": seq}


@app.websocket("/ws/updates")
async def updates(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = json.loads(await websocket.receive_text())
            if message.get("event") == "subscribe":
                if websocket not in manager.active_connections:
                    manager.active_connections.append(websocket)
                await websocket.send_text(json.dumps({"event": "subscribed", "data": message.get("data"), "seq": seq}))
    except WebSocketDisconnect:
        if websocket in manager.active_connections:
            manager.disconnect(websocket)


def serve(port: int = 0) -> None:
    """Listen on 127.0.0.1:port (0: any), say so, and serve until stopped."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    print(f"listening {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", ws_per_message_deflate=False, backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)


if __name__ == "__main__":
    main()

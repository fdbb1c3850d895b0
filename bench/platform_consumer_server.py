"""The peer of bench/feed.py: a consumer built the way the Heimdall platform's own is
(fulgidus/heimdall, services/backend/src/events/consumer.py on develop): kombu's
`ConsumerMixin` in a thread, bound to the `heimdall.events` topic exchange with `#`,
prefetch 10, and for each message `asyncio.run_coroutine_threadsafe` into the server's
loop, where a manager awaits `send_text` on each WebSocket in turn (FastAPI's documented
pattern, bench/textbook_server.py). Every message goes to every subscriber.

    python bench/platform_consumer_server.py AMQP_URL   (prints "listening PORT" when ready)
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from kombu import Connection, Exchange, Queue
from kombu.mixins import ConsumerMixin


class ConnectionManager:
    def __init__(self) -> None:
        self.active_connections: list[WebSocket] = []

    async def broadcast(self, message: dict) -> None:
        text = json.dumps(message)
        for connection in list(self.active_connections):
            try:
                await connection.send_text(text)
            except Exception:
                pass


class EventConsumer(ConsumerMixin):
    def __init__(self, url: str, manager: ConnectionManager, loop: asyncio.AbstractEventLoop) -> None:
        self.connection = Connection(url)
        self.manager, self.loop = manager, loop
        exchange = Exchange("heimdall.events", type="topic", durable=False, auto_delete=False)
        self.queue = Queue("heimdall.websocket.events.bench", exchange=exchange, routing_key="#",
                           auto_delete=True, durable=False)

    def get_consumers(self, Consumer, channel):  # noqa: N803 - kombu's name
        return [Consumer(queues=[self.queue], callbacks=[self.on_message], accept=["json"], prefetch_count=10)]

    def on_message(self, body, message) -> None:
        asyncio.run_coroutine_threadsafe(self.manager.broadcast(body), self.loop)
        message.ack()


app = FastAPI()
manager = ConnectionManager()


@app.on_event("startup")
async def start_consumer() -> None:
    consumer = EventConsumer(sys.argv[1], manager, asyncio.get_running_loop())
    threading.Thread(target=consumer.run, daemon=True).start()


@app.websocket("/ws/updates")
async def updates(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = json.loads(await websocket.receive_text())
            if message.get("event") == "subscribe":
                if websocket not in manager.active_connections:
                    manager.active_connections.append(websocket)
                await websocket.send_text(json.dumps({"event": "subscribed", "data": message.get("data")}))
    except WebSocketDisconnect:
        if websocket in manager.active_connections:
            manager.active_connections.remove(websocket)


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"listening {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", ws_per_message_deflate=False, backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()

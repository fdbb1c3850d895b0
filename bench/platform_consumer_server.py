"""The peer of bench/feed.py: a consumer built the way the Heimdall platform's own is
(fulgidus/heimdall, services/backend/src/events/consumer.py on develop): kombu's
`ConsumerMixin` in a thread, bound to the `heimdall.events` topic exchange with `#`,
prefetch 10, and for each message `asyncio.run_coroutine_threadsafe` into the server's
loop, where the textbook manager (bench/textbook_server.py, FastAPI's documented
pattern) awaits `send_text` on each WebSocket in turn. Every message goes to every
subscriber.

    python bench/platform_consumer_server.py AMQP_URL   (prints "listening PORT" when ready)
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

from kombu import Connection, Exchange, Queue
from kombu.mixins import ConsumerMixin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.textbook_server import ConnectionManager, app, manager, serve  # noqa: E402


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
        asyncio.run_coroutine_threadsafe(self.manager.broadcast(json.dumps(body)), self.loop)
        message.ack()


@app.on_event("startup")
async def start_consumer() -> None:
    consumer = EventConsumer(sys.argv[1], manager, asyncio.get_running_loop())
    threading.Thread(target=consumer.run, daemon=True).start()


if __name__ == "__main__":
    serve(0)

"""The client for scripts that do not use asyncio: the async client on a thread of its own."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from typing import Any

from client.core import ConnectionState, Event, HeimdallClient


class SyncClient:
    """    with SyncClient("http://127.0.0.1:8000", topics=["signals:detected"]) as live:
            for event in live.events():
                print(event.data)
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._events: queue.Queue = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="heimdall-client", daemon=True)
        self._thread.start()
        self._client: HeimdallClient = self._call(self._make(url, options))

    async def _make(self, url: str, options: dict[str, Any]) -> HeimdallClient:
        client = HeimdallClient(url, **options)
        client.on("*", self._events.put)  # every event, gaps included
        await client.start()
        return client

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    @property
    def state(self) -> ConnectionState:
        return self._client.state

    @property
    def error(self) -> BaseException | None:
        return self._client.error

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Events as they come; stops after `timeout` seconds without one, or when closed."""
        while True:
            try:
                item = self._events.get(timeout=timeout)
            except queue.Empty:
                return
            if item is None:
                return
            yield item

    def wait_subscribed(self, timeout: float) -> None:
        """Until the gateway has confirmed the subscription: nothing published after is missed."""
        self._call(self._client.wait_subscribed(timeout))

    def subscribe(self, topics: list[str]) -> None:
        self._call(self._client.subscribe(topics))

    def close(self) -> None:
        if self._loop.is_running():
            self._call(self._client.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._events.put(None)

    def __enter__(self) -> "SyncClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

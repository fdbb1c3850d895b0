"""A real webhook receiver on 127.0.0.1 for notification tests: apprise's `json://`
posts `{"version", "title", "message", "type"}` to it. A path can be made to hang."""

from __future__ import annotations

import asyncio
import json
import threading
import time


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[dict] = []  # each with "path" and "at"
        self.hanging: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def titles(self, path: str) -> list[str]:
        return [m["title"] for m in self.received if m["path"] == "/" + path]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            if path.strip("/") in self.hanging:
                await asyncio.sleep(3600)
                return
            try:
                message = json.loads(body)
            except ValueError:
                message = {"raw": body.decode(errors="replace")}
            self.received.append({**message, "path": path, "at": time.monotonic()})
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

"""A real webhook receiver on 127.0.0.1 for notification tests: apprise's `json://`
posts `{"version", "title", "message", "type"}` to it. A path can be made to hang."""

from __future__ import annotations

import asyncio
import json
import time

from tests.loopback import LoopbackServer


class WebhookReceiver(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict] = []  # each with "path" and "at"
        self.hanging: set[str] = set()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def titles(self, path: str) -> list[str]:
        return [m["title"] for m in self.received if m["path"] == "/" + path]

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

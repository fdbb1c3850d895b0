"""A lean WebSocket client (asyncio Protocol, no library) for load generation.

Thousands of subscribers in one process cost the load generator little, so that the
figures measure the gateway rather than the client. Real frames over real sockets;
it answers pings, sends masked frames, and hands each text message to a callback.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from typing import Callable


def masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))  # client frames are small and rare here
    return header + mask + masked


class LeanSubscriber(asyncio.Protocol):
    def __init__(self, host: str, port: int, path: str, on_text: Callable[[bytes], None]) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self._on_text = on_text
        self._buffer = bytearray()
        self._open = False
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self._request)

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(masked_frame(0x1, text.encode()))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._open:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in self._buffer[: self._buffer.find(b"\r\n")]:
                self.ready.set_exception(ConnectionError(bytes(self._buffer[:end]).decode(errors="replace")))
                return
            del self._buffer[: end + 4]
            self._open = True
            self.ready.set_result(True)
        self._frames()

    def _frames(self) -> None:
        buf = self._buffer
        pos = 0
        while len(buf) - pos >= 2:
            opcode = buf[pos] & 0x0F
            n = buf[pos + 1] & 0x7F
            head = 2
            if n == 126:
                if len(buf) - pos < 4:
                    break
                n = struct.unpack_from("!H", buf, pos + 2)[0]
                head = 4
            elif n == 127:
                if len(buf) - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if len(buf) - pos < head + n:
                break
            payload = bytes(buf[pos + head: pos + head + n])
            pos += head + n
            if opcode == 0x1:
                self._on_text(payload)
            elif opcode == 0x9:  # ping
                self.transport.write(masked_frame(0xA, payload))
            elif opcode == 0x8:
                self.transport.close()
        del buf[:pos]

    def connection_lost(self, exc) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the handshake"))
        if not self.closed.done():
            self.closed.set_result(exc)


async def open_subscriber(host: str, port: int, path: str, on_text: Callable[[bytes], None]) -> LeanSubscriber:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: LeanSubscriber(host, port, path, on_text), host, port)
    await protocol.ready
    return protocol

"""Fake monitoring targets: a real HTTP server on 127.0.0.1, in a thread of its own.

Each path answers the way a kind of target does (healthy, slow, 503, garbage, a
KiwiSDR status page, an OpenWebRX status.json, never answering, ...). A test can change
what a path does while the gateway polls it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Callable

OPENWEBRX_STATUS = {
    "receiver": {"name": "Torino", "admin": "op@example.org", "gps": {"lat": 45.044, "lon": 7.672},
                 "asl": 250, "location": "Torino, Italy"},
    "clients": 3,
    "max_clients": 20,
    "sw_version": "v1.2.2",
    "sdrs": [{"name": "RTL-SDR", "type": "rtl_sdr",
              "profiles": [{"name": "2m", "center_freq": 145_000_000, "sample_rate": 2_400_000},
                           {"name": "70cm", "center_freq": 433_500_000, "sample_rate": 2_400_000}]}],
}

KIWISDR_STATUS = """status=active
offline=no
name=Genova KiwiSDR
sdr_hw=KiwiSDR v1.700 GPS ANT
op_email=op@example.org
bands=0-30000000
users=2
users_max=8
avatar_ctime=1700000000
gps=(44.395, 8.956)
gps_good=7
fixes=123456
fixes_min=12
fixes_hour=700
tdoa_id=
tdoa_ch=8
asl=100
loc=Genova, Italy
sw_version=KiwiSDR_v1.700
antenna=Wellbrook loop
snr=21,18
ant_connected=1
adc_ov=0
clk_ext_gps=1,1
uptime=86400
gps_date=2026-11-25
date=2026-11-25 12:00
"""

# behaviour: (status, content type, body, delay seconds) or a special word.
Behaviour = tuple[int, str, bytes, float] | str

BEHAVIOURS: dict[str, Behaviour] = {
    "healthy": (200, "application/json", b'{"status": "ok"}', 0.0),
    "degraded-body": (200, "application/json", b'{"status": "degraded"}', 0.0),
    "slow": (200, "application/json", b'{"status": "ok"}', 0.6),
    "503": (503, "text/plain", b"Service Unavailable", 0.0),
    "garbage": (200, "application/octet-stream", b"\x00\xffgarbage{{{", 0.0),
    "truncated": (200, "application/json", json.dumps(OPENWEBRX_STATUS).encode()[:80], 0.0),
    "openwebrx": (200, "application/json", json.dumps(OPENWEBRX_STATUS).encode(), 0.0),
    "kiwisdr": (200, "text/plain", KIWISDR_STATUS.encode(), 0.0),
    "kiwisdr-offline": (200, "text/plain", KIWISDR_STATUS.replace("status=active", "status=offline").encode(), 0.0),
    "websdr": (200, "text/html", b"<html><head><title>WebSDR Genova</title></head><body>...</body></html>", 0.0),
    "hang": "hang",  # accepts, reads the request, never answers
    "close": "close",  # closes the connection without an answer
    "head-refused": "head-refused",  # HEAD is 405, GET is 200
}


class FakeTargets:
    """`url(path)` for a base path; `set(path, behaviour)` to change what it does."""

    def __init__(self) -> None:
        self.routes: dict[str, str] = {}
        self.hits: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def __enter__(self) -> "FakeTargets":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=4096))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def set(self, name: str, behaviour: str) -> None:
        """Target `name` (its URL is url(name)) now behaves as `behaviour`."""
        assert behaviour in BEHAVIOURS, behaviour
        self.routes[name] = behaviour

    def url(self, name: str, behaviour: str | None = None) -> str:
        if behaviour is not None:
            self.set(name, behaviour)
        return f"http://127.0.0.1:{self.port}/{name}/"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target = head.split(b" ", 2)[:2]
            name = target.decode().strip("/").split("/")[0]
            self.hits[name] = self.hits.get(name, 0) + 1
            # A path not set by a test behaves as its name says: /hang-17/ hangs, /openwebrx-3/ is a receiver.
            chosen = self.routes.get(name) or name.rsplit("-", 1)[0]
            behaviour = BEHAVIOURS.get(chosen, (404, "text/plain", b"no such target", 0.0))
            if behaviour == "hang":
                await asyncio.sleep(3600)
                return
            if behaviour == "close":
                return
            if behaviour == "head-refused":
                behaviour = (405, "text/plain", b"", 0.0) if method == b"HEAD" else BEHAVIOURS["healthy"]
            status, content_type, body, delay = behaviour
            if delay:
                await asyncio.sleep(delay)
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n".encode() + (b"" if method == b"HEAD" else body)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass  # a client that went away, or the server shutting down
        finally:
            writer.close()


def refused_url() -> str:
    """A URL on a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def wait_for(condition: Callable[[], object], timeout: float = 15, interval: float = 0.1):
    """Poll `condition` until it returns something true; that value, or AssertionError."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")

"""Fake monitoring targets: a real HTTP server on 127.0.0.1, in a thread of its own.

Each path answers the way a kind of target does (healthy, slow, 503, garbage, a
KiwiSDR status page, an OpenWebRX status.json, never answering, ...). A test can change
what a path does while the gateway polls it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from pathlib import Path

from tests.loopback import LoopbackServer

FIXTURES = Path(__file__).with_name("fixtures") / "receivers"


def fixture(name: str) -> bytes:
    """Bytes a real receiver served (see tests/fixtures/receivers/README.md)."""
    return (FIXTURES / name).read_bytes()


# OpenWebRX's answers by release, path by path, as its own code serves them
# (jketterl/openwebrx `owrx/http.py` routes; status.json bodies captured from a real
# server; metrics shapes from `owrx/controllers/metrics.py`). A path a release does not
# have is its HTTP 404.
OPENWEBRX_1_1 = {
    "status.json": (200, "application/json", fixture("openwebrx-1.1.0-dev.status.json")),
    "metrics.json": (200, "application/json", b'{"openwebrx": {"users": 3}}'),
    "metrics": (200, "text/plain; version=0.0.4",
                b"# https://prometheus.io/docs/instrumenting/exposition_formats/\nopenwebrx_users 3"),
}
OPENWEBRX_0_20 = {
    "status.json": (200, "application/json", fixture("openwebrx-0.20.3.status.json")),
    "metrics": (200, "application/json", b'{"openwebrx": {"users": 1}}'),
}
# Before 0.18: only the text status of `StatusController` (image-2020-02-08).
OPENWEBRX_0_17 = {
    "status": (200, "text/html", b"status=active\nname=IZ1XYZ Torino\nop_email=op@example.org\nusers=4\n"
                                 b"users_max=20\ngps=(45.044, 7.672)\nasl=250\nloc=Torino, Italy\n"
                                 b"sw_version=v0.17.3\navatar_ctime=1580000000.0"),
}
# The SDR failed to start: the receiver still answers, with no SDR listed.
OPENWEBRX_NO_SDR = {
    **OPENWEBRX_1_1,
    "status.json": (200, "application/json", json.dumps(
        {**json.loads(fixture("openwebrx-1.1.0-dev.status.json")), "sdrs": []}).encode()),
}
# A broken or hostile receiver: numbers Python reads as inf and nan.
OPENWEBRX_HOSTILE = {
    "status.json": (200, "application/json",
                    b'{"receiver": {"name": "x", "asl": 1e999, "gps": {"lat": NaN, "lon": Infinity}}, '
                    b'"max_clients": -Infinity, "version": "v1.1.0", "sdrs": [{"profiles": '
                    b'[{"center_freq": 1e999, "sample_rate": NaN}]}]}'),
    "metrics.json": (200, "application/json", b'{"openwebrx": {"users": NaN}}'),
}

KIWISDR_ACTIVE = fixture("kiwisdr-1.711-active.status.txt").decode()

# behaviour: (status, content type, body, delay seconds), a map of sub-path to
# (status, content type, body) for targets with several paths, or a special word.
Behaviour = tuple[int, str, bytes, float] | dict[str, tuple[int, str, bytes]] | str

def kiwisdr_snr(now_s: float, hours: int = 3) -> bytes:
    """A KiwiSDR's /snr answer, built to the shape of its AJAX_SNR code
    (jks-prv/Beagle_SDR_GPS rx/rx_server_ajax.cpp, measurements from SNR_meas in
    rx/rx_util.cpp): its ring in ring order, so not oldest first; `ts` in asctime form, in
    UTC (`utc: 1`); per entry the whole span, HF from 1.8 MHz, then four sub-bands in kHz.
    No real capture is in the fixtures; the numbers are a quiet HF receiver's."""
    entries = []
    for age in range(hours):
        stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(now_s - (age + 0.5) * 3600))
        snr = 20 + age
        bands = [(0, 30000), (1800, 30000), (0, 1800), (1800, 10000), (10000, 20000), (20000, 30000)]
        entries.append({"ts": stamp, "seq": 100 - age, "utc": 1, "ihr": 1, "snr": [
            {"lo": lo, "hi": hi, "min": -130, "max": -60, "p50": -115 + i, "p95": -115 + i + snr - i, "snr": snr - i}
            for i, (lo, hi) in enumerate(bands)]})
    entries = entries[1:] + entries[:1]  # a ring: the newest is not last
    return json.dumps(entries).encode()


# A KiwiSDR, path by path: its status page and its own SNR measurements.
KIWISDR = {
    "status": (200, "text/plain", KIWISDR_ACTIVE.encode()),
    "snr": (200, "application/json", kiwisdr_snr(time.time())),
}


BEHAVIOURS: dict[str, Behaviour] = {
    "healthy": (200, "application/json", b'{"status": "ok"}', 0.0),
    "degraded-body": (200, "application/json", b'{"status": "degraded"}', 0.0),
    "slow": (200, "application/json", b'{"status": "ok"}', 0.6),
    "503": (503, "text/plain", b"Service Unavailable", 0.0),
    "garbage": (200, "application/octet-stream", b"\x00\xffgarbage{{{", 0.0),
    "truncated": (200, "application/json", fixture("openwebrx-1.1.0-dev.status.json")[:80], 0.0),
    "openwebrx": OPENWEBRX_1_1,
    "openwebrx-0.20": OPENWEBRX_0_20,
    "openwebrx-0.17": OPENWEBRX_0_17,
    "openwebrx-no-sdr": OPENWEBRX_NO_SDR,
    "openwebrx-hostile": OPENWEBRX_HOSTILE,
    "kiwisdr": KIWISDR,
    **{f"kiwisdr-{state}": (200, "text/plain", fixture(f"kiwisdr-1.711-{state}.status.txt"), 0.0)
       for state in ("offline-updating", "private-unregistered", "no-gps-fix", "default-location",
                     "password-all-channels")},
    "websdr": (200, "text/html", b"<html><head><title>WebSDR Genova</title></head><body>...</body></html>", 0.0),
    "hang": "hang",  # accepts, reads the request, never answers
    "close": "close",  # closes the connection without an answer
    "head-refused": "head-refused",  # HEAD is 405, GET is 200
    "flap": "flap",  # 503 and 200 by turns, one each request
}


class FakeTargets(LoopbackServer):
    """`url(path)` for a base path; `set(path, behaviour)` to change what it does."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, str] = {}
        self.hits: dict[str, int] = {}
        # Source addresses whose connections are reset at once, as a firewall near the
        # target or a broken route would (tests of probes from several sites).
        self.refused_from: set[str] = set()
        self.connections_from: dict[str, int] = {}  # by source address

    def set(self, name: str, behaviour: str) -> None:
        """Target `name` (its URL is url(name)) now behaves as `behaviour`."""
        assert behaviour in BEHAVIOURS, behaviour
        self.routes[name] = behaviour

    def url(self, name: str, behaviour: str | None = None) -> str:
        if behaviour is not None:
            self.set(name, behaviour)
        return f"http://127.0.0.1:{self.port}/{name}/"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        source = writer.get_extra_info("peername")[0]
        self.connections_from[source] = self.connections_from.get(source, 0) + 1
        if source in self.refused_from:
            # SO_LINGER 0: the close is a reset, not an orderly end.
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()
            return
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target = head.split(b" ", 2)[:2]
            name, _, subpath = target.decode().strip("/").partition("/")
            self.hits[name] = self.hits.get(name, 0) + 1
            # A path not set by a test behaves as its name says: /hang-17/ hangs, /openwebrx-3/ is a receiver.
            chosen = self.routes.get(name) or name.rsplit("-", 1)[0]
            behaviour = BEHAVIOURS.get(chosen, (404, "text/plain", b"no such target", 0.0))
            if behaviour == "hang":
                await asyncio.sleep(3600)
                return
            if behaviour == "close":
                return
            if behaviour == "flap":
                behaviour = BEHAVIOURS["503"] if self.hits[name] % 2 else BEHAVIOURS["healthy"]
            if behaviour == "head-refused":
                behaviour = (405, "text/plain", b"", 0.0) if method == b"HEAD" else BEHAVIOURS["healthy"]
            if isinstance(behaviour, dict):
                behaviour = (*behaviour.get(subpath, (404, "text/html", b"404 not found")), 0.0)
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



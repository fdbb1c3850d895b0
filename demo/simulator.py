"""The simulated network: four platform services and seven receivers answering HTTP on
127.0.0.1, and an acquisition/inference pair posting detections and localizations."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from typing import Any

import httpx

from backend.config.schema import Config

SERVICES = ["rf-acquisition", "training", "inference", "data-ingestion-web"]
RECEIVERS = [  # id, name, kind, lat, lon, altitude
    ("giaveno", "Aquila di Giaveno", "openwebrx", 45.02, 7.29, 600),
    ("montanaro", "Montanaro", "openwebrx", 45.234, 7.857, 300),
    ("torino", "Torino", "kiwisdr", 45.044, 7.672, 250),
    ("coazze", "Coazze", "openwebrx", 45.03, 7.27, 700),
    ("passo-del-giovi", "Passo del Giovi", "openwebrx", 44.561, 8.956, 480),
    ("genova", "Genova", "kiwisdr", 44.395, 8.956, 100),
    ("milano-baggio", "Milano - Baggio", "openwebrx", 45.478, 9.123, 120),
]
FLAKY_SERVICE = "training"  # sometimes slow, sometimes failing
FLAKY_RECEIVER = "passo-del-giovi"  # goes offline now and then
TARGETS = [(45.07, 7.69), (44.41, 8.93)]  # around Turin and Genoa
FREQUENCIES_MHZ = [144.8, 145.5, 145.6125, 433.5, 434.925]


def demo_config(port: int, interval_s: float = 5.0) -> Config:
    base = f"http://127.0.0.1:{port}"
    return Config.model_validate({
        "services": [{"name": name, "url": f"{base}/service/{name}/health"} for name in SERVICES],
        "websdrs": [{"id": key, "name": name, "url": f"{base}/receiver/{key}/", "kind": kind, "latitude": lat,
                     "longitude": lon, "altitude_m": alt, "frequency_ranges_mhz": [[144, 146], [430, 440]]}
                    for key, name, kind, lat, lon, alt in RECEIVERS],
        "polling": {"services_interval_s": interval_s, "websdrs_interval_s": interval_s, "timeout_s": 2,
                    "degraded_threshold_ms": 500},
    })


class SimulatedNetwork:
    """Answers the monitor's checks the way the real kinds of target do."""

    def __init__(self, sock: socket.socket, rng: random.Random | None = None) -> None:
        self._sock = sock
        self._rng = rng or random.Random()
        self._started = time.monotonic()

    async def serve(self) -> None:
        server = await asyncio.start_server(self._handle, sock=self._sock)
        async with server:
            await server.serve_forever()

    def _phase(self, period_s: float, down_s: float) -> bool:
        """True during the last `down_s` seconds of every `period_s`."""
        return (time.monotonic() - self._started) % period_s > period_s - down_s

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            path = head.split(b" ", 2)[1].decode()
            status, content_type, body = await self._answer(path)
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, IndexError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _answer(self, path: str) -> tuple[int, str, bytes]:
        parts = path.strip("/").split("/")
        if parts[0] == "service" and len(parts) >= 2:
            if parts[1] == FLAKY_SERVICE and self._phase(120, 20):
                return 503, "application/json", b'{"status": "unhealthy"}'
            if parts[1] == FLAKY_SERVICE and self._phase(45, 10):
                await asyncio.sleep(0.8)  # slow: degraded
            return 200, "application/json", b'{"status": "ok"}'
        if parts[0] == "receiver" and len(parts) >= 2:
            key = parts[1]
            if key == FLAKY_RECEIVER and self._phase(150, 40):
                return 503, "text/plain", b"receiver down"
            kind = next((r[2] for r in RECEIVERS if r[0] == key), None)
            receiver = next((r for r in RECEIVERS if r[0] == key), None)
            await asyncio.sleep(self._rng.uniform(0.02, 0.25))
            if kind == "kiwisdr" and path.endswith("/status"):
                return 200, "text/plain", self._kiwisdr(receiver).encode()
            if kind == "openwebrx" and path.endswith("/status.json"):
                return 200, "application/json", json.dumps(self._openwebrx(receiver)).encode()
            if kind == "openwebrx" and path.endswith("/metrics.json"):
                users = {"openwebrx": {"users": self._rng.randint(0, 6)}}
                return 200, "application/json", json.dumps(users).encode()
        return 404, "text/plain", b"not here"

    def _openwebrx(self, receiver: tuple) -> dict[str, Any]:
        # The shape of OpenWebRX 1.x's status.json (tests/fixtures/receivers/); the user
        # count is in metrics.json, as in the real software.
        _, name, _, lat, lon, alt = receiver
        return {"receiver": {"name": name, "admin": "demo@example.org", "gps": {"lat": lat, "lon": lon}, "asl": alt,
                             "location": name}, "max_clients": 20,
                "version": "v1.2.2", "sdrs": [{"name": "RTL-SDR", "type": "RtlSdrSource", "profiles": [
                    {"name": "2m", "center_freq": 145_000_000, "sample_rate": 2_400_000},
                    {"name": "70cm", "center_freq": 434_000_000, "sample_rate": 2_400_000}]}]}

    def _kiwisdr(self, receiver: tuple) -> str:
        # Keys in the order KiwiSDR v1.711's AJAX_STATUS writes them (tests/fixtures/receivers/).
        _, name, _, lat, lon, alt = receiver
        return (f"status=active\noffline=no\nname={name} (demo)\nsdr_hw=KiwiSDR 2 v1.711\nbands=0-30000000\n"
                f"users={self._rng.randint(0, 4)}\nusers_max=8\ngps=({lat:.6f}, {lon:.6f})\ngps_good=8\nfixes=4200\n"
                f"asl={alt}\nloc={name}\nsw_version=KiwiSDR_v1.711\nantenna=Discone\n"
                f"snr={self._rng.randint(15, 25)},{self._rng.randint(10, 20)}\nant_connected=1\nadc_ov=0\n"
                f"uptime={int(time.monotonic() - self._started) + 86400}\n")


class SimulatedPlatform:
    """Acquisition and inference: post plausible detections and localizations through the
    real API with the real token, every few seconds."""

    def __init__(self, gateway_url: str, token: str, rng: random.Random | None = None,
                 every_s: float = 3.0) -> None:
        self._url = gateway_url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._rng = rng or random.Random()
        self._every_s = every_s

    async def run(self) -> None:
        await asyncio.sleep(1.0)  # let the gateway start answering
        async with httpx.AsyncClient(base_url=self._url, headers=self._headers, timeout=10) as http:
            while True:
                try:
                    await self._burst(http)
                except httpx.HTTPError:
                    pass  # the gateway is shutting down or busy: try again next time
                await asyncio.sleep(self._every_s * self._rng.uniform(0.5, 1.5))

    async def _burst(self, http: httpx.AsyncClient) -> None:
        rng = self._rng
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        frequency = rng.choice(FREQUENCIES_MHZ) + rng.choice([0, 0.0125, -0.0125])
        heard_by = rng.sample(RECEIVERS, k=rng.randint(2, 4))
        for receiver in heard_by:
            await http.post("/api/v1/signals", json={
                "frequency_mhz": round(frequency, 4), "snr_db": round(rng.uniform(3, 30), 1),
                "websdr_id": receiver[0], "timestamp": now, "source": "demo"})
        if rng.random() < 0.5:
            lat, lon = rng.choice(TARGETS)
            major = rng.uniform(800, 5000)
            await http.post("/api/v1/localizations", json={
                "latitude": round(lat + rng.gauss(0, 0.05), 5), "longitude": round(lon + rng.gauss(0, 0.05), 5),
                "uncertainty_m": round(major, 0), "confidence": round(rng.uniform(0.5, 0.95), 2), "timestamp": now,
                "frequency_mhz": round(frequency, 4), "source": "demo",
                "uncertainty_ellipse": {"semi_major_m": round(major, 0), "semi_minor_m": round(major * rng.uniform(0.3, 0.8), 0),
                                        "orientation_deg": round(rng.uniform(0, 180), 0)}})

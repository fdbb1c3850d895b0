"""Clients written for the original Heimdall gateway, against a real gateway process.

The original client (fulgidus/heimdall `frontend/src/lib/websocket.ts`) connects, never
sends `subscribe` (its subscriptions are local callbacks by event name), and sends
`{"event": "ping", "data": {}, "timestamp": ...}` every 30 s; the original gateway
(`services/backend/src/routers/websocket.py`) broadcast every event to every
connection. `OriginalClient` below does exactly that and nothing more.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fake_targets import FakeTargets


def strict_loads(text: str):
    """JSON as a browser's JSON.parse reads it: NaN and Infinity are errors."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


class OriginalClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.received: list[dict] = []

    async def __aenter__(self) -> "OriginalClient":
        self.ws = await connect(self.url)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def ping(self) -> None:
        await self.ws.send(json.dumps({"event": "ping", "data": {},
                                       "timestamp": datetime.now(timezone.utc).isoformat()}))

    async def until(self, event: str, timeout: float = 15) -> dict:
        """Messages until one of `event`, every one parsed as a browser would."""
        async with asyncio.timeout(timeout):
            while True:
                message = strict_loads(await self.ws.recv())
                self.received.append(message)
                if message["event"] == event:
                    return message


def receiver(key: str, behaviour: str, targets: FakeTargets) -> str:
    return (f'[[websdrs]]\nid = "{key}"\nname = "{key.title()}"\nurl = "{targets.url(key, behaviour)}"\n'
            f'kind = "openwebrx"\nlatitude = 45.0\nlongitude = 7.6\n')


def detection(i: int = 0) -> dict:
    return {"frequency_mhz": 145.5 + i / 1000, "snr_db": 10.0, "websdr_id": "torino",
            "timestamp": "2026-11-25T12:00:00Z"}


async def test_a_client_that_never_subscribes_gets_state_pushes_and_detections(make_gateway):
    with FakeTargets() as targets:
        gw = make_gateway(raw=f"""
[polling]
services_interval_s = 1
websdrs_interval_s = 1
timeout_s = 1
[[services]]
name = "inference"
url = "{targets.url("inference", "healthy")}health"
""" + receiver("torino", "openwebrx", targets))
        async with OriginalClient(gw.ws_url) as client:
            assert (await client.until("connected"))["data"]["epoch"]
            await client.ping()
            assert (await client.until("pong"))["event"] == "pong"
            services = await client.until("services:health")
            assert services["data"]["inference"]["status"] in ("unknown", "healthy")
            receivers = await client.until("websdrs:status")
            assert "torino" in receivers["data"]
            async with httpx.AsyncClient() as http:
                posted = (await http.post(gw.url + "/api/v1/signals", json=detection(), headers=gw.auth())).json()
            while (await client.until("signals:detected"))["data"]["id"] != posted["id"]:
                pass


async def test_the_first_subscribe_narrows_a_connection_to_its_topics(gateway):
    async with connect(gateway.ws_url) as ws:
        strict_loads(await ws.recv())  # connected
        await ws.send(json.dumps({"event": "subscribe", "data": {"events": ["localizations:updated"]}}))
        while strict_loads(await ws.recv())["event"] != "subscribed":
            pass
        async with httpx.AsyncClient() as http:
            await http.post(gateway.url + "/api/v1/signals", json=detection(1), headers=gateway.auth())
        await ws.send(json.dumps({"event": "ping"}))
        after = [strict_loads(await ws.recv())["event"] for _ in range(1)]
        assert after == ["pong"]  # the detection was not sent


async def test_unsubscribing_from_the_default_keeps_the_other_topics(gateway):
    async with connect(gateway.ws_url) as ws:
        strict_loads(await ws.recv())
        await ws.send(json.dumps({"event": "unsubscribe", "data": {"events": ["signals:detected"]}}))
        assert strict_loads(await ws.recv())["event"] == "unsubscribed"
        async with httpx.AsyncClient() as http:
            await http.post(gateway.url + "/api/v1/signals", json=detection(2), headers=gateway.auth())
            await http.post(gateway.url + "/api/v1/localizations", headers=gateway.auth(), json={
                "latitude": 45.0, "longitude": 7.6, "uncertainty_m": 500.0, "confidence": 0.5,
                "timestamp": "2026-11-25T12:00:00Z"})
        assert strict_loads(await ws.recv())["event"] == "localizations:updated"


async def test_initial_none_receives_nothing_until_it_subscribes(gateway):
    async with connect(gateway.ws_url + "?initial=none") as ws:
        strict_loads(await ws.recv())
        async with httpx.AsyncClient() as http:
            await http.post(gateway.url + "/api/v1/signals", json=detection(3), headers=gateway.auth())
        await ws.send(json.dumps({"event": "ping"}))
        assert strict_loads(await ws.recv())["event"] == "pong"


async def test_a_bad_initial_value_is_refused_with_the_reason(gateway):
    async with connect(gateway.ws_url + "?initial=some") as ws:
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed:
            pass
    assert ws.close_code == 1008 and "initial" in ws.close_reason


async def test_shutdown_closes_clients_with_1001(make_gateway):
    gw = make_gateway()
    async with connect(gw.ws_url) as ws:
        strict_loads(await ws.recv())
        await asyncio.to_thread(gw.stop)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed:
            pass
    assert ws.close_code == 1001 and ws.close_reason == "server shutting down"


async def test_a_hostile_receiver_cannot_put_nan_on_the_wire(make_gateway):
    with FakeTargets() as targets:
        gw = make_gateway(raw="[polling]\nwebsdrs_interval_s = 1\ntimeout_s = 1\n"
                                + receiver("hostile", "openwebrx-hostile", targets))

        async with OriginalClient(gw.ws_url) as client:
            while True:
                status = await client.until("websdrs:status")
                if status["data"]["hostile"]["last_check"]:
                    break
        entry = status["data"]["hostile"]
        assert entry["status"] == "online" and entry["details"]["name"] == "x"
        for path in ("/api/v1/websdrs", "/api/v1/websdrs/health", "/api/v1/events"):
            strict_loads(httpx.get(gw.url + path).text)

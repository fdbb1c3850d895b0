"""The Python client, the watch command and the demo network, against real gateways on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys

import httpx

from client import ConnectionState, HeimdallClient, SyncClient, TokenRefused, backoff_delay
from tests.fake_targets import refused_url
from tests.gateway import ROOT, TOKEN, Gateway
from tests.waiting import wait_for

# -- the schedule -----------------------------------------------------------------------------


def test_backoff_schedule_and_jitter():
    rng = random.Random(3)
    for attempt, base in enumerate([1, 2, 4, 8, 16, 30, 30, 30], start=1):
        delays = [backoff_delay(attempt, rng=rng) for _ in range(200)]
        assert base * 0.9 <= min(delays) and max(delays) <= base * 1.1
        assert max(delays) - min(delays) > base * 0.1  # there is jitter


async def test_reconnects_on_the_schedule_then_gives_up_when_bounded():
    slept, states = [], []

    async def fake_sleep(seconds: float) -> None:  # the controllable clock
        slept.append(seconds)

    client = HeimdallClient(refused_url(), max_attempts=7, sleep=fake_sleep, rng=random.Random(1),
                            poll_after_failures=100, on_state=states.append)
    await client.start()
    await client.wait_for_state(ConnectionState.DISCONNECTED, timeout=10)
    assert len(slept) == 7
    for delay, base in zip(slept, [1, 2, 4, 8, 16, 30, 30]):
        assert base * 0.9 <= delay <= base * 1.1
    assert states[0] == ConnectionState.CONNECTING and states[-1] == ConnectionState.DISCONNECTED
    assert ConnectionState.RECONNECTING in states
    await client.close()


# -- against a gateway -------------------------------------------------------------------------


def post(gw: Gateway, i: int) -> dict:
    body = {"frequency_mhz": 145.0 + i / 1000, "snr_db": 10.0, "websdr_id": "torino",
            "timestamp": "2026-11-25T12:00:00Z", "n": i}
    response = httpx.post(gw.url + "/api/v1/signals", json=body, headers=gw.auth(), timeout=10)
    assert response.status_code == 201
    return response.json()


async def connected_client(gw: Gateway, topics: list[str], **options) -> tuple[HeimdallClient, list]:
    """A started client, connected, and the list every event it delivers lands in."""
    received = Received()
    client = HeimdallClient(gw.url, topics=topics, **options)
    client.on("*", received.append)
    await client.start()
    await client.wait_subscribed(timeout=10)
    return client, received


class Received(list):
    """Every event the client delivered, in order; `arrived` is set at each one."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def append(self, item) -> None:
        super().append(item)
        self.arrived.set()


async def collect(client: HeimdallClient, received: Received, count: int, timeout: float = 20) -> None:
    """Until `count` detections were delivered: woken by each delivery, not by a clock."""
    async with asyncio.timeout(timeout):
        while True:
            received.arrived.clear()
            if len([e for e in received if e.event == "signals:detected"]) >= count:
                return
            await received.arrived.wait()


async def test_watchdog_and_resume_without_gap_or_duplicate(make_gateway):
    gw = make_gateway(heartbeat=0.5)
    client, received = await connected_client(gw, ["signals:detected"])
    sent = [await asyncio.to_thread(post, gw, i) for i in range(3)]
    await collect(client, received, 3)
    # The server stops answering: nothing arrives, the watchdog replaces the connection.
    os.kill(gw.process.pid, signal.SIGSTOP)
    try:
        await client.wait_for_state(ConnectionState.RECONNECTING, timeout=10)
    finally:
        os.kill(gw.process.pid, signal.SIGCONT)
    # Published while the client is away: replayed on resume.
    sent += [await asyncio.to_thread(post, gw, i) for i in range(3, 8)]
    await client.wait_for_state(ConnectionState.CONNECTED, timeout=20)
    sent += [await asyncio.to_thread(post, gw, i) for i in range(8, 10)]
    await collect(client, received, 10)
    sent.append(await asyncio.to_thread(post, gw, 10))  # a marker: a late duplicate would come before it
    await collect(client, received, 11)
    detections = [e for e in received if e.event == "signals:detected"]
    assert [e.data["id"] for e in detections] == [s["id"] for s in sent]  # every one, once, in order
    assert client.recovered is True and not [e for e in received if e.event == "gap"]
    await client.close()


async def test_resume_after_the_server_closes_the_connection(make_gateway):
    gw = make_gateway()
    client, received = await connected_client(gw, ["signals:detected"])
    sent = [await asyncio.to_thread(post, gw, 1)]
    await collect(client, received, 1)
    # Make the server hang up (its flood rule closes with 1008), then publish while the client is away.
    for _ in range(100):
        await client._ws.send(json.dumps({"event": "ping"}))
    await client.wait_for_state(ConnectionState.RECONNECTING, timeout=10)
    sent += [await asyncio.to_thread(post, gw, i) for i in range(2, 6)]
    await client.wait_for_state(ConnectionState.CONNECTED, timeout=20)
    sent += [await asyncio.to_thread(post, gw, 6)]
    await collect(client, received, 6)
    sent.append(await asyncio.to_thread(post, gw, 7))  # a marker: a late duplicate would come before it
    await collect(client, received, 7)
    assert [e.data["id"] for e in received if e.event == "signals:detected"] == [s["id"] for s in sent]
    assert client.recovered is True and gw.stats()["ws_rate_limited_closed"] == 1
    await client.close()


async def test_a_gateway_restart_is_reported_as_a_gap_with_fresh_state(make_gateway):
    gw = make_gateway()
    client, received = await connected_client(gw, ["*"])
    await asyncio.to_thread(post, gw, 1)
    await collect(client, received, 1)
    await asyncio.to_thread(gw.restart)
    await client.wait_for_state(ConnectionState.CONNECTED, timeout=20)

    def after_gap() -> list:
        names = [e.event for e in received]
        return received[names.index("gap") + 1:] if "gap" in names else []

    # The gap is said, then fresh state follows: the latest value of each state topic.
    await asyncio.to_thread(
        wait_for, lambda: {"services:health", "websdrs:status"} <= {e.event for e in after_gap()}, 10)
    assert client.recovered is False
    fresh = await asyncio.to_thread(post, gw, 2)
    await collect(client, received, 2)
    assert received[-1].data["id"] == fresh["id"]
    await client.close()


class Forwarder:
    """A TCP forwarder: the client's only way to the WebSocket, switched on when a test says."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = None

    async def start(self) -> None:
        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except ConnectionError:
                pass
            finally:
                writer.close()

        async def handle(reader, writer):
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        self.server = await asyncio.start_server(handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server:
            self.server.close()


async def test_polls_while_the_websocket_is_refused_then_returns_to_it(make_gateway):
    gw = make_gateway()
    forwarder = Forwarder(gw.port)
    received = Received()
    client = HeimdallClient(gw.url, ws_url=f"ws://127.0.0.1:{forwarder.port}/ws/updates", topics=["signals:detected"],
                            poll_after_failures=1, poll_interval_s=0.3)
    client.on("*", received.append)
    await client.start()
    # A new client starts from now (as a new subscription does): wait for its first poll.
    await asyncio.to_thread(wait_for, lambda: client.position.epoch is not None, 10)
    first = await asyncio.to_thread(post, gw, 1)
    second = await asyncio.to_thread(post, gw, 2)
    await collect(client, received, 2)
    polled = [e for e in received if e.event == "signals:detected"]
    assert [e.data["id"] for e in polled] == [first["id"], second["id"]] and {e.via for e in polled} == {"polling"}
    assert client.state != ConnectionState.CONNECTED
    await forwarder.start()  # the WebSocket is reachable again
    await client.wait_for_state(ConnectionState.CONNECTED, timeout=40)
    third = await asyncio.to_thread(post, gw, 3)
    await collect(client, received, 3)
    fourth = await asyncio.to_thread(post, gw, 4)  # a poll still running would bring it, or a repeat, first
    await collect(client, received, 4)
    detections = [e for e in received if e.event == "signals:detected"]
    assert [e.data["id"] for e in detections] == [first["id"], second["id"], third["id"], fourth["id"]]
    assert [e.via for e in detections[2:]] == ["websocket", "websocket"]
    await client.close()
    await forwarder.stop()


async def test_a_refused_token_stops_the_client_with_the_reason(gateway):
    client = HeimdallClient(gateway.url, token="not-the-token")
    await client.start()
    await client.wait_for_state(ConnectionState.DISCONNECTED, timeout=10)
    assert isinstance(client.error, TokenRefused) and "refused the token" in str(client.error)
    await client.close()


def test_the_synchronous_client(gateway):
    with SyncClient(gateway.url, topics=["signals:detected"], token=TOKEN) as live:
        live.wait_subscribed(timeout=10)
        sent = post(gateway, 42)
        got = next(e for e in live.events(timeout=10) if e.event == "signals:detected")
    assert got.data["id"] == sent["id"]


# -- watch ----------------------------------------------------------------------------------


def test_watch_prints_json_lines_and_exits_cleanly_on_ctrl_c(gateway):
    watch = subprocess.Popen([sys.executable, "main.py", "watch", gateway.url, "--events", "signals:detected", "--json"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [watch.stderr.readline() for _ in range(3)]  # connecting, connected, subscribed
        assert "[connected]" in lines[1] and lines[2].startswith("[subscribed] signals:detected")
        sent = post(gateway, 7)
        line = json.loads(watch.stdout.readline())
        assert line["event"] == "signals:detected" and line["data"]["id"] == sent["id"] and line["seq"] > 0
    finally:
        watch.send_signal(signal.SIGINT)
        assert watch.wait(10) == 0


def test_watch_human_lines(gateway):
    watch = subprocess.Popen([sys.executable, "main.py", "watch", gateway.url, "--events", "signals:detected"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not watch.stderr.readline().startswith("[subscribed]"):
            pass
        post(gateway, 9)
        assert "145.0090 MHz  SNR 10.0 dB  at torino" in watch.stdout.readline()
    finally:
        watch.send_signal(signal.SIGINT)
        assert watch.wait(10) == 0


def test_watch_with_a_refused_token_exits_2_with_a_clear_message(gateway):
    result = subprocess.run([sys.executable, "main.py", "watch", gateway.url, "--token", "wrong"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "refused the token" in result.stderr and "Traceback" not in result.stderr


# -- demo -----------------------------------------------------------------------------------


def test_demo_network_comes_alive_within_30_s(tmp_path):
    # A shell set up for the cluster: the demo keeps apart from its database and event log
    # (nothing listens at these ports; were they used, the start would fail).
    cluster = {"HEIMDALL_DATABASE_URL": "postgresql://heimdall@127.0.0.1:1/heimdall",
               "HEIMDALL_REDIS_URL": "redis://127.0.0.1:1/0"}
    gw = Gateway(None, tmp_path / "data", extra_args=("--demo",), env=cluster).start()
    try:
        def alive():
            services = httpx.get(gw.url + "/api/v1/system/status").json()["services"]
            receivers = httpx.get(gw.url + "/api/v1/websdrs/health").json()
            detections = httpx.get(gw.url + "/api/v1/signals").json()
            known = all(s["status"] != "unknown" for s in services) and all(
                r["status"] != "unknown" for r in receivers.values())
            return known and len(services) == 4 and len(receivers) == 7 and detections and (services, receivers)

        services, receivers = wait_for(alive, timeout=30, interval=0.5)
        assert any(r["details"].get("users_max") for r in receivers.values())  # the kinds' own details
    finally:
        gw.stop()

"""/ws/updates against a real gateway process, with a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fake_targets import FakeTargets
from tests.rawws import RawWebSocket
from tests.waiting import eventually


def detection(i: int = 0, **extra) -> dict:
    return {"frequency_mhz": 145.5 + i / 1000, "snr_db": 10.0, "websdr_id": "torino",
            "timestamp": "2026-11-25T12:00:00Z", **extra}


async def post_signal(gw, body: dict) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(gw.url + "/api/v1/signals", json=body, headers=gw.auth(), timeout=10)


async def recv(ws, timeout: float = 5) -> dict:
    """The next message that is not a heartbeat."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["event"] != "heartbeat":
            return message


async def subscribe(ws, message: dict) -> list[dict]:
    """Send a subscribe; everything received up to and including `subscribed`, then the snapshot."""
    await ws.send(json.dumps(message))
    received = []
    while True:
        received.append(await recv(ws))
        if received[-1]["event"] in ("subscribed", "error"):
            return received


async def test_connected_carries_epoch_seq_and_version(gateway):
    stats = gateway.stats()
    async with connect(gateway.ws_url) as ws:
        hello = await recv(ws)
    assert hello["event"] == "connected"
    assert hello["data"]["epoch"] == stats["epoch"]
    assert hello["data"]["seq"] == stats["last_seq"]
    assert hello["data"]["version"]
    assert hello["timestamp"].endswith("Z")


async def test_also_served_at_ws(gateway):
    async with connect(gateway.url.replace("http", "ws") + "/ws") as ws:
        assert (await recv(ws))["event"] == "connected"


@pytest.mark.parametrize("form", [
    {"event": "subscribe", "data": {"event_name": "services:health"}},
    {"event": "subscribe", "data": {"events": ["services:health"]}},
    {"event": "subscribe", "channels": ["services:health"]},
])
async def test_each_subscribe_form_answers_subscribed_then_snapshot(gateway, form):
    async with connect(gateway.ws_url) as ws:
        await recv(ws)
        answer = await subscribe(ws, form)
        assert answer[-1]["event"] == "subscribed"
        assert answer[-1]["data"]["events"] == ["services:health"]
        snapshot = await recv(ws)
    assert snapshot["event"] == "services:health"
    assert snapshot["data"] == {}  # the quiet test config has no services; the shape is a map


async def test_snapshot_lists_configured_targets_as_unknown(make_gateway):
    with FakeTargets() as targets:  # they never answer: the first check is still running
        gw = make_gateway(timeout=30, extra=f"""
[[services]]
name = "inference"
url = "{targets.url('inference', 'hang')}"

[[websdrs]]
id = "torino"
name = "Torino"
url = "{targets.url('torino', 'hang')}"
kind = "openwebrx"
latitude = 45.044
longitude = 7.672
""")
        async with connect(gw.ws_url) as ws:
            await recv(ws)
            await subscribe(ws, {"event": "subscribe", "data": {"events": ["*"]}})
            snapshots = {m["event"]: m["data"] for m in [await recv(ws), await recv(ws)]}
    assert snapshots["services:health"]["inference"]["status"] == "unknown"
    assert snapshots["websdrs:status"]["torino"]["status"] == "unknown"


async def test_published_event_reaches_subscribers_only(gateway):
    async with connect(gateway.ws_url) as listener, connect(gateway.ws_url) as bystander:
        await recv(listener)
        await recv(bystander)
        await subscribe(listener, {"event": "subscribe", "data": {"events": ["signals:detected"]}})
        await subscribe(bystander, {"event": "subscribe", "data": {"events": ["localizations:updated"]}})
        response = await post_signal(gateway, detection(note="kept"))
        assert response.status_code == 201
        event = await recv(listener)
        assert event["event"] == "signals:detected"
        assert event["data"] == response.json()
        assert event["data"]["note"] == "kept"
        assert isinstance(event["seq"], int) and event["timestamp"].endswith("Z")
        await bystander.send(json.dumps({"event": "ping"}))
        assert (await recv(bystander))["event"] == "pong"  # and no detection before it


async def test_unsubscribe_stops_delivery(gateway):
    async with connect(gateway.ws_url) as ws:
        await recv(ws)
        await subscribe(ws, {"event": "subscribe", "data": {"events": ["signals:detected"]}})
        await ws.send(json.dumps({"event": "unsubscribe", "data": {"events": ["signals:detected"]}}))
        assert (await recv(ws)) ["event"] == "unsubscribed"
        await post_signal(gateway, detection())
        await ws.send(json.dumps({"event": "ping"}))
        assert (await recv(ws))["event"] == "pong"


async def test_resume_sends_missed_events_in_order_without_gap_or_duplicate(gateway):
    async with connect(gateway.ws_url) as ws:
        hello = await recv(ws)
        await subscribe(ws, {"event": "subscribe", "data": {"events": ["signals:detected"]}})
        first = await post_signal(gateway, detection(1))
        seen = await recv(ws)
        assert seen["data"]["id"] == first.json()["id"]
    # Disconnected: these are missed.
    missed = [(await post_signal(gateway, detection(i))).json()["id"] for i in range(2, 7)]
    async with connect(gateway.ws_url + "?initial=none") as ws:
        await recv(ws)
        since = {"epoch": hello["data"]["epoch"], "seq": seen["seq"]}
        answer = await subscribe(ws, {"event": "subscribe", "data": {"events": ["signals:detected"], "since": since}})
        replayed, subscribed = answer[:-1], answer[-1]
        assert subscribed["event"] == "subscribed" and subscribed["data"]["recovered"] is True
        assert [m["data"]["id"] for m in replayed] == missed
        seqs = [m["seq"] for m in replayed]
        assert seqs == sorted(seqs) and seqs[0] > seen["seq"]
        live = await post_signal(gateway, detection(9))
        assert (await recv(ws))["data"]["id"] == live.json()["id"]


async def test_upstream_spellings_are_answered_in_the_spelling_asked_for(gateway):
    """Later versions of the original Heimdall name the topics signal:detected,
    localization:complete, websdrs:health and service:health (its backend's event
    publisher); a tool written for them subscribes and reads those names."""
    async with connect(gateway.ws_url + "?initial=none") as upstream, \
            connect(gateway.ws_url + "?initial=none") as ours:
        hello = await recv(upstream)
        await recv(ours)
        answer = await subscribe(upstream, {"event": "subscribe", "data": {
            "events": ["signal:detected", "localization:complete", "websdrs:health", "service:health"]}})
        assert answer[-1]["data"]["events"] == ["signal:detected", "localization:complete", "websdrs:health",
                                                "service:health"]
        snapshot = {(await recv(upstream))["event"] for _ in range(2)}
        assert snapshot == {"websdrs:health", "service:health"}
        await subscribe(ours, {"event": "subscribe", "data": {"events": ["signals:detected"]}})
        posted = (await post_signal(gateway, detection(5))).json()
        theirs, mine = await recv(upstream), await recv(ours)
        assert theirs["event"] == "signal:detected" and mine["event"] == "signals:detected"
        assert theirs["data"] == mine["data"] == posted and theirs["seq"] == mine["seq"]
        # Unsubscribing by the alias stops it.
        await upstream.send(json.dumps({"event": "unsubscribe", "data": {"events": ["signal:detected"]}}))
        assert (await recv(upstream))["event"] == "unsubscribed"
        await post_signal(gateway, detection(6))
        await upstream.send(json.dumps({"event": "ping"}))
        assert (await recv(upstream))["event"] == "pong"
    # A resume under the alias replays under the alias.
    async with connect(gateway.ws_url + "?initial=none") as again:
        await recv(again)
        since = {"epoch": hello["data"]["epoch"], "seq": hello["data"]["seq"]}
        answer = await subscribe(again, {"event": "subscribe", "data": {"events": ["signal:detected"],
                                                                         "since": since}})
    assert [m["event"] for m in answer[:-1]] == ["signal:detected", "signal:detected"]
    assert answer[-1]["data"]["recovered"] is True


async def test_resume_from_connected_seq_misses_nothing(gateway):
    async with connect(gateway.ws_url + "?initial=none") as ws:
        hello = await recv(ws)
        posted = (await post_signal(gateway, detection(3))).json()
        since = {"epoch": hello["data"]["epoch"], "seq": hello["data"]["seq"]}
        answer = await subscribe(ws, {"event": "subscribe", "data": {"events": ["signals:detected"], "since": since}})
    assert [m["data"]["id"] for m in answer[:-1]] == [posted["id"]]
    assert answer[-1]["data"]["recovered"] is True


async def test_resume_after_restart_is_not_recovered_and_gets_latest_values(make_gateway):
    gw = make_gateway()
    async with connect(gw.ws_url) as ws:
        hello = await recv(ws)
    gw.restart()
    async with connect(gw.ws_url) as ws:
        fresh = await recv(ws)
        assert fresh["data"]["epoch"] != hello["data"]["epoch"]
        since = {"epoch": hello["data"]["epoch"], "seq": hello["data"]["seq"]}
        answer = await subscribe(ws, {"event": "subscribe", "data": {"events": ["*"], "since": since}})
        assert answer[-1]["data"]["recovered"] is False
        latest = {(await recv(ws))["event"], (await recv(ws))["event"]}
    assert latest == {"services:health", "websdrs:status"}


async def test_resume_from_beyond_the_buffer_is_not_recovered(make_gateway):
    gw = make_gateway(replay=3)
    async with connect(gw.ws_url) as ws:
        hello = await recv(ws)
    for i in range(5):
        await post_signal(gw, detection(i))
    async with connect(gw.ws_url) as ws:
        await recv(ws)
        since = {"epoch": hello["data"]["epoch"], "seq": hello["data"]["seq"]}
        answer = await subscribe(ws, {"event": "subscribe", "data": {"events": ["signals:detected"], "since": since}})
    assert answer == [answer[-1]] and answer[-1]["data"]["recovered"] is False


@pytest.mark.parametrize("text, code", [
    ("{not json", "invalid_json"),
    ("[1, 2]", "not_an_object"),
    ('{"event": "dance"}', "unknown_event"),
    ('{"event": "subscribe", "data": {"events": ["nope:topic"]}}', "unknown_topic"),
    ('{"event": "subscribe", "data": {"events": 5}}', "invalid_field"),
    ('{"event": 5}', "invalid_field"),
    ('{"event": "subscribe", "data": {"events": ["*"], "since": {"epoch": 1, "seq": "x"}}}', "invalid_field"),
    ('{"event": "subscribe", "data": []}', "invalid_field"),
])
async def test_bad_input_gets_an_error_and_the_connection_stays_open(gateway, text, code):
    async with connect(gateway.ws_url) as ws, connect(gateway.ws_url) as other:
        await recv(ws)
        await recv(other)
        await ws.send(text)
        error = await recv(ws)
        assert error["event"] == "error"
        assert error["data"]["code"] == code and error["data"]["message"]
        await ws.send(json.dumps({"event": "ping"}))
        assert (await recv(ws))["event"] == "pong"
        await other.send(json.dumps({"event": "ping"}))
        assert (await recv(other))["event"] == "pong"


async def _close_code(ws) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd.code


async def test_text_frame_over_64_kib_is_closed_1009(gateway):
    async with connect(gateway.ws_url, max_size=None) as ws, connect(gateway.ws_url) as other:
        await recv(ws)
        await recv(other)
        await ws.send(json.dumps({"event": "ping", "pad": "x" * (64 * 1024)}))
        assert await _close_code(ws) == 1009
        await other.send(json.dumps({"event": "ping"}))
        assert (await recv(other))["event"] == "pong"


async def test_frame_just_under_the_limit_is_accepted(gateway):
    async with connect(gateway.ws_url) as ws:
        await recv(ws)
        message = json.dumps({"event": "ping", "pad": ""})
        await ws.send(json.dumps({"event": "ping", "pad": "x" * (64 * 1024 - len(message))}))
        assert (await recv(ws))["event"] == "pong"


async def test_binary_frame_is_closed_1003(gateway):
    async with connect(gateway.ws_url) as ws:
        await recv(ws)
        await ws.send(b'{"event": "ping"}')
        assert await _close_code(ws) == 1003


async def test_flooding_client_gets_an_error_then_1008(gateway):
    async with connect(gateway.ws_url) as ws, connect(gateway.ws_url) as other:
        await recv(ws)
        await recv(other)
        for _ in range(200):
            await ws.send(json.dumps({"event": "ping"}))
        events = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        assert closed.value.rcvd.code == 1008
        assert events[-1]["event"] == "error" and events[-1]["data"]["code"] == "rate_limited"
        await other.send(json.dumps({"event": "ping"}))
        assert (await recv(other))["event"] == "pong"


async def test_steady_client_under_the_rate_is_not_closed(gateway):
    async with connect(gateway.ws_url) as ws:
        await recv(ws)
        for _ in range(30):  # 15 a second for 2 s
            await ws.send(json.dumps({"event": "ping"}))
            assert (await recv(ws))["event"] == "pong"
            await asyncio.sleep(1 / 15)  # the client's own pace (what is tested), not a wait


async def test_slow_consumer_is_closed_1013_and_nobody_else_notices(make_gateway):
    gw = make_gateway(queue=64 * 1024)
    host, port = "127.0.0.1", gw.port
    slow = RawWebSocket(host, port, recv_buffer=4096)
    slow.send_text(json.dumps({"event": "subscribe", "data": {"events": ["signals:detected"]}}))
    async with connect(gw.ws_url) as healthy:
        await recv(healthy)
        await subscribe(healthy, {"event": "subscribe", "data": {"events": ["signals:detected"]}})
        payload = "p" * 12_000
        received = 0
        for i in range(600):
            response = await post_signal(gw, detection(i, payload=payload))
            assert response.status_code == 201
            event = await recv(healthy)  # the healthy client keeps up, event by event
            assert event["data"]["id"] == response.json()["id"]
            received += 1
            if gw.stats()["ws_slow_consumers_closed"] >= 1:
                break
        assert gw.stats()["ws_slow_consumers_closed"] == 1, "the slow client was never dropped"
        # The slow client now reads: it finds what was sent, then the close frame.
        assert await asyncio.to_thread(slow.read_until_close, 15) == 1013
        slow.close()
        late = await post_signal(gw, detection(999))
        assert (await recv(healthy))["data"]["id"] == late.json()["id"]
    await eventually(lambda: gw.stats()["ws_clients"] == 0, timeout=5)  # both gone: removed everywhere


async def test_silent_client_that_answers_no_ping_is_closed_after_two_intervals(make_gateway):
    gw = make_gateway(heartbeat=0.5)
    silent = RawWebSocket("127.0.0.1", gw.port)
    async with connect(gw.ws_url) as alive:  # answers pings by itself, sends nothing
        await eventually(lambda: gw.stats()["ws_clients"] == 2, timeout=5)
        started = time.monotonic()
        await eventually(lambda: gw.stats()["ws_clients"] <= 1, timeout=10)
        waited = time.monotonic() - started
        assert gw.stats()["ws_clients"] == 1, "the silent client was never removed"
        assert waited < 5
        heartbeats = 0
        while heartbeats < 2:
            message = json.loads(await asyncio.wait_for(alive.recv(), 5))
            heartbeats += message["event"] == "heartbeat"
        assert alive.state.name == "OPEN"
    silent.close()


async def test_heartbeat_carries_a_resume_point(make_gateway):
    gw = make_gateway(heartbeat=0.3)
    async with connect(gw.ws_url) as ws:
        await recv(ws)
        await subscribe(ws, {"event": "subscribe", "data": {"events": ["signals:detected"]}})
        await post_signal(gw, detection())
        event = await recv(ws)
        while True:
            beat = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if beat["event"] == "heartbeat":
                break
    assert beat["seq"] >= event["seq"]

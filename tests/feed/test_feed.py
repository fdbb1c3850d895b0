"""The platform's RabbitMQ feed (backend/feed) against a real RabbitMQ started here
(tests/rabbitmq_server.py), with messages published exactly as the platform publishes
them (kombu, the `heimdall.events` topic exchange declared non-durable on each publish,
the same bodies and routing keys), into real gateways."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.fake_targets import refused_url
from tests.gateway import Gateway
from tests.rabbitmq_server import PlatformPublisher, RabbitServer
from tests.waiting import wait_for
from tests.webhook import WebhookReceiver


def feed_config(url: str, extra: str = "", interval: float = 1, websdrs_interval: float = 60) -> str:
    return f"""
[polling]
services_interval_s = {interval}
websdrs_interval_s = {websdrs_interval}
timeout_s = 1
down_after = 1

[feed]
url = "{url}"

[[services]]
name = "training"
kind = "push"
deadline_s = 600

[[services]]
name = "inference"
kind = "push"
deadline_s = 600

[[websdrs]]
id = "torino"
name = "Torino"
url = "http://127.0.0.1:9/"
kind = "openwebrx"
latitude = 45.044
longitude = 7.672
platform_id = "1"

[[websdrs]]
id = "milano"
name = "Milano"
url = "http://127.0.0.1:9/"
kind = "openwebrx"
latitude = 45.47
longitude = 9.19
{extra}
"""


def feed_up(gw: Gateway) -> bool:
    return "heimdall_feed_up 1.0" in httpx.get(gw.url + "/metrics", timeout=5).text


def feed_counts(gw: Gateway) -> dict[tuple[str, str], float]:
    found = {}
    for line in httpx.get(gw.url + "/metrics", timeout=5).text.splitlines():
        if line.startswith("heimdall_feed_messages_total{"):
            labels, value = line[len("heimdall_feed_messages_total{"):].split("} ")
            parts = dict(part.split("=") for part in labels.split(","))
            found[(parts["event"].strip('"'), parts["outcome"].strip('"'))] = float(value)
    return found


def signals(gw: Gateway) -> list[dict]:
    return httpx.get(gw.url + "/api/v1/signals", params={"limit": 1000}, timeout=10).json()


def service(gw: Gateway, name: str) -> dict:
    return next(s for s in httpx.get(gw.url + "/api/v1/system/status", timeout=5).json()["services"]
                if s["name"] == name)


@pytest.fixture
def gateway(rabbit, tmp_path):
    started: list[Gateway] = []

    def start(extra: str = "", name: str = "gw", url: str | None = None, env: dict | None = None,
              websdrs_interval: float = 60) -> Gateway:
        path = tmp_path / f"{name}.toml"
        path.write_text(feed_config(url or rabbit.url, extra, websdrs_interval=websdrs_interval))
        gw = Gateway(path, tmp_path / f"data-{name}", env=env).start()
        started.append(gw)
        wait_for(lambda: feed_up(gw), timeout=20)
        return gw

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
def publisher(rabbit):
    made = PlatformPublisher(rabbit.url)
    yield made
    made.close()


async def test_each_platform_event_becomes_what_it_means(gateway, publisher):
    gw = gateway(websdrs_interval=1)
    async with connect(gw.ws_url + "?initial=none") as ws:
        await ws.recv()  # connected
        await ws.send(json.dumps({"event": "subscribe", "data": {"events": [
            "signals:detected", "localizations:updated", "training:progress"]}}))
        assert json.loads(await ws.recv())["event"] == "subscribed"

        # signal:detected → a detection, its receiver by platform_id or by id, the rest kept.
        publisher.signal(145_500_000, 12.5, "1", bandwidth_hz=12_500)
        publisher.signal(433_512_500, 7.0, "milano")
        got = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]
        assert [(e["event"], e["data"]["websdr_id"], e["data"]["frequency_mhz"]) for e in got] == [
            ("signals:detected", "torino", 145.5), ("signals:detected", "milano", 433.5125)]
        assert got[0]["data"]["snr_db"] == 12.5 and got[0]["data"]["bandwidth_hz"] == 12_500
        stored = {s["websdr_id"]: s for s in signals(gw)}
        assert stored["torino"]["id"] == got[0]["data"]["id"] and stored["torino"]["timestamp"].endswith("Z")

        # localization:complete → a localization, accuracy_meters its uncertainty.
        publisher.publish("localization.complete", "localization:complete", {
            "latitude": 45.1, "longitude": 7.7, "accuracy_meters": 250.0, "confidence": 0.9})
        located = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert located["event"] == "localizations:updated" and located["data"]["uncertainty_m"] == 250.0

        # A platform event passed through as it came, in its envelope plus our seq.
        publisher.publish("training.progress.job-7", "training:progress", {
            "job_id": "job-7", "epoch": 3, "total_epochs": 10, "progress_percent": 30.0})
        progress = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert progress["event"] == "training:progress" and progress["data"]["job_id"] == "job-7"
        assert isinstance(progress["seq"], int) and progress["seq"] > located["seq"]

    # service:health and system:comprehensive_health → push reports of push services.
    publisher.publish("service.health.training", "service:health", {
        "service": "training", "status": "unhealthy", "response_time_ms": None, "error": "GPU lost"})
    publisher.publish("system.health.comprehensive", "system:comprehensive_health", {"components": {
        "inference": {"status": "healthy", "response_time_ms": 12.5},
        "postgresql": {"status": "healthy", "message": "Database connection OK"}}})
    training = wait_for(lambda: (s := service(gw, "training"))["status"] == "unhealthy" and s)
    assert training["error"] == "GPU lost"
    inference = wait_for(lambda: (s := service(gw, "inference"))["status"] == "healthy" and s)
    assert inference["response_time_ms"] == 12.5

    # websdrs:health → the platform's view of each receiver, a site of its own ("platform"),
    # shown per receiver beside the gateway's own check at its next round.
    publisher.publish("websdr.health.update", "websdrs:health", {"health_status": {
        "1": {"websdr_id": "1", "name": "Torino", "status": "offline", "last_check": "2026-12-07T06:00:00"},
        "99": {"websdr_id": "99", "name": "Elsewhere", "status": "online"}}})
    platform = wait_for(lambda: next((s for s in httpx.get(gw.url + "/api/v1/sites").json()
                                      if s["name"] == "platform"), None))
    assert platform["stale"] is False and platform["gateway"] is False
    torino = wait_for(lambda: (w := httpx.get(gw.url + "/api/v1/websdrs/health").json()["torino"])["sites"]
                      .get("platform") and w, timeout=20)
    assert torino["sites"]["platform"]["status"] == "offline" and "gateway" in torino["sites"]
    assert "platform" not in httpx.get(gw.url + "/api/v1/websdrs/health").json()["milano"]["sites"]
    counts = feed_counts(gw)
    assert counts[("signal:detected", "accepted")] == 2 and counts[("pass_through", "accepted")] == 1


def test_a_gateway_stopped_while_200_detections_were_published_has_all_200_once(gateway, publisher, rabbit):
    gw = gateway()  # declares and binds its durable queue
    gw.stop()
    for i in range(200):
        publisher.signal(144_000_000 + i * 1000, 10.0, "1", sequence=i)
    gw.start()
    wait_for(lambda: len(signals(gw)) == 200, timeout=60)
    stored = signals(gw)
    assert sorted(s["sequence"] for s in stored) == list(range(200)) and len({s["id"] for s in stored}) == 200
    # The same message delivered again (a crash between storing and acknowledging, say):
    # recognised by its message_id, counted as a duplicate, not stored twice.
    for _ in range(2):
        publisher.signal(145_000_000, 9.0, "1", properties={"message_id": "platform-msg-1"})
    wait_for(lambda: feed_counts(gw).get(("signal:detected", "duplicate")) == 1)
    assert len(signals(gw)) == 201


def test_bad_messages_go_to_the_dead_letter_queue_with_their_reason_and_the_feed_goes_on(gateway, publisher,
                                                                                       rabbit):
    gw = gateway()
    bad = [("not JSON", lambda: publisher.publish_raw("signal.detected", b"\xff{not json")),
           ("no 'event' name", lambda: publisher.publish("signal.detected", "", {"frequency_hz": 1})),
           ("data.frequency_hz must be a number",
            lambda: publisher.publish("signal.detected", "signal:detected", {
                "frequency_hz": "145.5 MHz", "signal_strength_db": 1.0, "station_id": "1"})),
           ("over 1048576", lambda: publisher.publish("signal.detected", "signal:detected", {
               "frequency_hz": 1.0, "signal_strength_db": 1.0, "station_id": "1", "pad": "x" * (1024 * 1024)})),
           ("unknown receiver '42'", lambda: publisher.signal(145e6, 1.0, "42"))]
    for _, send in bad:
        send()
    publisher.signal(145_500_000, 11.0, "1")
    wait_for(lambda: len(signals(gw)) == 1, timeout=20)
    import amqp  # kombu's own AMQP client, read raw: a rejected body is what it was, not JSON

    reasons = []
    with amqp.Connection(f"127.0.0.1:{rabbit.port}", userid="guest", password="guest") as connection:
        channel = connection.channel()
        for _ in bad:
            message = wait_for(lambda: channel.basic_get("heimdall-live.rejected"))
            reasons.append(message.headers["x-heimdall-reason"])
            channel.basic_ack(message.delivery_tag)
    for (expected, _), reason in zip(bad, reasons):
        assert expected in reason, (expected, reason)
    counts = feed_counts(gw)
    assert sum(n for (_, outcome), n in counts.items() if outcome == "rejected") == 5
    assert counts[("signal:detected", "accepted")] == 1


def test_push_reports_over_http_and_their_deadline(gateway, tmp_path):
    from tests.auth.test_access import create_token

    gw = gateway(extra='[[services]]\nname = "nightly-backup"\nkind = "push"\ndeadline_s = 2\n', name="push")
    token = create_token(tmp_path / "data-push", "cron", "push")
    headers = {"Authorization": f"Bearer {token}"}
    url = gw.url + "/api/v1/push/nightly-backup"
    assert httpx.post(url, json={"status": "healthy"}).status_code == 401
    assert httpx.post(url, json={"status": "healthy"}, headers=gw.auth()).status_code == 403  # ingest, not push
    assert httpx.post(gw.url + "/api/v1/push/nothing", json={"status": "healthy"}, headers=headers).status_code == 404
    wrong = httpx.post(url, json={"status": "fine"}, headers=headers)
    assert wrong.status_code == 422 and "status must be one of healthy" in wrong.json()["detail"]
    answer = httpx.post(url, json={"status": "degraded", "response_time_ms": 840, "error": "disk 91 % full"},
                        headers=headers)
    assert answer.status_code == 202, answer.text
    degraded = wait_for(lambda: (s := service(gw, "nightly-backup"))["status"] == "degraded" and s)
    assert degraded["error"] == "disk 91 % full" and degraded["response_time_ms"] == 840
    # No report within its 2 s deadline: down, and why.
    silent = wait_for(lambda: (s := service(gw, "nightly-backup"))["status"] == "unreachable" and s, timeout=20)
    assert silent["error"].startswith("no report for ") and "(its deadline is 2 s)" in silent["error"]


def test_two_gateways_share_one_queue_each_message_handled_once(rabbit, publisher, tmp_path, postgres):
    import shutil

    from tests.redis_server import RedisServer

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisServer(tmp_path / "redis").start()
    database = postgres.new_database()
    gateways = []
    try:
        for name in ("a", "b"):
            path = tmp_path / f"{name}.toml"
            path.write_text(feed_config(rabbit.url, f'[cluster]\nredis_url = "{redis.url}"\n'))
            gw = Gateway(path, tmp_path / f"data-{name}", env={"HEIMDALL_DATABASE_URL": database}).start()
            gateways.append(gw)
        for gw in gateways:
            wait_for(lambda gw=gw: feed_up(gw), timeout=20)

        async def receive_all(gw: Gateway, count: int, subscribed: asyncio.Event) -> set:
            seen: set = set()
            async with connect(gw.ws_url + "?initial=none") as ws:
                await ws.recv()
                await ws.send(json.dumps({"event": "subscribe", "data": {"events": ["signals:detected"]}}))
                await ws.recv()
                subscribed.set()
                while len(seen) < count:
                    event = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    assert event["data"]["id"] not in seen  # each at most once
                    seen.add(event["data"]["id"])
            return seen

        async def publish_when_subscribed() -> list[set]:
            subscribed = [asyncio.Event() for _ in gateways]
            receivers = asyncio.gather(*(receive_all(gw, 100, ready) for gw, ready in zip(gateways, subscribed)))
            for ready in subscribed:  # both subscribed before the first message
                await asyncio.wait_for(ready.wait(), 10)
            await asyncio.to_thread(lambda: [publisher.signal(144e6 + i * 1e3, 5.0, "1", n=i) for i in range(100)])
            return await receivers
        seen_a, seen_b = asyncio.run(publish_when_subscribed())
        assert seen_a == seen_b and len(seen_a) == 100  # every gateway's clients see every one
        for gw in gateways:
            assert len(signals(gw)) == 100
        accepted = [feed_counts(gw).get(("signal:detected", "accepted"), 0) for gw in gateways]
        assert sum(accepted) == 100 and all(accepted), accepted  # competing consumers, each once
    finally:
        for gw in gateways:
            gw.stop()
        redis.stop()


def test_rabbitmq_restarted_mid_stream_and_the_feed_problem_told_once_and_resolved_once(tmp_path):
    own = RabbitServer(tmp_path / "own-rabbit").start()
    hooks = WebhookReceiver().__enter__()
    gw = None
    try:
        path = tmp_path / "c.toml"
        # A probed service too, so that rounds run and `settle` can tell nothing more is coming.
        path.write_text(feed_config(own.url, f'[delivery]\nretries = 0\n[[alerts]]\nname = "ops"\n'
                                             f'urls = ["{hooks.url("ops")}"]\ntargets = ["feed:*"]\n'
                                             f'[[services]]\nname = "api"\nurl = "{refused_url()}"\n')
                        .replace("[feed]\n", "[feed]\nalert_after_s = 2\n"))
        gw = Gateway(path, tmp_path / "data").start()
        wait_for(lambda: feed_up(gw), timeout=20)
        publisher = PlatformPublisher(own.url)
        for i in range(50):
            publisher.signal(144e6 + i * 1e3, 5.0, "1", n=i)
        publisher.close()
        wait_for(lambda: len(signals(gw)) == 50, timeout=30)
        own.kill()
        problem = wait_for(lambda: hooks.titles("ops"), timeout=30)
        assert problem == ["FEED PROBLEM: the platform's events do not arrive"]
        assert not feed_up(gw)
        stats = httpx.get(gw.url + "/api/v1/gateway/stats").json()["feed"]
        assert stats["state"] == "connecting" and stats["reason"] and stats["last_heard_ms"]
        assert "guest:guest" not in json.dumps(stats) and stats["url"].startswith("amqp://***@127.0.0.1:")
        own.start()
        wait_for(lambda: feed_up(gw), timeout=60)  # reconnected, the queue declared and bound again
        publisher = PlatformPublisher(own.url)
        for i in range(50, 100):
            publisher.signal(144e6 + i * 1e3, 5.0, "1", n=i)
        publisher.close()
        wait_for(lambda: len(signals(gw)) == 100, timeout=30)
        wait_for(lambda: len(hooks.titles("ops")) == 2, timeout=20)
        gw.settle(rounds=2)
        assert hooks.titles("ops") == ["FEED PROBLEM: the platform's events do not arrive",
                                       "FEED RESOLVED: the platform's events arrive again"]
        assert sorted(s["n"] for s in signals(gw)) == list(range(100))
    finally:
        if gw is not None:
            gw.stop()
        hooks.__exit__(None, None, None)
        own.stop()


def test_with_publish_the_gateway_answers_on_the_bus(gateway, rabbit, tmp_path):
    """`[feed] publish = true`: a receiver's status change and an incident, in the
    platform's envelope, on the same exchange (read here with kombu, as the platform would)."""
    from kombu import Connection, Exchange, Queue

    from tests.fake_targets import FakeTargets

    with FakeTargets() as targets, Connection(rabbit.url) as connection:
        exchange = Exchange("heimdall.events", type="topic", durable=False)
        heard = Queue("platform-listens", exchange=exchange, routing_key="live.#", exclusive=True)
        received: list = []
        consumer = connection.Consumer([heard], callbacks=[lambda body, message: (received.append(
            (message.delivery_info["routing_key"], body)), message.ack())], accept=["json"])
        consumer.consume()
        gw = gateway(extra=f'[[websdrs]]\nid = "asti"\nname = "Asti"\nurl = "{targets.url("asti", "openwebrx")}"\n'
                           'kind = "openwebrx"\nlatitude = 44.9\nlongitude = 8.2\n'
                           f'[[alerts]]\nname = "radio"\nurls = ["json://127.0.0.1:9/x"]\ntargets = ["websdrs:asti"]\n'
                           'failure_threshold = 1\n', websdrs_interval=1, name="answers")
        path = tmp_path / "answers.toml"
        path.write_text(path.read_text().replace("[feed]\n", "[feed]\npublish = true\n"))
        gw.restart()
        wait_for(lambda: feed_up(gw), timeout=20)
        wait_for(lambda: httpx.get(gw.url + "/api/v1/websdrs/health").json()["asti"]["status"] == "online")
        targets.set("asti", "close")

        def drained() -> list:
            try:
                connection.drain_events(timeout=0.2)
            except TimeoutError:
                pass
            return [r for r in received if r[0] == "live.incident"] and received
        wait_for(drained, timeout=20)
    changes = [body for key, body in received if key == "live.status.changed"]
    assert any(c["event"] == "websdr:status_changed" and c["data"]["id"] == "asti" and c["data"]["to"] == "offline"
               for c in changes), received
    incident = next(body for key, body in received if key == "live.incident")
    assert incident["event"] == "live:incident" and incident["data"]["action"] == "opened"
    assert incident["data"]["id"] == "asti" and "T" in incident["timestamp"] and not incident["timestamp"].endswith("Z")


def test_the_gateway_starts_and_serves_without_the_broker_and_never_shows_its_password(tmp_path):
    from tests.rabbitmq_server import free_port

    path = tmp_path / "c.toml"
    path.write_text(feed_config("").replace('url = ""\n', ""))  # the URL from the environment only
    gw = Gateway(path, tmp_path / "data",
                 env={"HEIMDALL_FEED_URL": f"amqp://live:s3cret-feed-pw@127.0.0.1:{free_port()}/"}).start()
    try:
        assert httpx.get(gw.url + "/healthz").status_code == 200
        feed = wait_for(lambda: (f := httpx.get(gw.url + "/api/v1/gateway/stats").json()["feed"])["reason"] and f)
        assert feed["state"] == "connecting" and feed["url"].startswith("amqp://***@127.0.0.1:")
        assert "heimdall_feed_up 0.0" in httpx.get(gw.url + "/metrics").text
        shown = json.dumps(feed) + httpx.get(gw.url + "/metrics").text
        shown += gw.stop()
    finally:
        gw.stop()
    assert "s3cret-feed-pw" not in shown

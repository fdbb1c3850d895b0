"""The fault rig (issue 33), shared by tests/faults/ and bench/faults.py: two gateways on a
private redis-server and PostgreSQL, healthy services as fakes on loopback, a real
webhook, one /ws/updates subscriber on each gateway, and a client posting detections
(with ids) at a steady rate to both. A fault is applied to one part underneath, held,
undone; then what must hold is measured:

- every POST answered within 5 s, 2xx or 503 with Retry-After (never 500, never a hang);
- every detection answered 2xx stored exactly once, on both gateways' REST;
- each subscriber got every accepted detection at most once, and where it missed one it
  was told (its connection closed with a new epoch, then `recovered: false`);
- no DOWN or RESOLVED of a target (they stayed healthy); the gateway's own problem told
  once and resolved once when the fault outlasted `[connectivity] parts_grace_s`.

With `feed=True` both gateways also take the platform's events from a private RabbitMQ
(one queue, as two gateways of one site do), and a publisher sends `signal:detected` at
the same rate as the platform's EventPublisher does (kombu, tests/rabbitmq_server.py):
every message the broker took is stored exactly once, except those that met no queue
(see `feed_lost_window`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from backend.feed.platform import identity_of
from tests.fake_targets import FakeTargets
from tests.gateway import Gateway
from tests.postgres_server import PostgresServer
from tests.rabbitmq_server import PlatformPublisher, RabbitServer
from tests.redis_server import RedisServer
from tests.waiting import wait_for
from tests.webhook import WebhookReceiver

POST_LIMIT_S = 5.0


@dataclass
class Post:
    id: str
    status: int | None
    took_s: float
    retry_after: str | None
    gateway: str


@dataclass
class Published:
    identity: str  # the stored detection's id (backend/feed/platform.py identity_of)
    taken: bool  # the broker confirmed it
    at: float  # monotonic


@dataclass
class Subscriber:
    """A client of one gateway's /ws/updates that resumes as a careful client does."""

    name: str
    received: list[str] = field(default_factory=list)
    told_gap: int = 0  # resumes answered `recovered: false` (a gap it knows of)
    reconnects: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, url: str) -> None:
        asyncio.run(self._run(url))

    async def _run(self, url: str) -> None:
        since = None
        while not self.stop.is_set():
            try:
                async with connect(url + "?initial=none", open_timeout=5) as ws:
                    hello = json.loads(await ws.recv())
                    data: dict = {"events": ["signals:detected"]}
                    if since is not None:
                        data["since"] = since
                    await ws.send(json.dumps({"event": "subscribe", "data": data}))
                    epoch = hello["data"]["epoch"]
                    while not self.stop.is_set():
                        try:
                            message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                        except asyncio.TimeoutError:
                            continue
                        if message["event"] == "subscribed" and message["data"].get("recovered") is False:
                            self.told_gap += 1
                        if message["event"] == "signals:detected":
                            self.received.append(message["data"]["id"])
                        if "seq" in message:
                            since = {"epoch": epoch, "seq": message["seq"]}
            except (ConnectionClosed, OSError, asyncio.TimeoutError):
                self.reconnects += 1
                await asyncio.sleep(0.2)


class Rig:
    def __init__(self, directory: Path, rate_per_s: float = 10.0, grace_s: float = 3.0, feed: bool = False) -> None:
        self.directory = directory
        self.feed = feed
        self.rabbit: RabbitServer | None = None
        self.published: list[Published] = []
        self._publishing = threading.Event()
        # From the broker's loss until both gateways are bound again: what the publisher
        # sends meanwhile meets no queue (the platform's exchange is not durable, so our
        # binding goes with it) and is dropped by RabbitMQ, confirmed all the same.
        self.feed_gap: tuple[float, float] | None = None
        self.rate = rate_per_s
        self.grace_s = grace_s
        self.redis: RedisServer | None = None
        self.postgres: PostgresServer | None = None
        self.targets = FakeTargets()
        self.hooks = WebhookReceiver()
        self.gateways: list[Gateway] = []
        self.subscribers: list[Subscriber] = []
        self.posts: list[Post] = []
        self._posting = threading.Event()
        self.post_to: list[Gateway] = []  # where the client posts, in turn (both, unless a scenario says)
        self._threads: list[threading.Thread] = []

    def config(self) -> str:
        services = "".join(f'[[services]]\nname = "{name}"\nurl = "{self.targets.url(name, "healthy")}health"\n'
                           for name in ("api", "inference", "training"))
        return (f'[polling]\nservices_interval_s = 1\nwebsdrs_interval_s = 60\ntimeout_s = 1\n'
                f'[cluster]\nredis_url = "{self.redis.url}"\n'
                f'[connectivity]\nparts_grace_s = {self.grace_s}\n[delivery]\nretries = 0\ntimeout_s = 2\n'
                f'[[alerts]]\nname = "ops"\nurls = ["{self.hooks.url("ops")}"]\ntargets = ["services:*"]\n'
                f'failure_threshold = 2\n' + services
                + (self.feed_config() if self.feed else ""))

    def feed_config(self) -> str:
        """The feed, and the receiver its detections name (the platform's station "1")."""
        return (f'[feed]\nurl = "{self.rabbit.url}"\nalert_after_s = {self.grace_s}\n'
                f'[[websdrs]]\nid = "torino"\nplatform_id = "1"\nname = "Torino"\n'
                f'url = "{self.targets.url("torino", "openwebrx")}"\nkind = "openwebrx"\n'
                'latitude = 45.07\nlongitude = 7.69\n')

    def start(self) -> "Rig":
        self.targets.__enter__()
        self.hooks.__enter__()
        self.redis = RedisServer(self.directory / "redis").start()
        self.postgres = PostgresServer().start()
        if self.feed:
            self.rabbit = RabbitServer(self.directory / "rabbit").start()
        database = self.postgres.new_database()
        for name in ("a", "b"):
            path = self.directory / f"{name}.toml"
            path.write_text(self.config())
            gw = Gateway(path, self.directory / f"data-{name}", env={"HEIMDALL_DATABASE_URL": database}).start()
            self.gateways.append(gw)
        wait_for(lambda: all(s["status"] == "healthy" for s in
                             httpx.get(self.gateways[0].url + "/api/v1/system/status").json()["services"]), 30)
        self.post_to = list(self.gateways)
        if self.feed:
            wait_for(self.feeds_up, 30)
        for gw in self.gateways:
            subscriber = Subscriber(gw.url)
            self.subscribers.append(subscriber)
            self._thread(subscriber.run, gw.ws_url)
        return self

    def _thread(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def poller(self) -> Gateway:
        return next(gw for gw in self.gateways
                    if httpx.get(gw.url + "/api/v1/gateway/stats", timeout=5).json().get("poller_leader"))

    # -- the client posting detections ----------------------------------------------------

    def start_posting(self) -> None:
        self._posting.set()
        self._thread(self._post_forever)

    def stop_posting(self) -> None:
        self._posting.clear()

    def _at_rate(self, running: threading.Event, first: int, step) -> None:
        """`step(n)` for n = first, first + 1, ... at `rate` a second while `running` is set:
        a client's own pace (the one sleep here is that pace, not a wait for an event)."""
        n, start = first, time.monotonic()
        while running.is_set():
            step(n)
            n += 1
            wait = start + (n - first) / self.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    def _post_forever(self) -> None:
        with httpx.Client(timeout=POST_LIMIT_S + 5) as client:
            def post(n: int) -> None:
                gw = self.post_to[n % len(self.post_to)]
                body = {"id": f"fault-{n:06d}", "frequency_mhz": 145.5, "snr_db": 10.0, "websdr_id": "none",
                        "timestamp": "2026-12-07T12:00:00Z"}
                sent = time.monotonic()
                try:
                    answer = client.post(gw.url + "/api/v1/signals", json=body, headers=gw.auth())
                    status, retry = answer.status_code, answer.headers.get("retry-after")
                except httpx.HTTPError:
                    status, retry = None, None
                self.posts.append(Post(body["id"], status, time.monotonic() - sent, retry, gw.url))
            self._at_rate(self._posting, len(self.posts), post)

    # -- the platform publishing on its bus ---------------------------------------------------

    def feeds_up(self) -> bool:
        return all(httpx.get(gw.url + "/healthz", timeout=5).json()["parts"].get("feed") == "up"
                   for gw in self.gateways)

    def start_publishing(self) -> None:
        self._publishing.set()
        self._thread(self._publish_forever)

    def stop_publishing(self) -> None:
        self._publishing.clear()

    def _publish_forever(self) -> None:
        # Publisher confirms tell the rig what the broker took (the platform's own publisher
        # does not wait for them, so it cannot know what a crash lost either).
        publisher = PlatformPublisher(self.rabbit.url, confirm=True)

        def publish(n: int) -> None:
            message_id = f"feed-{n:06d}"
            try:
                publisher.signal(145.5e6, 10.0, "1", properties={"message_id": message_id}, n=n)
                taken = True
            except Exception:  # noqa: BLE001 - any failure of the broker: not taken, next one
                taken = False
            self.published.append(Published(identity_of(b"", message_id), taken, time.monotonic()))
        self._at_rate(self._publishing, len(self.published), publish)
        publisher.close()

    # -- faults -------------------------------------------------------------------------------

    @staticmethod
    def hold(seconds: float) -> None:
        """A fault's length: the scenario itself, not a wait for something to happen."""
        time.sleep(max(0.0, seconds))

    def wait_posts(self, count: int) -> None:
        """`count` more POSTs answered (the load flows)."""
        target = len(self.posts) + count
        wait_for(lambda: len(self.posts) >= target, 30)

    def freeze(self, pid: int, hold_s: float) -> float:
        """SIGSTOP for `hold_s`, then SIGCONT; the moment it was resumed (monotonic)."""
        os.kill(pid, signal.SIGSTOP)
        self.hold(hold_s)
        os.kill(pid, signal.SIGCONT)
        return time.monotonic()

    # -- what must hold ----------------------------------------------------------------------

    def settle(self, timeout: float = 60) -> None:
        """Posting stopped: wait until every accepted detection is on both gateways' REST."""
        accepted = {p.id for p in self.posts if p.status in (200, 201)} | self.feed_expected()
        for gw in self.gateways:
            wait_for(lambda gw=gw: accepted <= set(self.stored(gw)), timeout)

    def stored(self, gw: Gateway) -> list[str]:
        return [s["id"] for s in httpx.get(gw.url + "/api/v1/signals", params={"limit": 1000}, timeout=30).json()
                if s["id"].startswith(("fault-", "amqp-"))]

    def feed_expected(self) -> set[str]:
        """Messages the broker took outside the gap: each must be stored."""
        gap = self.feed_gap or (float("inf"), float("inf"))
        return {p.identity for p in self.published if p.taken and not gap[0] <= p.at <= gap[1]}

    def figures(self) -> dict:
        answered = [p for p in self.posts if p.status is not None]
        stored = [self.stored(gw) for gw in self.gateways]
        from_feed = {i for ids in stored for i in ids if i.startswith("amqp-")}
        posted = {p.id for p in self.posts if p.status in (200, 201)}
        # What a subscriber should have had: every accepted POST, every stored message.
        accepted = posted | from_feed
        expected = accepted | self.feed_expected()
        own = ("GATEWAY", "FEED")
        return {
            "feed_published": sum(1 for p in self.published if p.taken),
            "feed_not_taken": sum(1 for p in self.published if not p.taken),
            "feed_stored": len(from_feed),
            "feed_lost_in_gap": sum(1 for p in self.published if p.taken and p.identity not in from_feed),
            "feed_gap_s": round(self.feed_gap[1] - self.feed_gap[0], 1) if self.feed_gap else None,
            "posts": len(self.posts),
            "accepted": len(posted),
            "answered_503": sum(1 for p in self.posts if p.status == 503),
            "bad_answers": [(p.id, p.status, p.retry_after) for p in self.posts
                            if p.status is None or not (200 <= p.status < 300 or (p.status == 503 and p.retry_after))],
            "slowest_post_s": round(max((p.took_s for p in answered), default=0), 2),
            "over_limit": sum(1 for p in self.posts if p.took_s > POST_LIMIT_S),
            "stored_twice": [sum(1 for i in ids if ids.count(i) > 1) for ids in stored],
            "not_stored": [len(expected - set(ids)) for ids in stored],
            "delivered_twice": [len(s.received) - len(set(s.received)) for s in self.subscribers],
            "missed": [len(accepted - set(s.received)) for s in self.subscribers],
            "told_gap": [s.told_gap for s in self.subscribers],
            "target_alerts": [t for t in self.hooks.titles("ops") if not t.startswith(own)],
            "gateway_alerts": [t for t in self.hooks.titles("ops") if t.startswith(own)],
        }

    def stop(self) -> None:
        self.stop_posting()
        self.stop_publishing()
        for subscriber in self.subscribers:
            subscriber.stop.set()
        for thread in self._threads:
            thread.join(10)
        for gw in self.gateways:
            gw.stop()
        for part in (self.redis, self.postgres, self.rabbit):
            if part is not None:
                part.stop()
        self.hooks.__exit__(None, None, None)
        self.targets.__exit__(None, None, None)

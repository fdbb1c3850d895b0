"""Several gateways on Redis and PostgreSQL, against one gateway, on this one machine.

Three measurements, each with its peer measured in the same run:

1. Publish-to-receipt across instances: detections POSTed to gateway A at a steady
   rate, received by /ws/updates subscribers of gateway B (the event goes A -> Redis
   -> B). Peers: subscribers of A itself (same cluster), and one embedded gateway
   (SQLite, in-process bus).
2. Fan-out capacity: the same subscribers and rate, all on one gateway of the cluster
   versus split half and half over two; and one embedded gateway.
3. Failover: `kill -9` of the poller; time until the other gateway holds the lease
   (gateway/stats says poller_leader) and until it has probed the target. Polling
   every second; the rule is within two intervals.

Every server runs on 127.0.0.1: a real redis-server and PostgreSQL started in temporary
directories (tests/redis_server.py, tests/postgres_server.py), `python main.py`
gateways, and bench/node/client.js as the load generator (see bench/fanout.py).

    python bench/cluster.py                       # everything, default sizes
    python bench/cluster.py --subscribers 2000 --rate 50 --events 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import LoadGenerator, ensure_node_modules, percentile, publish  # noqa: E402
from tests.fake_targets import FakeTargets  # noqa: E402
from tests.gateway import Gateway, write_config  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

LIFTED = "[http]\nmax_connections_per_address = 20000\n"  # every subscriber comes from 127.0.0.1


class Stack:
    """Redis, PostgreSQL and gateways, all stopped at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.started: list = []
        self.redis = self._keep(RedisServer(tmp / "redis").start())
        self.postgres = self._keep(PostgresServer().start())
        self.database = self.postgres.new_database()
        self.count = 0

    def _keep(self, thing):
        self.started.append(thing)
        return thing

    def gateway(self, extra: str = "", interval: float = 30) -> Gateway:
        self.count += 1
        name = f"gw{self.count}"
        config = write_config(self.tmp / f"{name}.toml", interval=interval,
                              extra=f'{LIFTED}[cluster]\nredis_url = "{self.redis.url}"\n' + extra)
        return self._keep(Gateway(config, self.tmp / name, env={"HEIMDALL_DATABASE_URL": self.database}).start())

    def embedded(self) -> Gateway:
        self.count += 1
        config = write_config(self.tmp / f"embedded{self.count}.toml", extra=LIFTED)
        return self._keep(Gateway(config, self.tmp / f"embedded{self.count}").start())

    def stop(self) -> None:
        for thing in reversed(self.started):
            thing.stop()


def deliver(post_to: Gateway, subscribers_on: list[tuple[Gateway, int]], rate: float, events: int,
            warmup: int) -> dict:
    """POST to `post_to`; subscribers (count on each gateway) receive. Latency from the
    POST being sent to each subscriber having the event."""
    generators = [LoadGenerator(gw.port, count) for gw, count in subscribers_on]
    for generator in generators:
        generator.expect("ready", 120)
    time.sleep(2.0)
    asyncio.run(publish(post_to.url, post_to.auth(), warmup, rate, first_n=0))
    cpu = [psutil.Process(gw.process.pid) for gw, _ in subscribers_on]
    cpu_before = sum(sum(p.cpu_times()[:2]) for p in cpu)
    statuses = asyncio.run(publish(post_to.url, post_to.auth(), events, rate, first_n=warmup))
    time.sleep(2.0)  # stragglers
    cpu_used = sum(sum(p.cpu_times()[:2]) for p in cpu) - cpu_before
    latencies: list[float] = []
    for generator in generators:
        result = generator.results()
        latencies += [latency * 1000 for n, latency in zip(result["n"], result["latency_s"]) if n >= warmup]
    expected = sum(count for _, count in subscribers_on) * events
    return {"posts_ok": sum(1 for s in statuses if s == 201), "delivered": len(latencies),
            "lost": expected - len(latencies),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "cpu_ms_per_event": round(cpu_used * 1000 / events, 1)}


def show(label: str, result: dict) -> None:
    print(f"{label:<44} p50 {result['p50_ms']:>7} ms  p99 {result['p99_ms']:>7} ms  max {result['max_ms']:>7} ms  "
          f"lost {result['lost']:>5}  posts ok {result['posts_ok']}  "
          f"CPU of the subscribers' gateways {result['cpu_ms_per_event']} ms/event",
          flush=True)


def cross_instance(args) -> None:
    print(f"\n## 1. Publish to receipt: {args.probe_subscribers} subscribers, {args.probe_rate:g}/s, "
          f"{args.events} events after {args.warmup} warm-up")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        try:
            a, b = stack.gateway(), stack.gateway()
            show("cluster: POST on A, subscribers on B", deliver(a, [(b, args.probe_subscribers)], args.probe_rate,
                                                                 args.events, args.warmup))
            show("cluster: POST on A, subscribers on A", deliver(a, [(a, args.probe_subscribers)], args.probe_rate,
                                                                 args.events, args.warmup))
            one = stack.embedded()
            show("one embedded gateway (SQLite, in-process bus)",
                 deliver(one, [(one, args.probe_subscribers)], args.probe_rate, args.events, args.warmup))
        finally:
            stack.stop()


def capacity(args) -> None:
    n, rate = args.subscribers, args.rate
    print(f"\n## 2. Fan-out capacity: {n} subscribers, {rate:g}/s, {args.events} events after {args.warmup} warm-up")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        try:
            a, b = stack.gateway(), stack.gateway()
            show(f"cluster, all {n} on A", deliver(a, [(a, n)], rate, args.events, args.warmup))
            show(f"cluster, {n // 2} on A + {n - n // 2} on B",
                 deliver(a, [(a, n // 2), (b, n - n // 2)], rate, args.events, args.warmup))
            one = stack.embedded()
            show(f"one embedded gateway, all {n}", deliver(one, [(one, n)], rate, args.events, args.warmup))
        finally:
            stack.stop()


def failover(args) -> None:
    interval = 1.0
    print(f"\n## 3. Failover after kill -9 of the poller (polling every {interval:g} s; rule: within "
          f"{2 * interval:g} s), {args.failovers} times")
    with tempfile.TemporaryDirectory() as tmp, FakeTargets() as targets:
        stack = Stack(Path(tmp))
        service = f'[[services]]\nname = "inference"\nurl = "{targets.url("svc", "healthy")}health"\n'
        try:
            gateways = [stack.gateway(service, interval), stack.gateway(service, interval)]
            leads, probes = [], []
            for _ in range(args.failovers):
                deadline = time.monotonic() + 15
                while not any(gw.stats()["poller_leader"] for gw in gateways):
                    if time.monotonic() > deadline:
                        raise SystemExit("no poller within 15 s")
                    time.sleep(0.05)
                leader = next(gw for gw in gateways if gw.stats()["poller_leader"])
                other = next(gw for gw in gateways if gw is not leader)
                time.sleep(1.5)  # steady state
                os.kill(leader.process.pid, signal.SIGKILL)
                killed = time.monotonic()
                leader.process.wait()
                hits = targets.hits.get("svc", 0)
                lead_at = probe_at = None
                while lead_at is None or probe_at is None:
                    now = time.monotonic()
                    if now - killed > 15:
                        raise SystemExit("no failover within 15 s")
                    if probe_at is None and targets.hits.get("svc", 0) > hits:
                        probe_at = now
                    if lead_at is None:
                        try:
                            if httpx.get(other.url + "/api/v1/gateway/stats", timeout=1).json()["poller_leader"]:
                                lead_at = now
                        except httpx.HTTPError:
                            pass
                    time.sleep(0.02)
                leads.append(lead_at - killed)
                probes.append(probe_at - killed)
                print(f"  leader after {leads[-1]:.2f} s, first probe by it after {probes[-1]:.2f} s", flush=True)
                leader.start()  # back, as a follower, for the next round
            print(f"failover: leader median {statistics.median(leads):.2f} s, max {max(leads):.2f} s; "
                  f"first probe median {statistics.median(probes):.2f} s, max {max(probes):.2f} s")
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe-subscribers", type=int, default=100)
    parser.add_argument("--probe-rate", type=float, default=20)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--failovers", type=int, default=5)
    parser.add_argument("--only", choices=("latency", "capacity", "failover"))
    args = parser.parse_args()
    ensure_node_modules()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}, "
          f"{round(psutil.virtual_memory().total / 2**30)} GiB; everything on 127.0.0.1")
    if args.only in (None, "latency"):
        cross_instance(args)
    if args.only in (None, "capacity"):
        capacity(args)
    if args.only in (None, "failover"):
        failover(args)


if __name__ == "__main__":
    main()

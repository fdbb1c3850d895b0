"""The platform's bus to /ws/updates subscribers: messages published on RabbitMQ's
`heimdall.events` exchange as the platform publishes them (kombu, a platform event passed
through: `training:progress`), read by the server, delivered to every subscriber.

Two servers, measured in the same run against the same RabbitMQ (started here on
loopback, tests/rabbitmq_server.py) and the same load generator (bench/node/client.js,
subscribed to `training:progress`):

- `gateway`: python main.py with `[feed]` (backend/feed: aio-pika, a durable queue,
  each message acknowledged once handled, then the hub's fan-out);
- `platform`: bench/platform_consumer_server.py, the platform's own way (kombu
  ConsumerMixin in a thread, run_coroutine_threadsafe per message into a manager that
  awaits each socket).

For each point (subscribers × messages a second) it prints delivered and lost counts,
the time from publish to receipt (p50, p99, max), subscribers the server closed, and the
server's CPU per message.

    python bench/feed.py                        # 1000 subscribers at 1,000 and 5,000 messages a second
    python bench/feed.py --points 1000x1000 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import LoadGenerator, PeerServer, ensure_node_modules, percentile  # noqa: E402
from tests.gateway import Gateway, write_config  # noqa: E402
from tests.rabbitmq_server import RabbitServer  # noqa: E402
from tests.waiting import wait_for  # noqa: E402

TOPIC = "training:progress"
POINTS = [(100, 1000), (1000, 1000), (1000, 5000)]
SERVERS = ("gateway", "platform")


def publish(url: str, messages: int, rate: float, first_n: int) -> float:
    """Publish as the platform's EventPublisher does, paced at `rate`; returns the seconds it took."""
    from kombu import Connection, Exchange

    exchange = Exchange("heimdall.events", type="topic", durable=False, auto_delete=False)
    with Connection(url) as connection:
        producer = connection.Producer()
        exchange(connection.default_channel).declare()  # as the platform's publisher declares it
        start = time.monotonic()
        for i in range(messages):
            wait = start + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            body = {"event": TOPIC, "timestamp": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
                    "data": {"job_id": "bench", "epoch": i, "bench_n": first_n + i, "sent_at": time.time()}}
            producer.publish(body, exchange=exchange, routing_key="training.progress.bench", serializer="json")
        return time.monotonic() - start


def start_server(kind: str, rabbit: RabbitServer, tmp: Path) -> tuple[int, int, object]:
    """(pid, port, stop) of a server that reads the exchange."""
    if kind == "gateway":
        config = write_config(tmp / "bench.toml", extra=f'[http]\nmax_connections_per_address = 20000\n'
                                                        f'[feed]\nurl = "{rabbit.url}"\nqueue = "bench-{time.time_ns()}"\n')
        gw = Gateway(config, tmp / "data").start()
        wait_for(lambda: "heimdall_feed_up 1.0" in httpx.get(gw.url + "/metrics").text, 30)
        return gw.process.pid, gw.port, gw.stop
    peer = PeerServer([sys.executable, "bench/platform_consumer_server.py", rabbit.url]).start()
    return peer.process.pid, peer.port, peer.stop


def measure(kind: str, rabbit: RabbitServer, subscribers: int, rate: float, seconds: float, warmup: int,
            drain: float) -> dict:
    messages = int(rate * seconds)
    with tempfile.TemporaryDirectory() as tmp:
        pid, port, stop = start_server(kind, rabbit, Path(tmp))
        try:
            process = psutil.Process(pid)
            client = LoadGenerator(port, subscribers, TOPIC)
            client.expect("ready", 120)
            time.sleep(1.0)  # the consumer's queue bound, every subscriber settled
            publish(rabbit.url, warmup, min(rate, 500), first_n=0)
            time.sleep(1.0)
            client.say("mark")
            client.expect("marked", 10)
            cpu_before = sum(process.cpu_times()[:2])
            took = publish(rabbit.url, messages, rate, first_n=warmup)
            time.sleep(drain)  # stragglers: what is not there by then counts as lost
            cpu_used = sum(process.cpu_times()[:2]) - cpu_before
            result = client.results()
        finally:
            stop()
    latencies = [latency * 1000 for n, latency in zip(result["n"], result["latency_s"]) if n >= warmup]
    return {"server": kind, "subscribers": subscribers, "rate_per_s": rate, "messages": messages,
            "published_per_s": round(messages / took), "delivered": len(latencies),
            "lost": subscribers * messages - len(latencies), "closed_by_server": result["closed"],
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "server_cpu_ms_per_message": round(cpu_used * 1000 / messages, 3)}


def print_row(r: dict) -> None:
    print(f"{r['server']:>8} {r['subscribers']:>5} x {r['rate_per_s']:g}/s (published {r['published_per_s']}/s): "
          f"delivered {r['delivered']}, lost {r['lost']}, closed {r['closed_by_server']}, p50 {r['p50_ms']} ms, "
          f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms, server CPU {r['server_cpu_ms_per_message']} ms/message",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", nargs="+", default=None, help="SUBSCRIBERSxRATE, e.g. 1000x1000")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each point publishes")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--drain", type=float, default=5.0, help="seconds after the last publish before counting")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    points = [tuple(int(x) for x in p.lower().split("x")) for p in args.points] if args.points else POINTS
    ensure_node_modules()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        rabbit = RabbitServer(Path(tmp) / "rabbitmq").start()
        try:
            for subscribers, rate in points:
                for kind in args.servers:
                    row = measure(kind, rabbit, subscribers, rate, args.seconds, args.warmup, args.drain)
                    print_row(row)
                    if args.json:
                        print(json.dumps(row), flush=True)
        finally:
            rabbit.stop()


if __name__ == "__main__":
    main()

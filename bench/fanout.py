"""Fan-out benchmark of /ws/updates.

Starts the gateway (`python main.py`) on 127.0.0.1, connects N subscribers to
`signals:detected` from worker processes, publishes detections through
`POST /api/v1/signals` at a fixed rate, and prints for each N: delivered and lost
counts, p50/p99/max latency from the POST being sent to the event being received,
server CPU per event, and server memory per idle connection.

    python bench/fanout.py                      # 1,000 and 2,000 subscribers, 10 events/s
    python bench/fanout.py --subscribers 500 --events 50
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lean_ws import open_subscriber  # noqa: E402
from tests.gateway import Gateway, write_config  # noqa: E402

SUBSCRIBE = json.dumps({"event": "subscribe", "data": {"events": ["signals:detected"]}})


def _worker(port: int, count: int, pipe) -> None:
    """Holds `count` subscribers; records (bench_n, latency) for every detection received."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    gc.disable()  # the load generator's own collection pauses would show as gateway latency
    asyncio.run(_worker_main(port, count, pipe))


async def _worker_main(port: int, count: int, pipe) -> None:
    received: list[tuple[int, float]] = []
    subscribed = 0
    all_subscribed = asyncio.get_running_loop().create_future()

    def on_text(payload: bytes) -> None:
        nonlocal subscribed
        now = time.time()
        message = json.loads(payload)
        event = message["event"]
        if event == "signals:detected":
            data = message["data"]
            received.append((data["bench_n"], now - data["sent_at"]))
        elif event == "subscribed":
            subscribed += 1
            if subscribed == count and not all_subscribed.done():
                all_subscribed.set_result(True)

    subscribers = []
    for start in range(0, count, 100):  # connect in batches: the server's accept backlog is finite
        batch = await asyncio.gather(*(open_subscriber("127.0.0.1", port, "/ws/updates", on_text)
                                       for _ in range(start, min(count, start + 100))))
        subscribers.extend(batch)
    for sub in subscribers:
        sub.send_text(SUBSCRIBE)
    await asyncio.wait_for(all_subscribed, 60)
    pipe.send("ready")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_reader(pipe.fileno(), stop.set)
    await stop.wait()
    asyncio.get_running_loop().remove_reader(pipe.fileno())
    os.set_blocking(pipe.fileno(), True)  # the loop made it non-blocking; the results are large
    pipe.recv()
    pipe.send(received)
    for sub in subscribers:
        sub.transport.close()


async def _publish(url: str, token: str, events: int, rate: float, first_n: int) -> list[int]:
    """POST `events` detections at `rate` a second; returns the HTTP statuses."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(n: int) -> int:
            body = {"frequency_mhz": 145.5, "snr_db": 10.0, "websdr_id": "bench", "timestamp": "2026-11-25T12:00:00Z",
                    "bench_n": n, "sent_at": time.time()}
            return (await client.post(url + "/api/v1/signals", json=body, headers=headers)).status_code

        start = time.monotonic()
        tasks = []
        for i in range(events):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(first_n + i)))
        return await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(subscribers: int, rate: float, events: int, warmup: int, workers: int, per_event_report: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        gw = Gateway(write_config(Path(tmp) / "bench.toml"), Path(tmp) / "data").start()
        try:
            server = psutil.Process(gw.process.pid)
            time.sleep(1.0)
            rss_before = server.memory_info().rss
            pipes, processes = [], []
            ctx = mp.get_context("fork")
            for w in range(workers):
                parent, child = ctx.Pipe()
                share = subscribers // workers + (1 if w < subscribers % workers else 0)
                process = ctx.Process(target=_worker, args=(gw.port, share, child), daemon=True)
                process.start()
                pipes.append(parent)
                processes.append(process)
            for pipe in pipes:
                if not pipe.poll(120):
                    raise RuntimeError("subscribers did not connect in time")
                assert pipe.recv() == "ready"
            assert gw.stats()["ws_clients"] == subscribers
            time.sleep(2.0)  # idle: let allocations settle
            rss_idle = server.memory_info().rss
            asyncio.run(_publish(gw.url, gw.token, warmup, rate, first_n=0))
            cpu_before = sum(server.cpu_times()[:2])
            statuses = asyncio.run(_publish(gw.url, gw.token, events, rate, first_n=warmup))
            cpu_used = sum(server.cpu_times()[:2]) - cpu_before
            time.sleep(2.0)  # stragglers
            latencies: list[float] = []
            per_event: dict[int, list[float]] = {}
            delivered = 0
            for pipe in pipes:
                pipe.send("stop")
                for n, latency in pipe.recv():
                    per_event.setdefault(n, []).append(latency * 1000)
                    if n >= warmup:
                        delivered += 1
                        latencies.append(latency * 1000)
            for process in processes:
                process.join(10)
            stats = gw.stats()
            if per_event_report:
                for n in sorted(per_event):
                    values = sorted(per_event[n])
                    print(f"  event {n}: min {values[0]:.1f} median {values[len(values) // 2]:.1f} max {values[-1]:.1f}")
        finally:
            gw.stop()
    expected = subscribers * events
    return {
        "subscribers": subscribers,
        "rate_per_s": rate,
        "events": events,
        "posts_ok": sum(1 for s in statuses if s == 201),
        "delivered": delivered,
        "lost": expected - delivered,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "server_cpu_ms_per_event": round(cpu_used * 1000 / events, 1),
        "server_kib_per_idle_connection": round((rss_idle - rss_before) / subscribers / 1024, 1),
        "slow_consumers_closed": stats["ws_slow_consumers_closed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 2000])
    parser.add_argument("--rate", type=float, default=10.0, help="events a second")
    parser.add_argument("--events", type=int, default=100, help="measured events, after the warm-up")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="load-generator processes")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    parser.add_argument("--per-event", action="store_true", help="also print min/median/max latency of each event")
    args = parser.parse_args()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}",
          flush=True)
    for n in args.subscribers:
        result = run(n, args.rate, args.events, args.warmup, args.workers, args.per_event)
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(
                f"{n:>5} subscribers, {args.rate:g} events/s x {args.events}: delivered {result['delivered']}, "
                f"lost {result['lost']}, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms, "
                f"server CPU {result['server_cpu_ms_per_event']} ms/event, "
                f"{result['server_kib_per_idle_connection']} KiB per idle connection, "
                f"slow consumers closed {result['slow_consumers_closed']}",
                flush=True,
            )


if __name__ == "__main__":
    main()

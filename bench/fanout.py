"""Fan-out benchmark of /ws/updates, against a textbook FastAPI manager and Node's `ws`.

For each point (subscribers × events a second) it starts a server on 127.0.0.1,
connects the subscribers from one load generator (bench/node/client.js: Node and the
`ws` package, the same client for every server), subscribes them to
`signals:detected`, publishes detections through `POST /api/v1/signals` at the rate,
and measures from the moment each POST is sent to the moment each subscriber has the
event. It prints delivered and lost counts, p50/p99/max, server CPU per event, server
memory per idle connection, and the load generator's CPU use (below one core: it is not
the bottleneck; the Node server's figures with the same client show how fast it reads).

    python bench/fanout.py --grid               # the grid of issue 11, all three servers
    python bench/fanout.py --points 2000x20      # this gateway only
    python bench/fanout.py --points 4000x20 --servers gateway node

The servers: `gateway` is `python main.py` (ingestion stores each detection in SQLite
before publishing it); `textbook` is bench/textbook_server.py; `node` is
bench/node/server.js. The benchmark installs `ws` from npm into bench/node/ itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "bench" / "node"
sys.path.insert(0, str(ROOT))

from tests.gateway import Gateway, write_config  # noqa: E402

GRID = [(1000, 10), (2000, 20), (2000, 50), (4000, 20)]
SERVERS = ("gateway", "textbook", "node")


def ensure_node_modules() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("this benchmark needs Node.js and npm (Debian: apt-get install nodejs npm)")
    if not (NODE_DIR / "node_modules" / "ws").is_dir():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock"], cwd=NODE_DIR,
                       check=True, stdout=subprocess.DEVNULL)


class PeerServer:
    """A peer in its own process; it prints `listening PORT` when ready."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> "PeerServer":
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.match(r"listening (\d+)", line)
        if not found:
            raise RuntimeError(f"{self.command} did not start: {line!r}")
        self.port = int(found.group(1))
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@dataclass
class Running:
    pid: int
    url: str
    port: int
    headers: dict[str, str]
    stop: object


def start_server(kind: str, tmp: Path) -> Running:
    if kind == "gateway":
        # Every subscriber comes from 127.0.0.1: lift the per-address cap above the largest point.
        config = write_config(tmp / "bench.toml", extra="[http]\nmax_connections_per_address = 20000\n")
        gw = Gateway(config, tmp / "data").start()
        return Running(gw.process.pid, gw.url, gw.port, gw.auth(), gw.stop)
    command = {"textbook": [sys.executable, "bench/textbook_server.py"],
               "node": ["node", str(NODE_DIR / "server.js")]}[kind]
    peer = PeerServer(command).start()
    return Running(peer.process.pid, peer.url, peer.port, {}, peer.stop)


class LoadGenerator:
    """bench/node/client.js in a subprocess, driven over its stdin and stdout."""

    def __init__(self, port: int, count: int, topic: str = "signals:detected") -> None:
        self.process = subprocess.Popen(["node", str(NODE_DIR / "client.js"), str(port), str(count), topic],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def expect(self, word: str, timeout: float) -> None:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"load generator did not say {word!r} within {timeout:g} s")
        line = self.process.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"load generator said {line!r}, expected {word!r}")

    def say(self, word: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(word + "\n")
        self.process.stdin.flush()

    def results(self) -> dict:
        self.say("stop")
        assert self.process.stdout is not None
        result = json.loads(self.process.stdout.readline())
        self.process.wait(10)
        return result


async def publish(url: str, headers: dict[str, str], events: int, rate: float, first_n: int) -> list[int]:
    """POST `events` detections at `rate` a second; returns the HTTP statuses."""
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:

        async def one(n: int) -> int:
            body = {"frequency_mhz": 145.5, "snr_db": 10.0, "websdr_id": "bench", "timestamp": "2026-11-25T12:00:00Z",
                    "bench_n": n, "sent_at": time.time()}
            return (await client.post(url + "/api/v1/signals", json=body)).status_code

        start = time.monotonic()
        tasks = []
        for i in range(events):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(first_n + i)))
        return await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(kind: str, subscribers: int, rate: float, events: int, warmup: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(kind, Path(tmp))
        try:
            process = psutil.Process(server.pid)
            time.sleep(1.0)
            rss_before = process.memory_info().rss
            client = LoadGenerator(server.port, subscribers)
            client.expect("ready", 120)
            time.sleep(2.0)  # idle: let allocations settle
            rss_idle = process.memory_info().rss
            asyncio.run(publish(server.url, server.headers, warmup, rate, first_n=0))
            client.say("mark")
            client.expect("marked", 10)
            cpu_before = sum(process.cpu_times()[:2])
            started = time.monotonic()
            statuses = asyncio.run(publish(server.url, server.headers, events, rate, first_n=warmup))
            time.sleep(2.0)  # stragglers
            window = time.monotonic() - started
            cpu_used = sum(process.cpu_times()[:2]) - cpu_before
            result = client.results()
        finally:
            server.stop()
    latencies = [latency * 1000 for n, latency in zip(result["n"], result["latency_s"]) if n >= warmup]
    return {
        "server": kind,
        "subscribers": subscribers,
        "rate_per_s": rate,
        "events": events,
        "posts_ok": sum(1 for s in statuses if s == 201),
        "delivered": len(latencies),
        "lost": subscribers * events - len(latencies),
        "closed_by_server": result["closed"],
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "server_cpu_ms_per_event": round(cpu_used * 1000 / events, 2),
        "server_kib_per_idle_connection": round((rss_idle - rss_before) / subscribers / 1024, 1),
        "client_cpu_share": round(result["cpu_s"] / window, 2),
    }


def parse_point(text: str) -> tuple[int, float]:
    subscribers, rate = text.lower().split("x")
    return int(subscribers), float(rate)


def print_row(r: dict) -> None:
    print(f"{r['server']:>8} {r['subscribers']:>5} x {r['rate_per_s']:g}/s: delivered {r['delivered']}, lost {r['lost']}, "
          f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms, "
          f"server CPU {r['server_cpu_ms_per_event']} ms/event, {r['server_kib_per_idle_connection']} KiB/idle conn, "
          f"load generator {r['client_cpu_share']:.0%} of a core", flush=True)


def print_table(rows: list[dict]) -> None:
    by = {(r["server"], r["subscribers"], r["rate_per_s"]): r for r in rows}
    points = sorted({(r["subscribers"], r["rate_per_s"]) for r in rows})
    print("\n| subscribers × events/s | gateway p99 | textbook p99 | Node ws p99 | gateway / Node | lost (gw/tb/node) "
          "| gateway KiB/idle conn |")
    print("|---|---|---|---|---|---|---|")
    for subscribers, rate in points:
        gw, tb, node = (by.get((kind, subscribers, rate)) for kind in SERVERS)

        def p99(r: dict | None) -> str:
            return f"{r['p99_ms']} ms" if r and r["p99_ms"] is not None else "–"

        ratio = f"{gw['p99_ms'] / node['p99_ms']:.2f}×" if gw and node and gw["p99_ms"] and node["p99_ms"] else "–"
        lost = "/".join(str(r["lost"]) if r else "–" for r in (gw, tb, node))
        memory = f"{gw['server_kib_per_idle_connection']}" if gw else "–"
        print(f"| {subscribers:,} × {rate:g} | {p99(gw)} | {p99(tb)} | {p99(node)} | {ratio} | {lost} | {memory} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", action="store_true", help="every point of the grid, every server")
    parser.add_argument("--points", nargs="+", type=parse_point, default=None, help="e.g. 1000x10 4000x20")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=None)
    parser.add_argument("--events", type=int, default=60, help="measured events, after the warm-up")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="also print one JSON object per run")
    args = parser.parse_args()
    points = GRID if args.grid or args.points is None else args.points
    servers = args.servers or (list(SERVERS) if args.grid else ["gateway"])
    ensure_node_modules()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}, "
          f"Node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}", flush=True)
    rows = []
    for subscribers, rate in points:
        for kind in servers:
            row = measure(kind, subscribers, rate, args.events, args.warmup)
            rows.append(row)
            print_row(row)
            if args.json:
                print(json.dumps(row), flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()

"""The edge under abuse: a real gateway process, attacked from 127.0.0.1 while an honest
client on 127.0.0.2 asks /healthz. Prints what it measured:

1. 20,000 connections that never finish their headers (two attacker processes of
   10,000 each): how many the gateway held, refused (per-address cap) and closed (header
   timeout); /healthz latency from the other address meanwhile; the gateway's RSS.
2. A 64 MB request header: the time to its 431 and /healthz latency meanwhile.
3. 2,000 wrong tokens: how many were answered 401 before the address was throttled (429).

    python bench/edge.py [--sockets 20000] [--peer CHECKOUT]

--peer runs the half-open attack also against `python main.py` of another checkout
(e.g. a commit before the edge limits: `git worktree add /tmp/peer c22f7e0`), in the
same run, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gateway import Gateway  # noqa: E402

HALF_HEADER = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"


def _attacker(port: int, count: int, hold_s: float, results) -> None:
    """Open `count` connections from 127.0.0.1, send half a header, keep them."""
    async def run() -> None:
        opened, refused = [], 0
        for i in range(count):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(HALF_HEADER)
                opened.append((reader, writer))
            except OSError:
                refused += 1
            if i % 500 == 0:
                await asyncio.sleep(0)
        started = time.monotonic()
        await asyncio.sleep(hold_s)
        answers = {"503": 0, "closed": 0, "open": 0}
        for reader, writer in opened:
            try:
                data = await asyncio.wait_for(reader.read(64), 0.001)
                answers["503" if data.startswith(b"HTTP/1.1 503") else "closed"] += 1
            except asyncio.TimeoutError:
                answers["open"] += 1
            except OSError:
                answers["closed"] += 1
            writer.close()
        results.put({"opened": len(opened), "connect_failed": refused, **answers,
                     "held_s": round(time.monotonic() - started, 1)})

    asyncio.run(run())


def healthz_latencies(url: str, seconds: float) -> list[float]:
    """/healthz from 127.0.0.2, one request every 50 ms, for `seconds`."""
    client = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=5)
    latencies, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            ok = client.get(url + "/healthz").status_code == 200
        except httpx.HTTPError:
            ok = False
        latencies.append((time.perf_counter() - started) * 1000 if ok else float("inf"))
        time.sleep(0.05)
    return latencies


def describe(latencies: list[float]) -> str:
    failed = sum(1 for x in latencies if x == float("inf"))
    good = sorted(x for x in latencies if x != float("inf"))
    if not good:
        return f"{len(latencies)} requests, all failed"
    p99 = good[min(len(good) - 1, int(0.99 * len(good)))]
    return (f"{len(latencies)} requests, {failed} failed, p50 {statistics.median(good):.1f} ms, "
            f"p99 {p99:.1f} ms, max {good[-1]:.1f} ms")


def rss_mib(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def half_open(gw: Gateway, sockets: int, label: str) -> None:
    """The half-open attack from 127.0.0.1 with /healthz from 127.0.0.2 meanwhile."""
    process = psutil.Process(gw.process.pid)
    print(f"{label}: RSS at rest {rss_mib(process):.1f} MiB")
    results = mp.get_context("spawn").Queue()
    attackers = [mp.get_context("spawn").Process(target=_attacker, args=(gw.port, sockets // 2, 13.0, results))
                 for _ in range(2)]
    started = time.monotonic()
    for attacker in attackers:
        attacker.start()
    latencies = healthz_latencies(gw.url, 12.0)
    peak = rss_mib(process)
    outcome = [results.get(timeout=120) for _ in attackers]
    for attacker in attackers:
        attacker.join(30)
    total = {key: sum(r[key] for r in outcome) for key in ("opened", "connect_failed", "open")}
    print(f"  {sockets} half-open connections attempted from 127.0.0.1 in {time.monotonic() - started:.1f} s: "
          f"{total['opened']} connected, {total['connect_failed']} failed to connect, "
          f"{total['open']} still open after 13 s")
    print(f"  /healthz from 127.0.0.2 meanwhile: {describe(latencies)}")
    print(f"  RSS: peak {peak:.1f} MiB, after {rss_mib(process):.1f} MiB")
    try:
        stats = gw.stats()
    except httpx.HTTPError:
        return
    if "edge_address_cap_refused" in stats:
        print(f"  the gateway counted {stats['edge_address_cap_refused']} refused by the per-address cap (503), "
              f"{stats['edge_header_timeouts']} closed at the header timeout")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=20_000)
    parser.add_argument("--peer", help="another checkout to attack the same way, for comparison")
    args = parser.parse_args()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}")
    root = Path(tempfile.mkdtemp())
    (root / "c.toml").write_text("")  # defaults: header timeout 10 s, 64 KiB headers, 1000 per address
    if args.peer:
        peer = Gateway(root / "c.toml", root / "peer-data", cwd=Path(args.peer)).start()
        try:
            half_open(peer, args.sockets, f"peer ({args.peer})")
        finally:
            peer.stop()
    gw = Gateway(root / "c.toml", root / "data").start()
    process = psutil.Process(gw.process.pid)
    try:
        # 1. Half-open connections.
        half_open(gw, args.sockets, "this gateway")

        # 2. One enormous header.
        before = rss_mib(process)
        done = {}

        def send_big() -> None:
            sock = socket.create_connection(("127.0.0.1", gw.port))
            started = time.perf_counter()
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
                chunk = b"a" * 65536
                for _ in range(1024):  # 64 MiB, stopped as soon as the gateway answers and closes
                    sock.sendall(chunk)
            except OSError:
                pass
            try:
                answer = sock.recv(64)
            except OSError:
                answer = b""
            done.update(answer=answer[:40], seconds=time.perf_counter() - started)
            sock.close()

        thread = threading.Thread(target=send_big)
        thread.start()
        latencies = healthz_latencies(gw.url, 2.0)
        thread.join(30)
        print(f"64 MiB header: answered {done.get('answer')!r} after {done.get('seconds', 0) * 1000:.0f} ms; "
              f"/healthz meanwhile: {describe(latencies)}; RSS {before:.1f} -> {rss_mib(process):.1f} MiB")

        # 3. Wrong tokens.
        client = httpx.Client(timeout=5)
        started = time.perf_counter()
        codes = [client.get(gw.url + "/api/v1/system/status", headers={"Authorization": f"Bearer wrong-{i}"}
                            ).status_code for i in range(2000)]
        print(f"2000 wrong tokens in {time.perf_counter() - started:.1f} s: {codes.count(401)} answered 401, "
              f"{codes.count(429)} throttled (429)")
    finally:
        gw.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Monitoring round benchmark.

1,000 receivers on loopback (10 % of them accept and never answer) polled by the real
Monitor, Hub and SQLite history, on uvloop as under uvicorn; the probes run in the
Monitor's worker process, as in the server. Prints for each round its wall time, the
longest stall of the server's event loop during it, and the CPU time it cost (server
process and probe worker). The fake targets run in a child process of their own.

    python bench/monitor_round.py
    python bench/monitor_round.py --targets 2000 --hanging 0.2 --rounds 5
    python bench/monitor_round.py --targets 5000 --peer /tmp/before   # the last release, side by side
    python bench/monitor_round.py --confined   # every target as if made at run time: the destination policy's cost
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.config.schema import Config  # noqa: E402
from backend.events.bus import LocalBus  # noqa: E402
from backend.events.hub import Hub  # noqa: E402
from backend.kinds import initial_state  # noqa: E402
from backend.monitor.poller import Monitor  # noqa: E402
from backend.serving.gcpolicy import tune_garbage_collector  # noqa: E402
from backend.storage import SQLHistoryStore, open_database  # noqa: E402
from bench.cpu import cpu_seconds  # noqa: E402


def _serve_targets(pipe) -> None:
    import uvloop

    from tests.fake_targets import FakeTargets

    uvloop.install()
    with FakeTargets() as targets:
        pipe.send(targets.port)
        pipe.recv()  # until told to stop


def build_config(port: int, count: int, hanging: float, timeout_s: float, services: int = 0) -> Config:
    hang_every = round(1 / hanging) if hanging else 0
    websdrs = []
    for i in range(count):
        # The fake server answers a path by its name: /hang-N/ never answers, /openwebrx-N/ is a receiver.
        behaviour = "hang" if hang_every and i % hang_every == 0 else "openwebrx"
        websdrs.append({"id": f"rx-{i}", "name": f"Receiver {i}", "url": f"http://127.0.0.1:{port}/{behaviour}-{i}/",
                        "kind": "openwebrx", "latitude": 45.0, "longitude": 7.6})
    return Config.model_validate({
        "websdrs": websdrs, "polling": {"timeout_s": timeout_s},
        "services": [{"name": f"service-{i}", "url": f"http://127.0.0.1:{port}/healthy-{i}/health"}
                     for i in range(services)]})


TARGETS_PID = 0  # the fake targets' process, not counted as the monitor's


def _children_cpu() -> float:
    """CPU seconds used so far by this process's children but the fake targets: the probe worker."""
    import psutil

    return cpu_seconds(c for c in psutil.Process().children(recursive=True) if c.pid != TARGETS_PID)


class LagMeter:
    """The longest time the event loop took to come back to a 5 ms sleep."""

    def __init__(self) -> None:
        self.worst_ms = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst_ms = max(self.worst_ms, (time.perf_counter() - started - 0.005) * 1000)

    def start(self) -> None:
        self.worst_ms = 0.0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.worst_ms


async def bench(port: int, args) -> list[dict]:
    config = build_config(port, args.targets, args.hanging, args.timeout, args.services)
    if args.confined:  # as merged() marks what was made in the browser: each probe under the policy
        config._made_at_run_time = frozenset((group, key) for group, keys in
                                             (("websdrs", [w.id for w in config.websdrs]),
                                              ("services", [s.name for s in config.services])) for key in keys)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        database = open_database(Path(tmp) / "bench.db")
        history = SQLHistoryStore(database)
        hub = Hub(LocalBus(), initial_state(config, {}))
        monitor = Monitor(config, hub, history)
        await monitor.start()
        meter = LagMeter()
        for number in range(1, args.rounds + 1):
            meter.start()
            cpu = time.process_time()
            worker_cpu = _children_cpu()
            started = time.perf_counter()
            await asyncio.gather(monitor.poll("websdrs"), monitor.poll("services"))
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            worker_cpu = _children_cpu() - worker_cpu
            worst = await meter.stop()
            statuses = [entry["status"] for entry in hub.latest("websdrs:status").data.values()]
            results.append({"round": number, "wall_s": round(wall, 2), "max_loop_stall_ms": round(worst, 1),
                            "cpu_s": round(cpu, 2), "worker_cpu_s": round(worker_cpu, 2), "online": statuses.count("online"),
                            "offline": statuses.count("offline")})
            await asyncio.sleep(1)
        await monitor.stop()
        await database.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--hanging", type=float, default=0.1, help="share of targets that never answer")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--services", type=int, default=100, help="HTTP services polled in the same round")
    parser.add_argument("--confined", action="store_true", help="every target under the [targets] destination "
                                                                 "policy, as those made at run time")
    parser.add_argument("--peer", type=Path, help="another checkout: its own bench/monitor_round.py runs "
                                                  "first, in the same run, for a side-by-side figure")
    args = parser.parse_args()
    if args.peer is not None:
        import subprocess

        print(f"## peer {args.peer}", flush=True)
        peer_args = ["--targets", str(args.targets), "--hanging", str(args.hanging), "--timeout", str(args.timeout),
                     "--rounds", str(args.rounds)]
        subprocess.run([sys.executable, "bench/monitor_round.py", *peer_args], cwd=args.peer, check=False)
        print(f"## this checkout {ROOT}", flush=True)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve_targets, args=(child,), daemon=True)
    server.start()
    global TARGETS_PID
    TARGETS_PID = server.pid
    port = parent.recv()
    import uvloop

    uvloop.install()
    tune_garbage_collector()  # as the server does at start
    try:
        results = asyncio.run(bench(port, args))
    finally:
        parent.send("stop")
        server.join(10)
    print(f"# machine: {platform.platform()}, {mp.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# {args.targets} OpenWebRX receivers (two requests each), {args.hanging:.0%} hanging, "
          f"{args.services} services, timeout {args.timeout:g} s")
    for r in results:
        print(f"round {r['round']}: {r['wall_s']} s (target <= {args.timeout + 1:g} s), "
              f"max event-loop stall {r['max_loop_stall_ms']} ms (target <= 20 ms), "
              f"CPU {r['cpu_s']} s in the server process + {r['worker_cpu_s']} s in the probe worker, "
              f"{r['online']} online, {r['offline']} offline")


if __name__ == "__main__":
    main()

"""Sign-ins beside a busy dashboard: what a burst of password checks costs the pages.

A real gateway with N receivers checked every second (fakes on loopback, shaped like the
real captures), an account made by that checkout's own CLI (so its hash carries that
checkout's argon2 parameters), then for `--seconds` each:

1. quiet: `/healthz` (the event loop's answer) and `/api/v1/signals?limit=1` (a read
   through the database thread, as a page's or a tool's meets it) asked in turn, back to back;
2. sign-ins: the same, while `--clients` clients sign in and out back to back.

It prints the answer times (p50, p99, max), sign-ins a second and their p50/p99, and the
gateway's CPU. With `--peer DIR` another checkout (say the commit before a change) is
measured the same way in the same run.

    python bench/sign_ins.py
    git worktree add /tmp/before HEAD~1 && python bench/sign_ins.py --peer /tmp/before
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_targets import FakeTargets  # noqa: E402
from tests.faults.soak import config  # noqa: E402
from tests.gateway import Gateway  # noqa: E402

PASSWORD = "bench-password-long-enough"


def make_account(checkout: Path, data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    subprocess.run([sys.executable, "main.py", "user", "add", "bench", "--role", "viewer", "--data-dir",
                    str(data_dir)], cwd=checkout, input=PASSWORD + "\n", env=env, check=True,
                   capture_output=True, text=True, timeout=60)


PATHS = ("/healthz", "/api/v1/signals?limit=1")


def answer_times(url: str, seconds: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    with httpx.Client(timeout=60) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for path in PATHS:
                started = time.perf_counter()
                client.get(url + path).raise_for_status()
                times[path].append(time.perf_counter() - started)
    return times


def signing_in(url: str, stop: threading.Event, took: list[float]) -> None:
    while not stop.is_set():
        with httpx.Client(base_url=url, timeout=60) as client:
            started = time.perf_counter()
            assert client.post("/login", data={"name": "bench", "password": PASSWORD}).status_code == 303
            took.append(time.perf_counter() - started)
            client.post("/logout")


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.0f}"


def measure(checkout: Path, receivers: int, clients: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeTargets() as targets:
        directory = Path(tmp)
        (directory / "c.toml").write_text(config(targets, receivers))
        make_account(checkout, directory / "data")
        gw = Gateway(directory / "c.toml", directory / "data", cwd=checkout).start(timeout=60)
        try:
            process = psutil.Process(gw.process.pid)
            answer_times(gw.url, 10)  # the first rounds, the caches
            cpu = process.cpu_times()
            quiet = answer_times(gw.url, seconds)
            quiet_cpu = sum(process.cpu_times()[:2]) - sum(cpu[:2])
            stop, took = threading.Event(), []
            workers = [threading.Thread(target=signing_in, args=(gw.url, stop, took)) for _ in range(clients)]
            cpu = process.cpu_times()
            for worker in workers:
                worker.start()
            busy = answer_times(gw.url, seconds)
            stop.set()
            for worker in workers:
                worker.join()
            busy_cpu = sum(process.cpu_times()[:2]) - sum(cpu[:2])
        finally:
            gw.stop()
        with sqlite3.connect(directory / "data" / "heimdall.db") as db:  # "$argon2id$v=19$m=..,t=..,p=..$..."
            hash_words = db.execute("SELECT password_hash FROM accounts").fetchone()[0].split("$")[3]
    print(f"{checkout} (argon2id {hash_words}), {receivers} receivers every second, {clients} clients signing in:")
    for when, times, cpu_s in (("quiet", quiet, quiet_cpu), ("signing in", busy, busy_cpu)):
        print(f"  {when}: gateway CPU {cpu_s / seconds:.0%} of a core")
        for path, took_s in times.items():
            print(f"    {path}: p50 {ms(took_s, 0.5)} ms, p99 {ms(took_s, 0.99)} ms, max {ms(took_s, 1)} ms "
                  f"({len(took_s)} asked)")
    print(f"  sign-ins: {len(took) / seconds:.1f} a second, p50 {ms(took, 0.5)} ms, p99 {ms(took, 0.99)} ms "
          f"(mean {statistics.mean(took) * 1000:.0f} ms)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receivers", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--peer", type=Path, help="another checkout, measured the same way in the same run")
    args = parser.parse_args()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}",
          flush=True)
    for checkout in [ROOT, *([args.peer] if args.peer else [])]:
        measure(checkout, args.receivers, args.clients, args.seconds)


if __name__ == "__main__":
    main()

"""A week of tabs, compressed (issue 33): one gateway with 1,000 receivers and rounds
every second; 2,000 page opens and closes in a real Chromium (the dashboard, the
receivers, a receiver's page), 20,000 /ws/updates connect-subscribe-close cycles and
10,000 sign-ins and sign-outs, in 20 rounds (each: tabs, then sockets, then sign-ins) after
one more to warm up; then the gateway's memory, descriptors, asyncio tasks
and page sessions against their warmed-up baseline (tests/faults/soak.py;
tests/faults/test_soak.py runs a short one in CI).

    python bench/soak.py                        # the full one
    python bench/soak.py --receivers 200 --rounds 4
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.soak import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20, help="each: 100 pages, 1,000 sockets, 500 sign-ins")
    args = parser.parse_args()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        baseline, after, seconds = run(Path(tmp), args.receivers, load=(100, 1000, 500), rounds=args.rounds,
                                       settle_s=120)
    print(json.dumps({"receivers": args.receivers, "page_opens": 100 * args.rounds,
                      "socket_cycles": 1000 * args.rounds, "sign_ins": 500 * args.rounds,
                      "seconds": round(seconds), "baseline": baseline, "after": after,
                      "rss_growth_mib": round((after["rss_bytes"] - baseline["rss_bytes"]) / 2**20, 1),
                      "descriptors_change": after["open_descriptors"] - baseline["open_descriptors"],
                      "tasks_change": after["asyncio_tasks"] - baseline["asyncio_tasks"]}), flush=True)


if __name__ == "__main__":
    main()

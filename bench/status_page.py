"""The public status page's weight and build time: bytes of the HTML for N listed targets
(90 days of history each, a day in twenty with an outage) and the time to render it.

    python bench/status_page.py --targets 7 100 1000
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.statuspage.render import DAYS, Outage, PageView, TargetView, render_page  # noqa: E402


def view(targets: int) -> PageView:
    rng = random.Random(1)
    made = [TargetView(f"Receiver {n:04d}", "up", 80.0, [100.0 if rng.random() > 0.05 else 97.5 for _ in range(DAYS)],
                       99.87) for n in range(targets)]
    now = int(time.time() * 1000)
    return PageView("network", "Heimdall receiver network", "The receivers that listen for Heimdall.", True, now,
                    [("Receivers", made)], outages=[Outage(f"Receiver {n:04d}", now - n * 3_600_000, now)
                                                    for n in range(min(targets, 50))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, nargs="+", default=[7, 100, 1000])
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.machine()}")
    for count in args.targets:
        page = view(count)
        started = time.perf_counter()
        text = render_page(page)
        took = time.perf_counter() - started
        print(f"{count:5d} targets: {len(text.encode()) / 1024:7.1f} KiB, rendered in {took * 1000:.1f} ms")


if __name__ == "__main__":
    main()

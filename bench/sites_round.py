"""What probes from several sites add to the poller's round: reading every site's latest
votes on a group from the store, and judging each target (the quorum verdict and its
site views), for N targets and S agents' sites, on a SQLite file.

    python bench/sites_round.py --targets 1000 --sites 5
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.config.schema import Config  # noqa: E402
from backend.sites.book import SiteBook  # noqa: E402
from backend.sites.quorum import Vote  # noqa: E402
from backend.sites.store import SiteReport  # noqa: E402
from backend.storage import open_database  # noqa: E402


async def run(targets: int, sites: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(Path(folder) / "bench.db")
        book = SiteBook(database)
        config = Config.model_validate({"polling": {"websdrs_interval_s": 60}, "sites": {"quorum": 2}})
        now_ms = int(time.time() * 1000)
        keys = [f"rx-{n:04d}" for n in range(targets)]
        for s in range(sites):
            votes = {key: Vote("offline" if (n + s) % 10 == 0 else "online", now_ms, "connection refused", 80.0)
                     for n, key in enumerate(keys)}
            await database.run(book.store.report, SiteReport(f"site-{s}", "websdrs", now_ms, now_ms, None, 0, "bench"),
                               votes)
        for attempt in range(runs):
            started = time.perf_counter()
            await book.load("websdrs")
            loaded = time.perf_counter()
            down = 0
            agents = book.agents_counted(config, "websdrs", now_ms)
            for key in keys:
                verdict, _ = book.judge(config, "websdrs", key, Vote("online", now_ms), None, now_ms, agents)
                down += verdict.down
            done = time.perf_counter()
            print(f"run {attempt + 1}: load {1000 * (loaded - started):.1f} ms, judge {targets} targets "
                  f"{1000 * (done - loaded):.1f} ms, total {1000 * (done - started):.1f} ms ({down} down)")
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.targets} targets, {args.sites} agents' sites and the gateway's; Python {platform.python_version()}, "
          f"{platform.machine()}")
    asyncio.run(run(args.targets, args.sites, args.runs))


if __name__ == "__main__":
    main()

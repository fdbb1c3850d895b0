"""History storage size benchmark: 1,000 targets checked every 30 s for 30 days.

The database is filled as the server would fill it, with its retention (`[history]`
defaults) pruned every simulated hour:
- the last 25 hours round by round through `SQLHistoryStore.record_round` (every
  check, minute/hour/day roll-ups), with 2 % of checks down;
- the 29 days before as the hourly and daily roll-up rows those rounds would have left
  (per-check rows and minute rows of that age are pruned anyway).
Then prints the database file's size (after a WAL checkpoint, no VACUUM: pruned pages
stay in the file and are reused, as in a long-running server) and the rows per table.

    python bench/history_size.py
    python bench/history_size.py --targets 200 --days 7
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.config.schema import HistorySettings  # noqa: E402
from backend.storage import CheckRecord, SQLHistoryStore, open_database  # noqa: E402

HOUR_S = 3600


async def fill(path: Path, targets: int, days: int, interval_s: int) -> dict:
    db = open_database(path)
    store = SQLHistoryStore(db)
    retention = HistorySettings().retention_s()
    rng = random.Random(7)
    now_s = int(time.time()) // HOUR_S * HOUR_S
    detailed_hours = 25
    start_detailed = now_s - detailed_hours * HOUR_S
    keys = [f"receiver-{i:04d}" for i in range(targets)]

    # Older history: the roll-up rows of every hour and day before the detailed window.
    checks_per_hour = HOUR_S // interval_s
    connection = db.connection
    with db.transaction():
        for key in keys:
            store._target("websdrs", key)
    ids = [store._ids[("websdrs", key)] for key in keys]
    with db.transaction():
        for hour in range(start_detailed - (days - 1) * 24 * HOUR_S, start_detailed, HOUR_S):
            connection.executemany(
                "INSERT INTO rollup_hour VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(t, hour, checks_per_hour, checks_per_hour - rng.randint(0, 3), rng.uniform(5000, 20000),
                  checks_per_hour, rng.uniform(100, 900)) for t in ids])
        for day in range((start_detailed // 86400 - days) * 86400, start_detailed, 86400):
            connection.executemany(
                "INSERT OR IGNORE INTO rollup_day VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(t, day, checks_per_hour * 24, checks_per_hour * 24 - rng.randint(0, 50),
                  rng.uniform(1e5, 5e5), checks_per_hour * 24, rng.uniform(100, 900)) for t in ids])

    # The last 25 hours, round by round, as the monitor records them.
    started = time.perf_counter()
    rounds = 0
    for round_start in range(start_detailed, now_s, interval_s):
        checks = []
        for key in keys:
            up = rng.random() > 0.02
            checks.append(CheckRecord("websdrs", key, round_start * 1000 + rng.randint(0, 900), "online" if up else "offline",
                                      up, round(rng.uniform(20, 400), 1) if up else None,
                                      None if up else "timeout after 5 s"))
        await store.record_round(checks, [])
        rounds += 1
        if round_start % HOUR_S == 0:
            await store.prune(round_start * 1000, retention)
    await store.prune(now_s * 1000, retention)
    fill_s = time.perf_counter() - started
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
              for table in ("checks", "rollup_minute", "rollup_hour", "rollup_day")}
    await db.close()
    return {"rounds": rounds, "fill_s": round(fill_s, 1), "rows": counts,
            "record_ms_per_round": round(fill_s * 1000 / rounds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--interval", type=int, default=30, help="seconds between checks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        result = asyncio.run(fill(path, args.targets, args.days, args.interval))
        size = path.stat().st_size
    print(f"# machine: {platform.platform()}, Python {platform.python_version()}, SQLite "
          f"{__import__('sqlite3').sqlite_version}")
    print(f"{args.targets} targets every {args.interval} s for {args.days} days: database {size / 2**20:.1f} MiB "
          f"(target < 200 MB); rows {result['rows']}; recording a round of {args.targets} checks took "
          f"{result['record_ms_per_round']} ms on the database thread")


if __name__ == "__main__":
    main()

"""The fault suite of issue 33 with the long holds, printing what was measured for
docs/reliability.md: two gateways on a private redis-server and PostgreSQL, a client
posting detections with ids at 10 a second to both, a subscriber on each, a real
webhook; for the feed's scenario a private RabbitMQ too, and the platform publishing
`signal:detected` at the same rate (tests/faults/rig.py; tests/faults/ runs the same with
short holds in CI).

    python bench/faults.py                      # every scenario
    python bench/faults.py --only redis-frozen postgresql-stopped
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.rig import Rig  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.waiting import wait_for  # noqa: E402


def recovered(rig: Rig) -> float:
    """Seconds until both gateways' /healthz say ok again."""
    start = time.monotonic()
    wait_for(lambda: all(httpx.get(gw.url + "/healthz", timeout=5).json()["status"] == "ok"
                         for gw in rig.gateways), 120)
    return round(time.monotonic() - start, 1)


def redis_frozen(rig: Rig, hold_s: float) -> dict:
    rig.freeze(rig.redis.process.pid, hold_s)
    return {"recovered_after_s": recovered(rig)}


def redis_killed(rig: Rig, hold_s: float) -> dict:
    port = rig.redis.port
    rig.redis.process.kill()
    rig.redis.process.wait(10)
    rig.hold(hold_s)
    rig.redis = RedisServer(rig.directory / "redis-again", port=port).start()
    return {"recovered_after_s": recovered(rig)}


def postgresql_stopped(rig: Rig, hold_s: float) -> dict:
    rig.postgres.halt()
    rig.hold(hold_s)
    rig.postgres.resume()
    return {"recovered_after_s": recovered(rig)}


def poller_frozen(rig: Rig, hold_s: float) -> dict:
    poller = rig.poller()
    rig.post_to = [gw for gw in rig.gateways if gw is not poller]  # the frozen one answers nothing
    resumed = rig.freeze(poller.process.pid, hold_s)
    before = dict(rig.targets.hits)
    rig.hold(1.0 - (time.monotonic() - resumed))
    checks = {name: rig.targets.hits.get(name, 0) - before.get(name, 0) for name in ("api", "inference", "training")}
    return {"checks_in_the_second_after_waking": checks, "recovered_after_s": recovered(rig)}


def rabbitmq_killed(rig: Rig, hold_s: float) -> dict:
    lost_from = time.monotonic()
    rig.rabbit.kill()
    rig.hold(hold_s)
    rig.rabbit.start()
    answering = time.monotonic()
    wait_for(rig.feeds_up, 120)
    rig.feed_gap = (lost_from, time.monotonic())
    return {"feeds_bound_after_the_broker_answered_s": round(time.monotonic() - answering, 1),
            "recovered_after_s": recovered(rig)}


SCENARIOS = {"redis-frozen": (redis_frozen, 15), "redis-killed": (redis_killed, 5),
             "postgresql-stopped": (postgresql_stopped, 15), "poller-frozen": (poller_frozen, 20),
             "rabbitmq-killed": (rabbitmq_killed, 15)}
FEED_SCENARIOS = {"rabbitmq-killed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--rate", type=float, default=10.0, help="detections a second, to both gateways")
    args = parser.parse_args()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}",
          flush=True)
    for name in args.only:
        run, hold_s = SCENARIOS[name]
        with tempfile.TemporaryDirectory() as tmp:
            rig = Rig(Path(tmp), rate_per_s=args.rate, grace_s=10, feed=name in FEED_SCENARIOS).start()
            try:
                rig.start_posting()
                if rig.feed:
                    rig.start_publishing()
                rig.wait_posts(50)
                extra = run(rig, hold_s)
                rig.wait_posts(50)
                rig.stop_publishing()
                rig.stop_posting()
                rig.settle(120)
                rig.hold(12)  # what the alerts say after it: the grace and a delivery
                figures = {"scenario": name, "hold_s": hold_s, **extra, **rig.figures()}
            finally:
                rig.stop()
        figures["bad_answers"] = len(figures["bad_answers"])
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()

"""The server process's garbage-collection policy, measured in bench/fanout.py.

Python's cyclic collector stops everything while it scans the objects of the
generations it collects; with thousands of /ws/updates clients, full passes took 100 to
200 ms. (Probe rounds, the other heavy producer of objects, run in a worker process:
backend/monitor/worker.py.)
"""

from __future__ import annotations

import gc


def tune_garbage_collector() -> None:
    """At start: freeze what start-up built (imports, app, pages: it lives as long as the
    process), and raise the young threshold so a fan-out's short-lived tasks die young
    instead of being promoted, which made full passes of 100–200 ms every few events."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 10)

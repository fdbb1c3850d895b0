"""CPU time of other processes, for the benchmarks."""

from __future__ import annotations

from collections.abc import Iterable

import psutil


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User plus system CPU seconds used so far by these processes (gone ones count 0)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total

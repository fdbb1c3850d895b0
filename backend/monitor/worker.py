"""Probe rounds run in a worker process.

The probes use aiohttp (backend/kinds/probing.py): with httpx a round of a thousand
HTTP checks cost about a second of CPU and left reference cycles around each
connection. Even so, a round's allocations and their collection would stall the event
loop that serves the pages and /ws/updates; in a process of its own the round has its
own event loop, garbage collector and core, and the server only receives the results
(bench/monitor_round.py measures both). The round itself is backend/kinds/rounds.py,
as in a probe agent and a trial.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import signal
import threading
import time

from backend.kinds import CheckSpec
from backend.kinds.probing import ProbeResult
from backend.kinds.rounds import probe_all

log = logging.getLogger(__name__)


def run_round(specs: list[CheckSpec], max_concurrency: int) -> list[ProbeResult]:
    """Entry point in the worker process."""
    return asyncio.run(probe_all(specs, max_concurrency))


def _ready() -> bool:
    return True


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: the signals of an orderly stop are the server's to act on, and
    this process ends with the server's, however that ended.

    Ctrl-C, `systemctl stop` (KillMode=control-group) and `docker stop` signal the whole
    process group: a worker that died of that signal first would be reported as the
    gateway's problem in the middle of a planned stop. It ignores them; the server's
    shutdown closes the pool, and a server gone without that (a SIGKILL) is noticed here."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class WorkerStopped(Exception):
    """The gateway is shutting down: the round in flight is dropped, quietly."""


class WorkerFailed(Exception):
    """The worker process died during a round: the gateway's problem, not the targets'."""


class ProbeWorker:
    """One worker process, started once and reused; replaced if it dies."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._stopped = False

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a process that runs an event loop and threads is not safe.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    async def start(self) -> None:
        """Start the process now, so the first round does not wait for it."""
        await asyncio.get_running_loop().run_in_executor(self._executor(), _ready)

    async def run(self, specs: list[CheckSpec], max_concurrency: int) -> list[ProbeResult]:
        loop = asyncio.get_running_loop()
        if self._stopped:
            raise WorkerStopped()
        try:
            return await loop.run_in_executor(self._executor(), run_round, specs, max_concurrency)
        except asyncio.CancelledError:
            if self._stopped:  # stop() cancelled the round's future, not somebody cancelling us
                raise WorkerStopped() from None
            raise
        except concurrent.futures.process.BrokenProcessPool:
            log.error("the probe worker process died; starting a new one for the next round")
            self._pool = None
            raise WorkerFailed("the probe worker process died; a new one starts for the next round") from None

    def stop(self) -> None:
        self._stopped = True
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

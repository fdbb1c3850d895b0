"""The scheduled jobs of one gateway process: probe rounds and history pruning.

APScheduler 3 (`AsyncIOScheduler`): the jobs are coroutines on the server's event loop.
Only one process may run them; a second worker would probe every target twice.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.config.schema import Config
from backend.kinds import GROUPS
from backend.monitor.poller import Monitor
from backend.safety.sparse_log import SparseLog
from backend.storage.database import unavailable_reason

POLL_JOBS = tuple(f"poll-{group}" for group in GROUPS)
MONITOR_JOBS = (*POLL_JOBS, "prune-history", "prune-records", "own-histories", "watch-sites")
OWN_HISTORIES_EVERY_MIN = 60  # KiwiSDR measures its SNR hourly


_quiet = SparseLog(logging.getLogger(__name__), 60)


def storage_tolerant(job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A job that meets storage away (the database stopped, the disk full) skips its turn:
    a round not kept is not published, so no target moves; said once a minute and on
    /healthz, never a traceback each turn (four a second for watch-sites; a log nobody
    drains then blocks the process)."""
    @functools.wraps(job)
    async def run(*args: Any) -> None:
        try:
            await job(*args)
        except Exception as exc:
            reason = unavailable_reason(exc)
            if reason is None:
                raise
            _quiet.warning("%s skipped: storage unavailable (%s)", job.__name__, reason)
    return run


class RoundsRunningLate(logging.Filter):
    """APScheduler's "Execution of job ... skipped: maximum number of running instances
    reached", once a minute (with how many since) instead of at every turn a round is still
    running: with rounds longer than their interval (1,000 receivers every second on two
    cores) that was a line a second, which fills a log, and it blocked a gateway whose
    output nobody drained for good (the soak, issue 33)."""

    def __init__(self, sparse: SparseLog) -> None:
        super().__init__()
        self.sparse = sparse

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" not in str(record.msg):
            return True
        self.sparse.warning("%s: a round took longer than its interval, so rounds run back to back",
                            record.getMessage())
        return False


def quiet_late_rounds(logger: logging.Logger = logging.getLogger("apscheduler.scheduler")) -> None:
    if not any(isinstance(f, RoundsRunningLate) for f in logger.filters):
        logger.addFilter(RoundsRunningLate(SparseLog(logging.getLogger(__name__), 60)))


def build_scheduler(monitor: Monitor, config: Config) -> AsyncIOScheduler:
    quiet_late_rounds()
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    schedule_monitor(scheduler, monitor, config)
    return scheduler


def schedule_monitor(scheduler: AsyncIOScheduler, monitor: Monitor, config: Config) -> None:
    """(Re)place the monitor's jobs for `config`; a round is due at once."""
    for job_id in MONITOR_JOBS:
        if scheduler.get_job(job_id) is not None:
            scheduler.remove_job(job_id)
    now = datetime.now(timezone.utc)
    # A round still running when the next is due is not doubled (max_instances=1, also
    # across a reload, which keeps the job ids), and rounds missed while the loop was
    # busy collapse into one (coalesce).
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None, "next_run_time": now}
    for group in GROUPS:  # one job a group, at the group's own interval ([polling] <group>_interval_s)
        if monitor.has_targets(group):
            scheduler.add_job(storage_tolerant(monitor.poll), "interval", args=[group], id=f"poll-{group}",
                              seconds=getattr(config.polling, f"{group}_interval_s"), **common)
    scheduler.add_job(storage_tolerant(monitor.prune), "interval", minutes=config.history.prune_interval_min, id="prune-history",
                      **common)
    scheduler.add_job(storage_tolerant(monitor.prune_records), "interval", minutes=config.records.prune_interval_min,
                      id="prune-records", **common)
    # A silent site is stale after two intervals: looked for four times an interval.
    shortest = min(config.polling.services_interval_s, config.polling.websdrs_interval_s)
    scheduler.add_job(storage_tolerant(monitor.watch_sites), "interval", seconds=max(0.5, shortest / 4), id="watch-sites", **common)
    # After the first round has said which receivers answer.
    first = now + timedelta(seconds=2 * config.polling.websdrs_interval_s)
    scheduler.add_job(storage_tolerant(monitor.fetch_own_histories), "interval", minutes=OWN_HISTORIES_EVERY_MIN, id="own-histories",
                      **{**common, "next_run_time": first})


def poll_now(scheduler: AsyncIOScheduler) -> None:
    """A round of each kind at once: this instance just became the poller (several
    gateways), and the round due at start, or the dead poller's next one, was skipped."""
    now = datetime.now(timezone.utc)
    for job_id in POLL_JOBS:
        if scheduler.get_job(job_id) is not None:
            scheduler.modify_job(job_id, next_run_time=now)

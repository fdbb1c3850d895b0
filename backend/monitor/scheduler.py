"""The scheduled jobs of one gateway process: probe rounds and history pruning.

APScheduler 3 (`AsyncIOScheduler`): the jobs are coroutines on the server's event loop.
Only one process may run them; a second worker would probe every target twice.
"""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.config.schema import Config
from backend.monitor.poller import Monitor

MONITOR_JOBS = ("poll-services", "poll-websdrs", "prune-history", "prune-records")
POLL_JOBS = ("poll-services", "poll-websdrs")


def build_scheduler(monitor: Monitor, config: Config) -> AsyncIOScheduler:
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
    if monitor.has_targets("services"):
        scheduler.add_job(monitor.poll_services, "interval", seconds=config.polling.services_interval_s,
                          id="poll-services", **common)
    if monitor.has_targets("websdrs"):
        scheduler.add_job(monitor.poll_websdrs, "interval", seconds=config.polling.websdrs_interval_s,
                          id="poll-websdrs", **common)
    scheduler.add_job(monitor.prune, "interval", minutes=config.history.prune_interval_min, id="prune-history",
                      **common)
    scheduler.add_job(monitor.prune_records, "interval", minutes=config.records.prune_interval_min,
                      id="prune-records", **common)


def poll_now(scheduler: AsyncIOScheduler) -> None:
    """A round of each kind at once: this instance just became the poller (several
    gateways), and the round due at start, or the dead poller's next one, was skipped."""
    now = datetime.now(timezone.utc)
    for job_id in POLL_JOBS:
        if scheduler.get_job(job_id) is not None:
            scheduler.modify_job(job_id, next_run_time=now)

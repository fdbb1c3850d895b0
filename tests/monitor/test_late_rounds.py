"""A round longer than its interval: APScheduler's warning at every skipped turn becomes a
line a minute (backend/monitor/scheduler.py RoundsRunningLate). It was a line a second at
1,000 receivers every second, and it blocked a gateway whose output nobody read (issue 33's
soak)."""

from __future__ import annotations

import inspect
import logging

from apscheduler.schedulers import base

from backend.monitor.scheduler import RoundsRunningLate, quiet_late_rounds
from backend.safety.sparse_log import SparseLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# APScheduler's own words, read from its source: the filter matches what it really says.
SKIPPED = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'


def test_the_words_are_apschedulers_own():
    source = inspect.getsource(base.BaseScheduler._process_jobs)
    assert "skipped: maximum number of running" in source and "instances reached (%d)" in source


def skipped_record() -> logging.LogRecord:
    return logging.LogRecord("apscheduler.scheduler", logging.WARNING, __file__, 1, SKIPPED,
                             ("poll-websdrs (trigger: interval[0:00:01])", 1), None)


def test_a_second_of_skips_a_minute_long_is_one_line_then_one_with_the_count(caplog):
    clock = Clock()
    ours = logging.getLogger("test.late-rounds")
    late = RoundsRunningLate(SparseLog(ours, 60, clock))
    with caplog.at_level(logging.WARNING, logger="test.late-rounds"):
        passed = []
        for _ in range(120):  # two minutes of a skipped turn every second
            passed.append(late.filter(skipped_record()))
            clock.now += 1
    assert not any(passed)  # APScheduler's own line never goes out
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith('Execution of job "poll-websdrs') and "rounds run back to back" in lines[0]
    assert "(and 59 more since the last line)" in lines[1]


def test_other_scheduler_lines_pass_and_the_filter_is_installed_once():
    late = RoundsRunningLate(SparseLog(logging.getLogger("test.late-rounds"), 60))
    other = logging.LogRecord("apscheduler.scheduler", logging.WARNING, __file__, 1, "Run time of job %s was missed",
                              ("x",), None)
    assert late.filter(other)
    logger = logging.getLogger("test.apscheduler-like")
    quiet_late_rounds(logger)
    quiet_late_rounds(logger)
    assert sum(isinstance(f, RoundsRunningLate) for f in logger.filters) == 1

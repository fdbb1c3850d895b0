"""The alerting rules as plain functions and small state machines: which targets an
alert covers, when a streak of checks opens or resolves an incident, when a reminder is
due, whether a target is in maintenance, and whether a round looks like the gateway's
own problem. No clock, no I/O: callers pass the time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backend.config.crontab import cron_trigger
from backend.config.schema import AlertSettings, MaintenanceSettings, ReadinessAlertSettings
from backend.kinds.status import Streak, is_down  # Streak: the one flap rule, used by `decide`

SUSPECT_MIN_TARGETS = 3  # a round this large where every check fails the same way is suspect


def covers(patterns: list[str], kind: str, key: str) -> bool:
    """`services:*`, `websdrs:torino` ..."""
    return f"{kind}:*" in patterns or f"{kind}:{key}" in patterns


def decide(alert: AlertSettings, streak: Streak, open_since_ms: int | None, last_sent_ms: int | None,
           now_ms: int, acknowledged: bool = False) -> str | None:
    """What to send after a check: "DOWN", "RESOLVED", "REMINDER" or nothing.

    A target that flaps between good and bad never builds a streak long enough, so it
    sends nothing. With an incident open, a good streak resolves it; a bad one may remind,
    unless someone acknowledged it.
    """
    if open_since_ms is None:
        # At or past the threshold: a target that went down while silenced or in maintenance
        # is announced once the quiet ends (an open incident takes the branch below).
        return "DOWN" if streak.failures >= alert.failure_threshold else None
    if streak.successes >= alert.success_threshold:
        return "RESOLVED"
    if streak.failures and alert.reminder_every_min and last_sent_ms is not None and not acknowledged \
            and now_ms - last_sent_ms >= alert.reminder_every_min * 60_000:
        return "REMINDER"
    return None


def readiness_short(rule: ReadinessAlertSettings, ready: int, short_since_ms: int | None, is_open: bool,
                    now_ms: int) -> tuple[bool, int | None]:
    """The readiness source's judgement after a round: short (fewer than `min_ready`
    receivers ready for `for_min` minutes, or still short while its incident is open),
    and since when the shortfall has lasted (None when there is none)."""
    if ready >= rule.min_ready:
        return False, None
    since = now_ms if short_since_ms is None else short_since_ms
    return is_open or now_ms - since >= rule.for_min * 60_000, since


def in_window(window: MaintenanceSettings, now: datetime) -> bool:
    """Whether `now` (aware, UTC) falls in a maintenance window."""
    length = timedelta(minutes=window.duration_min)
    if window.start is not None:
        start = window.start if window.start.tzinfo else window.start.replace(tzinfo=timezone.utc)
        return start <= now < start + length
    trigger = cron_trigger(window.cron)
    # The latest start at or before now: the next fire time after (now - length).
    start = trigger.get_next_fire_time(None, now - length)
    return start is not None and start <= now


MAX_WINDOWS_LISTED = 500


def windows_between(window: MaintenanceSettings, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The occurrences of a window that overlap [start, end), oldest first (at most 500)."""
    length = timedelta(minutes=window.duration_min)
    if window.start is not None:
        begin = window.start if window.start.tzinfo else window.start.replace(tzinfo=timezone.utc)
        return [(begin, begin + length)] if begin < end and begin + length > start else []
    trigger, found = cron_trigger(window.cron), []
    moment = trigger.get_next_fire_time(None, start - length)
    while moment is not None and moment < end and len(found) < MAX_WINDOWS_LISTED:
        found.append((moment, moment + length))
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return found


def in_maintenance(windows: list[MaintenanceSettings], kind: str, key: str, now: datetime) -> str | None:
    """The name (or "maintenance") of a window covering this target now, else None."""
    for window in windows:
        if covers(window.targets, kind, key) and in_window(window, now):
            return window.name or "maintenance"
    return None


# Failures that say something about the gateway's own reach. Any other failure (refused,
# reset, an HTTP error, a TLS error from the target) proves the network works up to the
# target: it always counts against the target.
REACH_FAILURES = ("DNS lookup failed", "network unreachable", "timeout after", "connection timed out")


def implicates_gateway(reason: str | None) -> bool:
    return bool(reason) and reason.startswith(REACH_FAILURES)


def suspect_round(results: list[tuple[str, str | None]]) -> str | None:
    """(check status, reason) of every target of one round: when all of at least
    SUSPECT_MIN_TARGETS failed, each in a way that implicates the gateway's own reach
    (its DNS, its routes, timeouts everywhere), the gateway is the likelier fault; returns
    those reasons. A single refused connection clears the gateway."""
    if len(results) < SUSPECT_MIN_TARGETS:
        return None
    if all(is_down(status) and implicates_gateway(reason) for status, reason in results):
        return ", ".join(sorted({reason for _, reason in results if reason}))
    return None

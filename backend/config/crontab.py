"""Crontab lines (minute hour day month weekday, UTC) as APScheduler triggers. Pure.

Used to validate `[[maintenance]] cron` and to find its windows (backend/alerting/rules.py).
"""

from __future__ import annotations

import re

_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def cron_trigger(expression: str):
    """A crontab line (minute hour day month weekday, UTC) as APScheduler's trigger.

    APScheduler 3 reads weekday numbers with 0 = Monday; crontab means 0 (and 7) = Sunday.
    Numbers in the weekday field become names, so `0 3 * * 0` is Sundays, as in cron."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError("a crontab line has 5 fields: minute hour day month weekday")
    minute, hour, day, month, weekday = fields
    weekday = re.sub(r"\b([0-7])\b", lambda found: _DAYS[int(found.group(1))], weekday)
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone="UTC")

"""Notifications about what fails together, told together: the way Alertmanager's
`group_by` and `group_wait` do. One OpenWebRX host serving three receivers that stops
answering is one DOWN naming the three, then one RESOLVED, not three of each.

An alert groups by `host` (targets at the same host and port; the default), by `alert`
(everything it says at once), or not at all (`none`). A group collects what one round
says (flushed when the round has been judged) and, with `group_wait_s`, what the
following rounds say within that many seconds of its first notification. The sources
that are not a round of targets (the gateway's own problems, sites, watches) have no
group and go out at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from backend.alerting.delivery import Notification, Row

# Keeps a notification in the database's queue, in place of the rows it replaces (a
# group's members): its row, or None (backend/alerting/kept.py KeptQueue.keep).
Keep = Callable[..., Awaitable[int | None]]

GROUP_BY = ("host", "alert", "none")
NAMED_IN_TITLE = 5  # names listed in a grouped title; the body lists every one
SUBJECT_MAX = 500  # characters of a grouped notification's subject, as kept with its outcome


def host_of(where: str) -> str:
    """The host and port a target is reached at (a URL, or a TCP `host:port`), without
    any credentials: what targets on one machine share."""
    text = (where or "").strip()
    parts = urlsplit(text if "://" in text else f"//{text}")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


@dataclass
class Member:
    notification: Notification
    label: str  # "receiver Genova"
    row: Row = None  # kept in the database while it waits for its group


@dataclass
class Batch:
    members: list[Member] = field(default_factory=list)
    waits_for_round: bool = True  # flushed at the round's end, else by its timer
    timer: asyncio.TimerHandle | None = None


def combined(members: list[Member], where: str) -> Notification:
    """One notification for a group: its title names the count, where, and the first
    names; its body is each member's own body, so nothing one of them would have said is lost."""
    if len(members) == 1:
        return members[0].notification
    first = members[0].notification
    labels = [m.label for m in members]
    shown = ", ".join(labels[:NAMED_IN_TITLE]) + (f" and {len(labels) - NAMED_IN_TITLE} more"
                                                 if len(labels) > NAMED_IN_TITLE else "")
    place = f" on {where}" if where else ""
    title = f"{first.event}: {len(members)}{place}: {shown}"
    body = "\n\n".join(m.notification.body for m in members)
    subject = ", ".join(m.notification.subject for m in members)
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX - 1] + "…"
    return Notification(first.alert, subject, first.event, title, body, first.urls)


class Grouper:
    """Holds grouped notifications until their round ends or their wait is over, then
    hands each group to `submit` as one notification."""

    def __init__(self, submit: Callable[[Notification, Row], None], keep: Keep | None = None) -> None:
        self._submit = submit
        self._keep = keep
        self._batches: dict[tuple[str, str, str, tuple[str, ...]], Batch] = {}

    @property
    def waiting(self) -> int:
        return sum(len(batch.members) for batch in self._batches.values())

    def add(self, notification: Notification, label: str, host: str | None, group_by: str,
            wait_s: float) -> None:
        """Queue one notification; `host` None: it belongs to no group, out at once."""
        if host is None or group_by == "none":
            self._submit(notification, None)
            return
        where = host if group_by == "host" else ""
        index = (notification.alert, notification.event, where, notification.urls)
        batch = self._batches.get(index)
        if batch is None:
            batch = self._batches[index] = Batch(waits_for_round=wait_s <= 0)
            if wait_s > 0:
                batch.timer = asyncio.get_running_loop().call_later(wait_s, self._flush, index)
        row = asyncio.ensure_future(self._keep(notification)) if self._keep is not None else None
        batch.members.append(Member(notification, label, row))

    def end_round(self) -> None:
        """The round was judged: what waits only for it goes out."""
        for index in [i for i, batch in self._batches.items() if batch.waits_for_round]:
            self._flush(index)

    def flush(self) -> None:
        """Everything, now (stopping)."""
        for index in list(self._batches):
            self._flush(index)

    def _flush(self, index: tuple[str, str, str, tuple[str, ...]]) -> None:
        batch = self._batches.pop(index, None)
        if batch is None:
            return
        if batch.timer is not None:
            batch.timer.cancel()
        whole = combined(batch.members, index[2])
        row: Row = None
        if self._keep is not None:
            row = batch.members[0].row if len(batch.members) == 1 else asyncio.ensure_future(
                self._replace([m.row for m in batch.members], whole))
        self._submit(whole, row)

    async def _replace(self, rows: list[Row], whole: Notification) -> int | None:
        """The group's one row in place of its members' (one transaction)."""
        assert self._keep is not None
        kept = [row if isinstance(row, int) or row is None else await row for row in rows]
        return await self._keep(whole, tuple(kept))

"""Notifications kept in the database until delivered, so that a gateway killed with some
queued (waiting for a retry, or for their group) does not lose them: whichever gateway
polls sends them, told late, once their holder's hold has lapsed.

Each gateway holds the rows it queued, renewing its hold every `RENEW_S` while it
lives; a row whose hold lapsed (its gateway died) is claimed by a compare-and-set, so two
gateways never both take one. A planned stop gives its holds up at once, so the next
start sends what the stop could not. On SQLite (one gateway to a file) a start takes
every row not its own at once: the gateway that held them is gone.

Delivery is at least once: a gateway frozen longer than a hold (`HOLD_S`) may, when it
wakes, send what another already sent. No URL is kept (URLs may hold secrets): a kept
notification is sent to its alert's URLs as configured when it is sent; an alert removed
meanwhile has it kept as dropped."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from backend.alerting.delivery import Notification
from backend.alerting.store import AlertStore
from backend.safety.sparse_log import SparseLog
from backend.storage.database import Database
from backend.timefmt import iso_from_ms

log = logging.getLogger(__name__)

HOLD_S = 30.0  # a row is its gateway's for this long after its last renewal
RENEW_S = 10.0  # holds renewed, and lapsed ones looked for, this often


def told_late(body: str, queued_ms: int) -> str:
    return (f"{body}\n\n(Told late: queued at {iso_from_ms(queued_ms)} by a gateway that stopped "
            f"before it was sent.)")


class KeptQueue:
    def __init__(self, database: Database, holder: str, clock: Callable[[], float] = time.time,
                 sole_gateway: bool | None = None) -> None:
        self._db = database
        self._store = AlertStore(database)
        self.holder = holder  # this process among the gateways
        self._clock = clock
        self._quiet = SparseLog(log, 60)
        # The only gateway on its database (SQLite, unless told): its first claim takes every
        # row, since whoever held them is gone; on a shared database only lapsed holds.
        sole = database.dialect == "sqlite" if sole_gateway is None else sole_gateway
        self._claimed_everything = not sole

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _until_ms(self) -> int:
        return self._now_ms() + int(HOLD_S * 1000)

    async def keep(self, notification: Notification, replaces: tuple[int | None, ...] = ()) -> int | None:
        """Its row, or None when the database cannot keep it now (it is sent all the same,
        from memory: only a crash meanwhile would lose it, as before this queue existed)."""
        fields = (notification.alert, notification.subject, notification.event, notification.title,
                  notification.body)
        try:
            return await self._db.run(self._store.keep_queued, fields, self._now_ms(), self.holder,
                                      self._until_ms(), tuple(r for r in replaces if r is not None))
        except Exception as exc:
            self._quiet.warning("a notification could not be kept in the database (it is sent from memory): %s",
                                type(exc).__name__)
            return None

    async def forget(self, row: int | None) -> None:
        """Delivered, or given up and kept as such in the history: no longer queued."""
        if row is None:
            return
        try:
            await self._db.run(self._store.forget_queued, row)
        except Exception as exc:  # kept: sent again, told late, by a later claim (at least once)
            self._quiet.warning("a delivered notification stays queued (the database is away): %s",
                                type(exc).__name__)

    async def renew(self) -> None:
        await self._db.run(self._store.hold_queued, self.holder, self._until_ms())

    async def give_up_holds(self) -> None:
        """A planned stop: what is still queued is the next poller's at once."""
        try:
            await self._db.run(self._store.hold_queued, self.holder, 0)
        except Exception as exc:
            self._quiet.warning("could not hand queued notifications over: %s", type(exc).__name__)

    async def claim(self) -> list[tuple[int, Notification, int]]:
        """Rows of gateways gone, now this one's: (row, notification without URLs, queued_ms)."""
        everything = not self._claimed_everything
        rows = await self._db.run(self._store.claim_queued, self.holder, self._now_ms(), self._until_ms(),
                                  everything)
        self._claimed_everything = True
        return [(row, Notification(alert, subject, event, title, body, ()), queued_ms)
                for row, alert, subject, event, title, body, queued_ms in rows]

    async def count(self) -> int:
        return await self._db.run(self._store.count_queued)

    async def run(self, active: Callable[[], bool], send: Callable[[int, Notification, int], None],
                  every_s: float = RENEW_S) -> None:
        """Renew this gateway's holds; on the poller, hand lapsed rows to `send`. Forever."""
        while True:
            try:
                await self.renew()
                if active():
                    for row, notification, queued_ms in await self.claim():
                        send(row, notification, queued_ms)
            except Exception as exc:  # storage away: the next turn tries again
                self._quiet.warning("queued notifications: %s", type(exc).__name__)
            await asyncio.sleep(every_s)

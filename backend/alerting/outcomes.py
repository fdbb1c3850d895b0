"""What became of every notification attempt, kept in the shared store as delivery reports
it (sent, failed, dropped, and why), and told to whoever shows it (the pages): delivery
writes here directly, with no engine in between."""

from __future__ import annotations

import logging
import time
from typing import Callable

from backend.alerting.delivery import Notification
from backend.alerting.store import AlertStore
from backend.storage.database import Database

log = logging.getLogger(__name__)


class Outcomes:
    def __init__(self, store: AlertStore, database: Database, clock: Callable[[], float] = time.time) -> None:
        self._store, self._db, self._clock = store, database, clock
        self.recorded = 0  # by this instance: pages redraw their lists when it grows
        self.listeners: list[Callable[[], None]] = []

    async def keep(self, notification: Notification, outcome: str, detail: str | None) -> None:
        await self._db.run(self._store.record, int(self._clock() * 1000), notification.alert, notification.subject,
                           notification.event, outcome, detail)
        self.recorded += 1
        for listener in self.listeners:
            try:
                listener()
            except Exception:
                log.exception("a notification outcome listener failed")

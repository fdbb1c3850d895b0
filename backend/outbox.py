"""Durable ingestion: a stored record reaches the event log even if the log was briefly
unreachable.

`RecordStore.add` writes each new record and its outbox row in one transaction; the
outbox publishes pending rows in the order they were stored and deletes each once the
hub's bus has it. A POST drains the outbox after storing (so the usual path publishes
at once, and a retried POST of a stored-but-unpublished id gets it published); while
the bus is down, rows wait and a background task retries every RETRY_S. A crash
between publishing and deleting the row publishes that record again after the restart
(at least once; clients can tell by the record's `id`).
"""

from __future__ import annotations

import asyncio
import logging

from backend.bus import BusUnavailable
from backend.hub import Hub
from backend.storage.records import RecordStore
from backend.topics import LOCALIZATIONS_UPDATED, SIGNALS_DETECTED

log = logging.getLogger(__name__)

TOPIC_OF = {"detections": SIGNALS_DETECTED, "localizations": LOCALIZATIONS_UPDATED}
RETRY_S = 1.0
BATCH = 100


class Outbox:
    def __init__(self, records: RecordStore, hub: Hub) -> None:
        self._records = records
        self._hub = hub
        self._lock = asyncio.Lock()  # one drainer at a time: order, and nothing published twice
        self.waiting = False  # the last drain stopped at an unreachable bus

    async def drain(self) -> bool:
        """Publish what is pending, oldest first. False if the bus is unreachable."""
        async with self._lock:
            while True:
                batch = await self._records.unpublished(BATCH)
                if not batch:
                    self.waiting = False
                    return True
                for position, kind, record in batch:
                    try:
                        await self._hub.publish(TOPIC_OF[kind], record)
                    except BusUnavailable as exc:
                        if not self.waiting:
                            log.warning("stored records wait for the event bus: %s", exc)
                        self.waiting = True
                        return False
                    await self._records.mark_published(position)

    async def run(self) -> None:
        """At start (what a crash left behind) and then while anything waits."""
        await self.drain()
        while True:
            await asyncio.sleep(RETRY_S)
            if self.waiting:
                await self.drain()

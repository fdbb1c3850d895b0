"""Durable ingestion: a stored record reaches the event log even if the log was briefly
unreachable.

`RecordStore.add` writes each new record and its outbox row in one transaction; the
outbox publishes each record and then deletes its row. While the bus is down, rows
wait; a background task retries every RETRY_S, in the order they were stored, and a
POST that arrives meanwhile (a retry of a stored-but-unpublished id, say) goes
behind them. A crash
between publishing and deleting the row publishes that record again after the restart
(at least once; clients can tell by the record's `id`).

Several gateways on one PostgreSQL share the outbox table, so one may drain a row
another is publishing; each publish carries the record's kind and id as its
idempotency key, and the shared log appends it once (backend/events/redis_bus.py). A gateway
that died between storing and publishing leaves its rows there, so with a shared outbox
every gateway sweeps it every RETRY_S, not only while its own publishes wait.
"""

from __future__ import annotations

import asyncio
import logging

from backend.events.bus import BusUnavailable
from backend.events.hub import Hub
from backend.events.topics import LOCALIZATIONS_UPDATED, SIGNALS_DETECTED
from backend.safety.sparse_log import SparseLog
from backend.storage.database import unavailable_reason
from backend.storage.records import RecordStore

log = logging.getLogger(__name__)

TOPIC_OF = {"detections": SIGNALS_DETECTED, "localizations": LOCALIZATIONS_UPDATED}
RETRY_S = 1.0
BATCH = 100
# How long a POST waits for the event log before it is answered anyway (stored, its row
# waiting): a frozen Redis would otherwise hold every POST for its socket timeout.
PUBLISH_WAIT_S = 1.0


class Outbox:
    def __init__(self, records: RecordStore, hub: Hub, shared: bool = False) -> None:
        self._records = records
        self._hub = hub
        self._shared = shared  # other gateways write into the same outbox table
        self._lock = asyncio.Lock()  # one drainer at a time: order, and nothing published twice
        self._in_flight: set[tuple[str, str]] = set()  # published, row not yet deleted
        self.waiting = False  # a publish found the bus unreachable; rows wait
        self._drain_task: asyncio.Task | None = None
        self._quiet = SparseLog(log, 60)
        self._deferred = False  # a record was left to a drain: the next sweep makes sure

    async def publish(self, kind: str, record: dict) -> None:
        """After `add` stored `record` as new. The usual path: publish
        at once, then delete the row. The publish goes out before any database round
        trip, so POSTs arriving together publish together (the fan-out batches them)."""
        key = (kind, record["id"])
        if self.waiting:
            return  # behind what waits, in order: the sweep (run) publishes it when the bus is back
        if self._lock.locked():
            self._deferred = True  # the sweep looks again, whatever the drain under way saw
            self._drain_soon()  # behind the rows being drained, without holding the POST
            return
        if key in self._in_flight:
            return
        self._in_flight.add(key)
        try:
            await self._publish(kind, record)
        except BusUnavailable as exc:
            self._in_flight.discard(key)
            self._wait(exc)
            return
        try:
            await self._records.mark_published(kind, record["id"])
        finally:
            self._in_flight.discard(key)

    async def drain(self) -> bool:
        """Publish what is pending, oldest first. False if the bus is unreachable."""
        async with self._lock:
            while True:
                batch = [row for row in await self._records.unpublished(BATCH)
                         if (row[0], row[1]["id"]) not in self._in_flight]
                if not batch:
                    self.waiting = False
                    return True
                for kind, record in batch:
                    try:
                        await self._publish(kind, record)
                    except BusUnavailable as exc:
                        self._wait(exc)
                        return False
                    await self._records.mark_published(kind, record["id"])

    async def _publish(self, kind: str, record: dict) -> None:
        """One record into the event log, or BusUnavailable within PUBLISH_WAIT_S. A publish
        cut short may still have reached the log: it goes again from the outbox with the
        same idempotency key, and the log appends it once."""
        try:
            await asyncio.wait_for(self._hub.publish(TOPIC_OF[kind], record, once=f"{kind}:{record['id']}"),
                                   PUBLISH_WAIT_S)
        except asyncio.TimeoutError:
            raise BusUnavailable(f"the event log did not answer within {PUBLISH_WAIT_S:g} s") from None

    def _drain_soon(self) -> None:
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.get_running_loop().create_task(self._drain_quietly())

    async def _drain_quietly(self) -> None:
        try:
            await self.drain()
        except Exception as exc:  # the database away for a moment: the sweep retries
            self._quiet.warning("outbox drain failed, the sweep retries: %s", unavailable_reason(exc) or
                                type(exc).__name__)

    def _wait(self, exc: Exception) -> None:
        if not self.waiting:
            log.warning("stored records wait for the event bus: %s", exc)
        self.waiting = True

    async def run(self) -> None:
        """At start (what a crash left behind) and then while anything waits."""
        await self.drain()
        while True:
            await asyncio.sleep(RETRY_S)
            if self.waiting or self._shared or self._deferred:
                self._deferred = False
                try:
                    await self.drain()
                except Exception as exc:  # the database unreachable for a moment: the next sweep retries
                    reason = unavailable_reason(exc)
                    if reason is None:
                        log.exception("outbox sweep failed")
                    else:  # once a minute, not a traceback a second (a log nobody drains blocks the loop)
                        self._quiet.warning("outbox sweep waits: storage unavailable (%s)", reason)

"""One way in for what the platform reports, however it came (POSTed to the ingestion
API, or from its RabbitMQ feed): stored, then published through the outbox, counted.
A record whose id is stored already is the first one again, never published twice."""

from __future__ import annotations

from typing import Any

from backend.ingest.outbox import Outbox
from backend.storage.records import RecordStore


async def accept(records: RecordStore, outbox: Outbox, counter: Any, kind: str,
                 item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store one detection or localization (its stored form) and publish it; the record
    as kept and whether it was new. `counter`: the metric, labelled (kind, stored|duplicate)."""
    record, created = await records.add(kind, item)
    # Published now, or as soon as the event bus is back; a retry of a stored record that
    # is still waiting (the bus was down) gets it published, never twice.
    if created:
        await outbox.publish(kind, record)
    elif outbox.waiting:
        await outbox.drain()
    counter.labels(kind, "stored" if created else "duplicate").inc()
    return record, created

"""What was ingested: detections and localizations, stored before they are answered."""

from __future__ import annotations

import abc
import json
from typing import Any

from backend.events.envelope import encode
from backend.storage.database import Database

KINDS = ("detections", "localizations")


class RecordStore(abc.ABC):
    @abc.abstractmethod
    async def add(self, kind: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Keep `record` (which has an `id`) durably. Returns (the stored record, created).

        When a record with that id exists already, it is returned unchanged and created is False.
        """

    @abc.abstractmethod
    async def unpublished(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """(kind, record) of stored records not yet published, oldest first. `add` puts
        each new record here in the same transaction."""

    @abc.abstractmethod
    async def mark_published(self, kind: str, record_id: str) -> None:
        """The event log has this record."""

    @abc.abstractmethod
    async def latest(self, kind: str, limit: int) -> list[dict[str, Any]]:
        """Newest first, by the record's own timestamp."""

    @abc.abstractmethod
    async def between(self, kind: str, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        """Records with since <= timestamp < until (UTC ISO text), oldest first, at most `limit`."""

    @abc.abstractmethod
    async def count(self, kind: str, since: str | None = None) -> int:
        """How many records, or how many with a timestamp at or after `since` (ISO, Z)."""

    @abc.abstractmethod
    async def prune(self, before: str) -> dict[str, int]:
        """Delete records whose own timestamp is before `before` (ISO, Z); how many went, by kind."""


def _table(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return kind


class SQLRecordStore(RecordStore):
    """On either engine (backend/storage/database.py). Two gateways adding one id at once:
    the primary key lets one insert; the other waits for its commit and reads its row."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, kind: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        return await self._db.run(self._add, _table(kind), record)

    def _add(self, table: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        with self._db.transaction() as connection:
            cursor = connection.execute(
                f"INSERT INTO {table} (id, timestamp, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (record["id"], record["timestamp"], encode(record)),
            )
            if cursor.rowcount == 1:
                connection.execute("INSERT INTO outbox (kind, record_id) VALUES (?, ?)", (table, record["id"]))
                return record, True
            (body,) = connection.execute(f"SELECT body FROM {table} WHERE id = ?", (record["id"],)).fetchone()
            return json.loads(body), False

    async def unpublished(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        return await self._db.run(self._unpublished, limit)

    def _unpublished(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for position, kind, record_id in self._db.connection.execute(
                "SELECT position, kind, record_id FROM outbox ORDER BY position LIMIT ?", (limit,)).fetchall():
            row = self._db.connection.execute(f"SELECT body FROM {_table(kind)} WHERE id = ?", (record_id,)).fetchone()
            if row is None:  # pruned meanwhile: nothing left to publish
                self._db.connection.execute("DELETE FROM outbox WHERE position = ?", (position,))
                continue
            found.append((kind, json.loads(row[0])))
        return found

    async def mark_published(self, kind: str, record_id: str) -> None:
        await self._db.run(lambda: self._db.connection.execute(
            "DELETE FROM outbox WHERE kind = ? AND record_id = ?", (_table(kind), record_id)))

    async def latest(self, kind: str, limit: int) -> list[dict[str, Any]]:
        return await self._db.run(self._latest, _table(kind), limit)

    def _latest(self, table: str, limit: int) -> list[dict[str, Any]]:
        rows = self._db.connection.execute(
            f"SELECT body FROM {table} ORDER BY timestamp DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [json.loads(body) for (body,) in rows]

    async def between(self, kind: str, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        return await self._db.run(self._between, _table(kind), since, until, limit)

    def _between(self, table: str, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        rows = self._db.connection.execute(
            f"SELECT body FROM {table} WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp, rowid LIMIT ?",
            (since, until, limit)).fetchall()
        return [json.loads(body) for (body,) in rows]

    async def count(self, kind: str, since: str | None = None) -> int:
        return await self._db.run(self._count, _table(kind), since)

    def _count(self, table: str, since: str | None) -> int:
        if since is None:
            return self._db.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return self._db.connection.execute(f"SELECT count(*) FROM {table} WHERE timestamp >= ?", (since,)).fetchone()[0]

    async def prune(self, before: str) -> dict[str, int]:
        return await self._db.run(self._prune, before)

    def _prune(self, before: str) -> dict[str, int]:
        with self._db.transaction() as connection:
            return {table: connection.execute(f"DELETE FROM {table} WHERE timestamp < ?", (before,)).rowcount
                    for table in KINDS}

"""Storage of what was ingested (detections, localizations), in SQLite in the data dir.

`Store` is the interface the rest of the gateway uses; `SQLiteStore` implements it
with one connection used from one worker thread, so the event loop never waits on
the disk. A PostgreSQL store can take the same interface later.
"""

from __future__ import annotations

import abc
import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

KINDS = ("detections", "localizations")

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS detections (
        id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, body TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS detections_by_time ON detections (timestamp)",
    """CREATE TABLE IF NOT EXISTS localizations (
        id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, body TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS localizations_by_time ON localizations (timestamp)",
]


class Store(abc.ABC):
    @abc.abstractmethod
    async def add(self, kind: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Keep `record` (which has an `id`) durably. Returns (the stored record, created).

        When a record with that id exists already, it is returned unchanged and created is False.
        """

    @abc.abstractmethod
    async def latest(self, kind: str, limit: int) -> list[dict[str, Any]]:
        """Newest first, by the record's own timestamp."""

    async def close(self) -> None:
        pass


class SQLiteStore(Store):
    def __init__(self, path: Path) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash
        for statement in _SCHEMA:
            self._db.execute(statement)

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def add(self, kind: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        return await self._run(self._add, _table(kind), record)

    def _add(self, table: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        cursor = self._db.execute(
            f"INSERT OR IGNORE INTO {table} (id, timestamp, body) VALUES (?, ?, ?)",
            (record["id"], record["timestamp"], json.dumps(record, separators=(",", ":"))),
        )
        if cursor.rowcount == 1:
            return record, True
        (body,) = self._db.execute(f"SELECT body FROM {table} WHERE id = ?", (record["id"],)).fetchone()
        return json.loads(body), False

    async def latest(self, kind: str, limit: int) -> list[dict[str, Any]]:
        return await self._run(self._latest, _table(kind), limit)

    def _latest(self, table: str, limit: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT body FROM {table} ORDER BY timestamp DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [json.loads(body) for (body,) in rows]

    async def close(self) -> None:
        await self._run(self._db.close)
        self._executor.shutdown(wait=True)


def _table(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return kind

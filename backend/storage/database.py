"""The SQLite database file: one connection, used from one worker thread, so the event
loop never waits on the disk; schema created and migrated at start."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

# Each entry migrates the schema from version i to i + 1. Append only; never edit one
# that has shipped.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE IF NOT EXISTS detections (id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS detections_by_time ON detections (timestamp)",
        "CREATE TABLE IF NOT EXISTS localizations (id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS localizations_by_time ON localizations (timestamp)",
    ],
    [
        "CREATE TABLE targets (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, UNIQUE (kind, key))",
        # Every check, kept for a short while (raw_retention_h). ts: Unix ms.
        """CREATE TABLE checks (target INTEGER NOT NULL, ts INTEGER NOT NULL, status TEXT NOT NULL,
               response_ms REAL, error TEXT, PRIMARY KEY (target, ts)) WITHOUT ROWID""",
        *[
            f"""CREATE TABLE rollup_{size} (target INTEGER NOT NULL, bucket INTEGER NOT NULL,
                   checks INTEGER NOT NULL, up INTEGER NOT NULL, rt_sum REAL NOT NULL, rt_count INTEGER NOT NULL,
                   rt_max REAL, PRIMARY KEY (target, bucket)) WITHOUT ROWID"""
            for size in ("minute", "hour", "day")
        ],
        """CREATE TABLE state_changes (target INTEGER NOT NULL, ts INTEGER NOT NULL, from_status TEXT NOT NULL,
               to_status TEXT NOT NULL, reason TEXT)""",
        "CREATE INDEX state_changes_by_target ON state_changes (target, ts)",
        "CREATE INDEX state_changes_by_time ON state_changes (ts)",
        "CREATE TABLE last_status (target INTEGER PRIMARY KEY, entry TEXT NOT NULL)",
    ],
    [
        # Accounts, API tokens, sessions and the audit log (backend/auth/store.py).
        """CREATE TABLE accounts (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
               created_ms INTEGER NOT NULL)""",
        """CREATE TABLE api_tokens (name TEXT PRIMARY KEY, scopes TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
               created_ms INTEGER NOT NULL, last_used_ms INTEGER)""",
        """CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, account TEXT NOT NULL, created_ms INTEGER NOT NULL,
               expires_ms INTEGER NOT NULL)""",
        "CREATE INDEX sessions_by_account ON sessions (account)",
        """CREATE TABLE audit (ts_ms INTEGER NOT NULL, actor TEXT, action TEXT NOT NULL, subject TEXT,
               address TEXT, detail TEXT)""",
        "CREATE INDEX audit_by_time ON audit (ts_ms)",
    ],
    [
        # Alerting (backend/alerting/store.py): incidents open and closed, every notification
        # attempt's outcome, targets silenced by an admin.
        """CREATE TABLE incidents (id INTEGER PRIMARY KEY, alert TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
               opened_ms INTEGER NOT NULL, reason TEXT, last_sent_ms INTEGER, resolved_ms INTEGER)""",
        "CREATE INDEX incidents_open ON incidents (alert, kind, key) WHERE resolved_ms IS NULL",
        """CREATE TABLE notifications (ts_ms INTEGER NOT NULL, alert TEXT NOT NULL, subject TEXT NOT NULL,
               event TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT)""",
        "CREATE INDEX notifications_by_time ON notifications (ts_ms)",
        "CREATE TABLE silences (kind TEXT NOT NULL, key TEXT NOT NULL, until_ms INTEGER NOT NULL, by TEXT, "
        "PRIMARY KEY (kind, key))",
    ],
    [
        # Stored records not yet published: written with the record, deleted once the
        # event log has it (backend/outbox.py).
        "CREATE TABLE outbox (position INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
        "record_id TEXT NOT NULL)",
        "CREATE INDEX outbox_by_record ON outbox (kind, record_id)",
    ],
]


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        # Readable by this user only: it holds password hashes and what was located where.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        # Durable across a crash of the process; a power cut may lose the last commits.
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        (version,) = self.connection.execute("PRAGMA user_version").fetchone()
        for number in range(version, len(MIGRATIONS)):
            with self.transaction():
                for statement in MIGRATIONS[number]:
                    self.connection.execute(statement)
                self.connection.execute(f"PRAGMA user_version = {number + 1}")

    def transaction(self):
        return _Transaction(self.connection)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def close(self) -> None:
        await self.run(self.connection.close)
        self._executor.shutdown(wait=True)


class _Transaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self._connection.execute("BEGIN")
        return self._connection

    def __exit__(self, kind, value, traceback) -> None:
        self._connection.execute("COMMIT" if kind is None else "ROLLBACK")

"""The gateway's database: a SQLite file (the embedded default) or PostgreSQL (shared by
several gateways, HEIMDALL_DATABASE_URL). One connection, used from one worker thread,
so the event loop never waits on the database; the schema is migrated at start by
Alembic (backend/storage/schema.py).

The stores write one SQL text for both engines (ON CONFLICT, RETURNING, and `rowid`,
which the PostgreSQL tables have as a column) with `?` placeholders; the PostgreSQL
connection turns them into psycopg's `%s`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from backend.safety.redact import redact_text, redact_url
from backend.storage.schema import HEAD, current_revision, migrate_sqlite, migrate_url

T = TypeVar("T")
log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10  # PostgreSQL: connecting, at start and after a lost connection
STATEMENT_TIMEOUT_MS = 30_000  # PostgreSQL: no statement holds the database thread longer


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached or migrated (one line, for people)."""


# What SQLite says when the trouble is the disk or another process, not the statement.
_SQLITE_UNAVAILABLE = ("database or disk is full", "disk i/o error", "database is locked", "unable to open database")
RETRY_AFTER_S = 5  # what a client is told to wait while storage is unavailable


def unavailable_reason(exc: BaseException) -> str | None:
    """Why storage cannot be used now (the database away, the disk full), in a few words;
    None for anything else (a bug is a bug). A request that meets it is answered 503 with
    Retry-After, not 500: nothing was kept, and the same request later will be."""
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return text if text.startswith(_SQLITE_UNAVAILABLE) else None
    module = type(exc).__module__
    if module.startswith("psycopg"):
        import psycopg

        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return "the database does not answer: " + redact_text(str(exc).strip().splitlines()[0] if str(exc) else
                                                                  type(exc).__name__)[:200]
    return None


class Database:
    """What the stores use: `connection.execute(sql, params)`, `transaction()`, `run()`."""

    dialect: str  # "sqlite" or "postgresql"
    connection: Any

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
        # Why storage cannot be used, since the last call that met it, until one succeeds
        # again (/healthz, the pages, the gateway's own problem "database" read it).
        self.unavailable: str | None = None
        self.listeners: list[Callable[[str | None], None]] = []  # told when that changes

    def transaction(self) -> "_Transaction":
        return _Transaction(self.connection)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the database thread."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except Exception as exc:
            reason = unavailable_reason(exc)
            if reason is not None:
                self._became(reason)
            raise
        if self.unavailable is not None:
            self._became(None)
        return result

    def _became(self, reason: str | None) -> None:
        if (reason is None) == (self.unavailable is None):
            self.unavailable = reason  # still down: the latest reason
            return
        self.unavailable = reason
        if reason is None:
            log.warning("storage is available again")
        else:
            log.warning("storage unavailable: %s", reason)
        for listener in list(self.listeners):
            try:
                listener(reason)
            except Exception:
                log.exception("a storage listener failed")

    def close_now(self) -> None:
        self.connection.close()

    async def close(self) -> None:
        await self.run(self.close_now)
        self._executor.shutdown(wait=True)

    def describe(self) -> str:
        raise NotImplementedError


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        # Readable by this user only: it holds password hashes and what was located where.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if current_revision(self.connection) != HEAD:
            migrate_sqlite(path)
        self.connection.execute("PRAGMA journal_mode=WAL")
        # Durable across a crash of the process; a power cut may lose the last commits.
        self.connection.execute("PRAGMA synchronous=NORMAL")

    def describe(self) -> str:
        return f"SQLite {self.path}"


@functools.lru_cache(maxsize=512)
def _placeholders(sql: str) -> str:
    # Our SQL has no string literals and no '%': every '?' is a parameter.
    return sql.replace("?", "%s")


class _PostgresConnection:
    """sqlite3's connection calls (execute, executemany) over psycopg, reconnecting once
    the connection is found lost (the statement that found it fails; the next one runs)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._raw = self._connect()

    def _connect(self):
        import psycopg

        return psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")

    def _live(self):
        with self._lock:
            if self._raw.closed or self._raw.broken:
                log.warning("database connection lost; reconnecting")
                self._raw = self._connect()
            return self._raw

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        cursor = self._live().cursor()
        cursor.execute(_placeholders(sql), tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Any:
        rows = [tuple(row) for row in rows]
        cursor = self._live().cursor()
        if rows:
            cursor.executemany(_placeholders(sql), rows)
        return cursor

    def close(self) -> None:
        self._raw.close()


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.connection = _PostgresConnection(url)
        if current_revision(self.connection) != HEAD:
            migrate_url(url)

    def describe(self) -> str:
        return f"PostgreSQL {redact_url(self.url)}"


def open_database(location: Path | str) -> Database:
    """A path: SQLite. A postgresql:// URL: PostgreSQL (DatabaseUnavailable if it cannot
    be reached or migrated; the message never carries the password)."""
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        try:
            return PostgresDatabase(location)
        except Exception as exc:  # psycopg's or SQLAlchemy's, at connect or migrate
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise DatabaseUnavailable(f"database {redact_url(location)}: {redact_text(reason)}") from None
    return SQLiteDatabase(Path(location))


class _Transaction:
    def __init__(self, connection) -> None:
        self._connection = connection

    def __enter__(self):
        self._connection.execute("BEGIN")
        return self._connection

    def __exit__(self, kind, value, traceback) -> None:
        try:
            self._connection.execute("COMMIT" if kind is None else "ROLLBACK")
        except Exception:
            if kind is None:
                raise  # a failed COMMIT; a failed ROLLBACK would hide the error being raised

"""Schema versions 1 to 5, as they shipped before Alembic: frozen, never edited. Only
brings an old SQLite file to version 5, the schema of Alembic's baseline revision."""

from __future__ import annotations

import sqlite3
from pathlib import Path

STEPS: list[list[str]] = [
    [
        "CREATE TABLE IF NOT EXISTS detections (id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS detections_by_time ON detections (timestamp)",
        "CREATE TABLE IF NOT EXISTS localizations (id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS localizations_by_time ON localizations (timestamp)",
    ],
    [
        "CREATE TABLE targets (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, UNIQUE (kind, key))",
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
        "CREATE TABLE outbox (position INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
        "record_id TEXT NOT NULL)",
        "CREATE INDEX outbox_by_record ON outbox (kind, record_id)",
    ],
]


def upgrade_to_v5(path: Path) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        for number in range(version, len(STEPS)):
            connection.execute("BEGIN")
            for statement in STEPS[number]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")
            connection.execute("COMMIT")
    finally:
        connection.close()

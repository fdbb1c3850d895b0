"""The schema, migrated by Alembic (backend/storage/migrations/): one history of
revisions for SQLite and PostgreSQL, run at every start up to the newest.

SQLite files made before Alembic (schema versions 1 to 5, kept in PRAGMA user_version)
are brought to version 5 by the frozen steps in `legacy_schema.py`, then marked as the
baseline revision (which is that same schema) and upgraded from there.

A new revision: `alembic -c backend/storage/alembic.ini revision -m "what it does"`
(HEIMDALL_DATABASE_URL or a SQLite path in HEIMDALL_DATABASE_PATH to compare against).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BASELINE = "0001"
# The newest revision. A database already there is not handed to Alembic, whose import
# alone costs about half a second at every start (tests/storage/test_history_store.py holds
# this to Alembic's own answer, so it cannot drift from migrations/versions/).
HEAD = "0012"
# Two gateways starting together on one PostgreSQL: the second waits for the first's
# migration (a transaction-scoped advisory lock; any constant both agree on).
MIGRATION_LOCK = 0x4865696D  # "Heim"


def _config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(engine_url: str, stamp_baseline: bool = False) -> None:
    import sqlalchemy
    from alembic import command

    engine = sqlalchemy.create_engine(engine_url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sqlalchemy.text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            config = _config()
            config.attributes["connection"] = connection
            if stamp_baseline:
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def migrate_sqlite(path: Path) -> None:
    from backend.storage.legacy_schema import upgrade_to_v5

    with sqlite3.connect(path) as probe:
        has_alembic = probe.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone()
        (version,) = probe.execute("PRAGMA user_version").fetchone()
    probe.close()
    legacy = not has_alembic and version > 0
    if legacy:
        upgrade_to_v5(path)
    _upgrade(f"sqlite:///{path}", stamp_baseline=legacy)


def migrate_url(url: str) -> None:
    """PostgreSQL: postgresql://user:password@host:port/name, through psycopg 3."""
    _upgrade(sqlalchemy_url(url))


def sqlalchemy_url(url: str) -> str:
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def current_revision(connection) -> str | None:
    """The revision a database is at; None before Alembic has run on it. On a connection
    that does not hold a transaction open (a failed statement aborts nothing)."""
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception:  # no such table: sqlite3's or psycopg's error
        return None
    return row[0] if row else None


def newest_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()

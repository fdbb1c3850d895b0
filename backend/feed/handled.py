"""The feed's messages already handled, by identity (backend/feed/platform.py
`identity_of`), in the gateway's database: a message redelivered after a crash, a
broker restart or to another gateway of the cluster is recognised and not counted twice.
Synchronous methods, for the database thread (`Database.run`)."""

from __future__ import annotations

from backend.storage.database import Database

PRUNE_EVERY = 1000  # marks between two sweeps of old identities


class HandledStore:
    def __init__(self, db: Database, kept_ms: int) -> None:
        self._db = db
        self._c = db.connection
        self._kept_ms = kept_ms
        self._marks = 0

    def seen(self, identity: str) -> bool:
        return self._c.execute("SELECT 1 FROM feed_handled WHERE identity = ?", (identity,)).fetchone() is not None

    def mark(self, identity: str, now_ms: int) -> None:
        with self._db.transaction() as c:
            c.execute("INSERT INTO feed_handled (identity, handled_ms) VALUES (?, ?) ON CONFLICT (identity) "
                      "DO NOTHING", (identity, now_ms))
            self._marks += 1
            if self._marks % PRUNE_EVERY == 0:
                c.execute("DELETE FROM feed_handled WHERE handled_ms < ?", (now_ms - self._kept_ms,))

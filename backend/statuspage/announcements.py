"""Announcements: what operators tell the public status pages' readers, kept in the
gateway's database (shared on PostgreSQL). Synchronous methods, for the database thread."""

from __future__ import annotations

import time
from typing import Any

from backend.storage.database import Database

TYPES = ("information", "maintenance", "incident", "resolved")
FIELDS = ("id", "type", "title", "text", "pages", "created_ms", "updated_ms", "archived_ms", "by")
MAX_LISTED = 500


def _row(row: tuple) -> dict[str, Any]:
    made = dict(zip(FIELDS, row))
    made["pages"] = [slug for slug in made["pages"].split(",") if slug]
    return made


class AnnouncementStore:
    def __init__(self, db: Database) -> None:
        self._c = db.connection

    def add(self, kind: str, title: str, text: str, pages: list[str], by: str | None) -> dict[str, Any]:
        now = int(time.time() * 1000)
        (new_id,) = self._c.execute("INSERT INTO announcements (type, title, text, pages, created_ms, updated_ms, by) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                    (kind, title, text, ",".join(pages), now, now, by)).fetchone()
        return self.get(new_id)

    def get(self, announcement_id: int) -> dict[str, Any] | None:
        row = self._c.execute(f"SELECT {', '.join(FIELDS)} FROM announcements WHERE id = ?",
                              (announcement_id,)).fetchone()
        return _row(row) if row else None

    def change(self, announcement_id: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Some of type, title, text, pages; None when there is no such announcement."""
        if self.get(announcement_id) is None:
            return None
        values = {k: (",".join(v) if k == "pages" else v) for k, v in changes.items() if k in FIELDS[1:5]}
        values["updated_ms"] = int(time.time() * 1000)
        self._c.execute(f"UPDATE announcements SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                        (*values.values(), announcement_id))
        return self.get(announcement_id)

    def archive(self, announcement_id: int) -> dict[str, Any] | None:
        now = int(time.time() * 1000)
        self._c.execute("UPDATE announcements SET archived_ms = ?, updated_ms = ? WHERE id = ? AND archived_ms IS NULL",
                        (now, now, announcement_id))
        return self.get(announcement_id)

    def listed(self, archived: bool | None = None, page: str | None = None,
               limit: int = MAX_LISTED) -> list[dict[str, Any]]:
        """Newest first: current ones (archived=False), archived ones (True) or all (None),
        optionally only those shown on one page."""
        where = {None: "", False: "WHERE archived_ms IS NULL", True: "WHERE archived_ms IS NOT NULL"}[archived]
        rows = self._c.execute(f"SELECT {', '.join(FIELDS)} FROM announcements {where} "
                               "ORDER BY updated_ms DESC, id DESC LIMIT ?", (limit * 4 if page else limit,)).fetchall()
        found = [_row(row) for row in rows]
        return [a for a in found if page is None or page in a["pages"]][:limit]

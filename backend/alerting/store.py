"""Alert state, kept in the database so that every instance of a cluster and every
restart sees one truth: open incidents (and their acknowledgements), every notification
attempt, silences and maintenance windows made on a page or through the API.
Synchronous methods, run on the database thread."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.storage.database import Database
from backend.timefmt import iso_from_ms

MAX_LISTED = 1000  # silences or windows listed at once


@dataclass
class Incident:
    id: int
    alert: str
    kind: str
    key: str
    opened_ms: int
    reason: str | None
    last_sent_ms: int | None
    acknowledged_ms: int | None = None
    acknowledged_by: str | None = None


@dataclass
class Quieting:
    """A silence or a maintenance window made at run time: `key` may be "*" (all of a kind)."""

    id: int
    kind: str
    key: str
    starts_ms: int
    until_ms: int
    comment: str | None
    by: str | None

    def shown(self) -> dict:
        """As the API answers it."""
        return {"id": self.id, "kind": self.kind, "target": self.key, "starts_at": iso_from_ms(self.starts_ms),
                "ends_at": iso_from_ms(self.until_ms), "comment": self.comment, "by": self.by}

    def covers(self, kind: str, key: str, now_ms: int) -> bool:
        return self.kind == kind and self.key in ("*", key) and self.starts_ms <= now_ms < self.until_ms


@dataclass
class AlertState:
    """What the engine decides with, read from the store in one trip."""

    incidents: dict[tuple[str, str, str], Incident] = field(default_factory=dict)
    silences: list[Quieting] = field(default_factory=list)
    maintenance: list[Quieting] = field(default_factory=list)


_INCIDENT = "id, alert, kind, key, opened_ms, reason, last_sent_ms, acknowledged_ms, acknowledged_by"
_QUIETING = "id, kind, key, starts_ms, until_ms, comment, by"
QUIETING_TABLES = {"silences": "alert_silences", "maintenance": "maintenance_windows"}


class AlertStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._c = db.connection

    def open_incidents(self) -> dict[tuple[str, str, str], Incident]:
        rows = self._c.execute(f"SELECT {_INCIDENT} FROM incidents WHERE resolved_ms IS NULL").fetchall()
        return {(r[1], r[2], r[3]): Incident(*r) for r in rows}

    def state(self, now_ms: int) -> AlertState:
        return AlertState(self.open_incidents(), self.quietings("silences", now_ms),
                          self.quietings("maintenance", now_ms))

    def open_incident(self, alert: str, kind: str, key: str, now_ms: int, reason: str | None,
                      since_ms: int | None = None) -> Incident:
        """An incident open since `since_ms` (its first failure; now when not known), told now."""
        opened = now_ms if since_ms is None else min(since_ms, now_ms)
        (incident_id,) = self._c.execute("INSERT INTO incidents (alert, kind, key, opened_ms, reason, last_sent_ms) "
                                         "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                         (alert, kind, key, opened, reason, now_ms)).fetchone()
        return Incident(incident_id, alert, kind, key, opened, reason, now_ms)

    def sent(self, incident_id: int, now_ms: int) -> None:
        self._c.execute("UPDATE incidents SET last_sent_ms = ? WHERE id = ?", (now_ms, incident_id))

    def resolve(self, incident_id: int, now_ms: int) -> None:
        self._c.execute("UPDATE incidents SET resolved_ms = ? WHERE id = ?", (now_ms, incident_id))

    def acknowledge(self, incident_id: int, now_ms: int, by: str | None) -> dict | None:
        """An open incident acknowledged (no more reminders); None if there is no such open one."""
        row = self._c.execute("UPDATE incidents SET acknowledged_ms = ?, acknowledged_by = ? "
                              "WHERE id = ? AND resolved_ms IS NULL RETURNING id", (now_ms, by, incident_id)).fetchone()
        return self.incident(incident_id) if row else None

    def incident(self, incident_id: int) -> dict | None:
        rows = self._incident_rows("WHERE id = ?", (incident_id,))
        return rows[0] if rows else None

    def record(self, now_ms: int, alert: str, subject: str, event: str, outcome: str, detail: str | None) -> None:
        self._c.execute("INSERT INTO notifications (ts_ms, alert, subject, event, outcome, detail) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (now_ms, alert, subject, event, outcome, detail))

    # -- notifications kept until delivered (backend/alerting/kept.py) ---------------------

    def keep_queued(self, fields: tuple[str, str, str, str, str], now_ms: int, holder: str, until_ms: int,
                    replaces: tuple[int, ...] = ()) -> int:
        """One notification (alert, subject, event, title, body) kept, held by `holder`;
        the rows it `replaces` (a group's members, now one notification) go in the same
        transaction, so a crash leaves either the members or the whole, never both."""
        with self._db.transaction():
            (row,) = self._c.execute(
                "INSERT INTO notification_queue (alert, subject, event, title, body, queued_ms, holder, held_until_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", (*fields, now_ms, holder, until_ms)).fetchone()
            for replaced in replaces:
                self._c.execute("DELETE FROM notification_queue WHERE id = ?", (replaced,))
        return row

    def forget_queued(self, row: int) -> None:
        self._c.execute("DELETE FROM notification_queue WHERE id = ?", (row,))

    def hold_queued(self, holder: str, until_ms: int) -> None:
        """Renew (or, with 0, give up) every hold of `holder`."""
        self._c.execute("UPDATE notification_queue SET held_until_ms = ? WHERE holder = ?", (until_ms, holder))

    def claim_queued(self, holder: str, now_ms: int, until_ms: int, unheld_too: bool, limit: int = 100) -> list[tuple]:
        """Rows whose hold has lapsed (and, with `unheld_too`, every row not `holder`'s own),
        claimed for `holder`: each by a compare-and-set, so two gateways never both take one.
        Answers (id, alert, subject, event, title, body, queued_ms) of those taken."""
        where = "holder <> ?" if unheld_too else "held_until_ms < ?"
        rows = self._c.execute("SELECT id, alert, subject, event, title, body, queued_ms, holder, held_until_ms "
                               f"FROM notification_queue WHERE {where} ORDER BY id LIMIT ?",
                               (holder if unheld_too else now_ms, limit)).fetchall()
        taken = []
        for row in rows:
            if self._c.execute("UPDATE notification_queue SET holder = ?, held_until_ms = ? WHERE id = ? "
                               "AND holder = ? AND held_until_ms = ?",
                               (holder, until_ms, row[0], row[7], row[8])).rowcount == 1:
                taken.append(row[:7])
        return taken

    def count_queued(self) -> int:
        return self._c.execute("SELECT count(*) FROM notification_queue").fetchone()[0]

    def incidents(self, limit: int) -> list[dict]:
        return self._incident_rows("ORDER BY opened_ms DESC, id DESC LIMIT ?", (limit,))

    def _incident_rows(self, where: str, args: tuple) -> list[dict]:
        rows = self._c.execute("SELECT id, alert, kind, key, opened_ms, reason, last_sent_ms, resolved_ms, "
                               f"acknowledged_ms, acknowledged_by FROM incidents {where}", args).fetchall()
        names = ("incident", "alert", "kind", "id", "opened_ms", "reason", "last_sent_ms", "resolved_ms",
                 "acknowledged_ms", "acknowledged_by")
        return [dict(zip(names, row)) for row in rows]

    def count_open_incidents(self) -> int:
        return self._c.execute("SELECT count(*) FROM incidents WHERE resolved_ms IS NULL").fetchone()[0]

    def notifications(self, limit: int) -> list[dict]:
        rows = self._c.execute("SELECT ts_ms, alert, subject, event, outcome, detail FROM notifications "
                               "ORDER BY ts_ms DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        return [dict(zip(("ts_ms", "alert", "subject", "event", "outcome", "detail"), row)) for row in rows]

    # -- silences and maintenance windows: `what` is "silences" or "maintenance" --------------

    def add_quieting(self, what: str, kind: str, key: str, starts_ms: int, until_ms: int, comment: str | None,
                     by: str | None) -> Quieting:
        (new_id,) = self._c.execute(f"INSERT INTO {QUIETING_TABLES[what]} (kind, key, starts_ms, until_ms, comment, by) "
                                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                    (kind, key, starts_ms, until_ms, comment, by)).fetchone()
        return Quieting(new_id, kind, key, starts_ms, until_ms, comment, by)

    def quietings(self, what: str, now_ms: int) -> list[Quieting]:
        """Those not yet over (current and future), soonest first."""
        rows = self._c.execute(f"SELECT {_QUIETING} FROM {QUIETING_TABLES[what]} WHERE until_ms > ? "
                               "ORDER BY starts_ms, id LIMIT ?", (now_ms, MAX_LISTED)).fetchall()
        return [Quieting(*row) for row in rows]

    def remove_quieting(self, what: str, quieting_id: int) -> bool:
        return self._c.execute(f"DELETE FROM {QUIETING_TABLES[what]} WHERE id = ?", (quieting_id,)).rowcount > 0

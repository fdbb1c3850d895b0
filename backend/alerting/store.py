"""Alert state that survives a restart: open incidents and what was sent for them, every
notification attempt, and silences. Synchronous methods, run on the database thread."""

from __future__ import annotations

from dataclasses import dataclass

from backend.storage.database import Database


@dataclass
class Incident:
    id: int
    alert: str
    kind: str
    key: str
    opened_ms: int
    reason: str | None
    last_sent_ms: int | None


class AlertStore:
    def __init__(self, db: Database) -> None:
        self._c = db.connection

    def open_incidents(self) -> dict[tuple[str, str, str], Incident]:
        rows = self._c.execute("SELECT id, alert, kind, key, opened_ms, reason, last_sent_ms FROM incidents "
                               "WHERE resolved_ms IS NULL").fetchall()
        return {(r[1], r[2], r[3]): Incident(*r) for r in rows}

    def open_incident(self, alert: str, kind: str, key: str, now_ms: int, reason: str | None) -> Incident:
        (incident_id,) = self._c.execute("INSERT INTO incidents (alert, kind, key, opened_ms, reason, last_sent_ms) "
                                         "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                         (alert, kind, key, now_ms, reason, now_ms)).fetchone()
        return Incident(incident_id, alert, kind, key, now_ms, reason, now_ms)

    def sent(self, incident_id: int, now_ms: int) -> None:
        self._c.execute("UPDATE incidents SET last_sent_ms = ? WHERE id = ?", (now_ms, incident_id))

    def resolve(self, incident_id: int, now_ms: int) -> None:
        self._c.execute("UPDATE incidents SET resolved_ms = ? WHERE id = ?", (now_ms, incident_id))

    def record(self, now_ms: int, alert: str, subject: str, event: str, outcome: str, detail: str | None) -> None:
        self._c.execute("INSERT INTO notifications (ts_ms, alert, subject, event, outcome, detail) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (now_ms, alert, subject, event, outcome, detail))

    def incidents(self, limit: int) -> list[dict]:
        rows = self._c.execute("SELECT alert, kind, key, opened_ms, reason, last_sent_ms, resolved_ms FROM incidents "
                               "ORDER BY opened_ms DESC, id DESC LIMIT ?", (limit,)).fetchall()
        names = ("alert", "kind", "id", "opened_ms", "reason", "last_sent_ms", "resolved_ms")
        return [dict(zip(names, row)) for row in rows]

    def notifications(self, limit: int) -> list[dict]:
        rows = self._c.execute("SELECT ts_ms, alert, subject, event, outcome, detail FROM notifications "
                               "ORDER BY ts_ms DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        return [dict(zip(("ts_ms", "alert", "subject", "event", "outcome", "detail"), row)) for row in rows]

    def silence(self, kind: str, key: str, until_ms: int, by: str | None) -> None:
        self._c.execute("INSERT INTO silences (kind, key, until_ms, by) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (kind, key) DO UPDATE SET until_ms = excluded.until_ms, by = excluded.by",
                        (kind, key, until_ms, by))

    def silences(self, now_ms: int) -> dict[tuple[str, str], int]:
        self._c.execute("DELETE FROM silences WHERE until_ms < ?", (now_ms,))
        return {(k, key): until for k, key, until in self._c.execute("SELECT kind, key, until_ms FROM silences")}

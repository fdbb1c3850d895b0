"""Push services' latest reports (Uptime Kuma's push monitors, Gatus's external
endpoints): what a service nothing can probe said of itself last, through `POST
/api/v1/push/{name}` or the platform's feed. Kept in the gateway's database, so on
PostgreSQL the poller judges a report any gateway received. Synchronous methods, for the
database thread (`Database.run`)."""

from __future__ import annotations

from typing import Any

from backend.storage.database import Database


class PushStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._c = db.connection

    def keep(self, name: str, report: dict[str, Any], received_ms: int, source: str) -> None:
        """The service's latest report (a later one replaces it)."""
        with self._db.transaction() as c:
            c.execute("INSERT INTO push_reports (name, status, response_time_ms, error, received_ms, source) "
                      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET status = excluded.status, "
                      "response_time_ms = excluded.response_time_ms, error = excluded.error, "
                      "received_ms = excluded.received_ms, source = excluded.source "
                      "WHERE excluded.received_ms >= push_reports.received_ms",
                      (name, report["status"], report.get("response_time_ms"), report.get("error"), received_ms,
                       source))

    def latest(self) -> dict[str, dict[str, Any]]:
        rows = self._c.execute("SELECT name, status, response_time_ms, error, received_ms, source "
                               "FROM push_reports").fetchall()
        return {name: {"status": status, "response_time_ms": took, "error": error, "received_ms": at,
                       "source": source} for name, status, took, error, at, source in rows}

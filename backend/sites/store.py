"""What each site reported, in the gateway's database: its latest report per group
(when, what problem its round showed, how many results its agent dropped) and its
latest vote on each target. On PostgreSQL every gateway shares it, so an agent may post
to any of them and the poller counts its votes. Synchronous methods, for the database
thread (`Database.run`)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.sites.quorum import Vote
from backend.storage.database import Database


@dataclass(frozen=True)
class SiteReport:
    site: str
    group: str
    reported_ms: int  # when the gateway received it
    round_ms: int  # when the site's round ran
    problem: str | None  # the site's own trouble in that round: its votes are set aside
    dropped: int  # results its agent dropped from a full buffer, in all
    agent: str | None  # the agent's software and address, as it said


class SiteStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._c = db.connection

    def report(self, report: SiteReport, votes: dict[str, Vote]) -> None:
        """Keep a site's round: the report, and each target's vote (newer than what is kept)."""
        with self._db.transaction() as c:
            c.execute("INSERT INTO site_reports (site, grp, reported_ms, round_ms, problem, dropped, agent) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, grp) DO UPDATE SET "
                      "reported_ms = excluded.reported_ms, problem = excluded.problem, "
                      "round_ms = CASE WHEN excluded.round_ms > site_reports.round_ms THEN excluded.round_ms "
                      "ELSE site_reports.round_ms END, "
                      "dropped = site_reports.dropped + excluded.dropped, agent = excluded.agent",
                      (report.site, report.group, report.reported_ms, report.round_ms, report.problem,
                       report.dropped, report.agent))
            for target, vote in votes.items():
                c.execute("INSERT INTO site_votes (site, grp, target, status, checked_ms, reason, response_time_ms) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, grp, target) DO UPDATE SET "
                          "status = excluded.status, checked_ms = excluded.checked_ms, reason = excluded.reason, "
                          "response_time_ms = excluded.response_time_ms "
                          "WHERE excluded.checked_ms >= site_votes.checked_ms",
                          (report.site, report.group, target, vote.status, vote.checked_ms, vote.reason,
                           vote.response_time_ms))

    def votes(self, group: str) -> dict[str, dict[str, Vote]]:
        """Every site's latest vote on each target of a group: {target: {site: vote}}."""
        found: dict[str, dict[str, Vote]] = {}
        for site, target, status, checked, reason, took in self._c.execute(
                "SELECT site, target, status, checked_ms, reason, response_time_ms FROM site_votes WHERE grp = ?",
                (group,)).fetchall():
            found.setdefault(target, {})[site] = Vote(status, checked, reason, took)
        return found

    def reports(self) -> list[SiteReport]:
        rows = self._c.execute("SELECT site, grp, reported_ms, round_ms, problem, dropped, agent FROM site_reports "
                               "ORDER BY site, grp").fetchall()
        return [SiteReport(*row) for row in rows]

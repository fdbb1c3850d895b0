"""The poller's book of sites: what every site saw last, read once a round from the
store, and the network's verdict on each target from it (quorum.py); which sites are
stale or set aside, and the changes of their state to announce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.config.schema import Config
from backend.sites import quorum
from backend.sites.quorum import Verdict, Vote
from backend.sites.store import SiteReport, SiteStore
from backend.storage.database import Database
from backend.timefmt import iso_from_ms


@dataclass(frozen=True)
class SiteState:
    """A site as pages, the API and alerts see it."""

    name: str
    gateway: bool  # the gateway's own site
    stale: bool
    problem: str | None  # why its votes are set aside (stale says so too)
    last_report_ms: int | None
    dropped: int
    groups: tuple[str, ...]  # the groups it reports on
    agent: str | None

    @property
    def state(self) -> str:
        return "stale" if self.stale else ("problem" if self.problem else "ok")

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "gateway": self.gateway, "state": self.state, "stale": self.stale,
                "problem": self.problem, "last_report": iso_from_ms(self.last_report_ms) if self.last_report_ms else None,
                "dropped": self.dropped, "groups": list(self.groups), "agent": self.agent}


def interval_s(config: Config, group: str) -> float:
    return getattr(config.polling, f"{group}_interval_s")


class SiteBook:
    def __init__(self, database: Database) -> None:
        self._db = database
        self.store = SiteStore(database)
        self._votes: dict[str, dict[str, dict[str, Vote]]] = {}  # by group: {target: {site: vote}}
        self._reports: list[SiteReport] = []
        self.own_problem: dict[str, str | None] = {}  # the gateway's site, by group
        self.announced: dict[str, str] = {}  # site -> the state last announced ("ok", "stale", "problem")

    async def load(self, group: str | None) -> None:
        """The latest reports (and a group's votes) in one trip to the database thread."""
        def read() -> tuple[list[SiteReport], dict[str, dict[str, Vote]] | None]:
            return self.store.reports(), (self.store.votes(group) if group else None)

        self._reports, votes = await self._db.run(read)
        if group is not None:
            self._votes[group] = votes or {}

    def agents_counted(self, config: Config, group: str, now_ms: int) -> set[str]:
        """The agents' sites whose votes on a group count now: reported recently, not set aside."""
        every = interval_s(config, group)
        return {r.site for r in self._reports if r.group == group and r.problem is None
                and not quorum.is_stale(r.reported_ms, now_ms, every)}

    def judge(self, config: Config, group: str, key: str, own: Vote, target_quorum: Any, now_ms: int,
              agents: set[str]) -> tuple[Verdict, dict[str, dict[str, Any]]]:
        """The verdict on one target after the gateway's own check, and each site's view
        of it (`counted`: whether its vote counted in this verdict). `agents`: the sites
        whose votes count this round (`agents_counted`, asked once a round)."""
        gateway = config.sites.gateway_site
        window_ms = int((interval_s(config, group) + config.polling.timeout_s) * 1000)
        stored = self._votes.get(group, {}).get(key, {})
        votes = {**stored, gateway: own}
        usable = quorum.counted(votes, now_ms, window_ms, set_aside={s for s in stored if s not in agents})
        if self.own_problem.get(group) and len(usable) > 1:
            usable.pop(gateway)  # the gateway's own reach failed this round: the others decide
        decided = quorum.verdict(gateway, usable, config.sites.quorum if target_quorum is None else target_quorum)
        view = {site: {"status": vote.status, "last_check": iso_from_ms(vote.checked_ms), "reason": vote.reason,
                       "response_time_ms": vote.response_time_ms, "counted": site in usable}
                for site, vote in sorted(votes.items())}
        return decided, view

    def states(self, config: Config, now_ms: int) -> list[SiteState]:
        """Every site: the gateway's own first, then each agent's, from their reports."""
        by_site: dict[str, list[SiteReport]] = {}
        for report in self._reports:
            by_site.setdefault(report.site, []).append(report)
        own = [p for p in self.own_problem.values() if p]
        found = [SiteState(config.sites.gateway_site, True, False, own[0] if own else None, now_ms, 0,
                           tuple(sorted(self.own_problem)), None)]
        for site, reports in sorted(by_site.items()):
            if site == config.sites.gateway_site:
                continue
            stale = all(quorum.is_stale(r.reported_ms, now_ms, interval_s(config, r.group)) for r in reports)
            problems = [f"{r.group}: {r.problem}" for r in reports if r.problem]
            last = max(r.reported_ms for r in reports)
            found.append(SiteState(site, False, stale, "; ".join(problems) or None, last,
                                   sum(r.dropped for r in reports), tuple(r.group for r in reports),
                                   max(reports, key=lambda r: r.reported_ms).agent))
        return found

    def changes(self, config: Config, now_ms: int) -> list[dict[str, Any]]:
        """`status:changed` events (kind `site`) for each site whose state moved since the
        last call: ok → stale or problem, and back."""
        events = []
        for site in self.states(config, now_ms):
            before = self.announced.get(site.name)
            if site.state == before:
                continue
            self.announced[site.name] = site.state
            if before is None and site.gateway and site.state == "ok":
                continue  # the gateway's own site, fine from the start: nothing to say
            # First sight on this poller (a start, a take-over): said even when fine, so an
            # incident left open by the previous poller is resolved.
            if site.stale:
                reason = (f"no report for {quorum.STALE_AFTER_INTERVALS} polling intervals, since "
                          f"{iso_from_ms(site.last_report_ms) if site.last_report_ms else 'never'}; its votes do not count")
            else:
                reason = site.problem and f"{site.problem}; its votes are set aside"
            events.append({"kind": "site", "id": site.name, "name": f"site {site.name}", "from": before or "unknown",
                           "to": site.state, "since": iso_from_ms(now_ms), "reason": reason})
        return events

    def forget_announced(self) -> None:
        """Just became the poller: announce from what the shared store says, not from
        what this instance heard (the engine keeps what was sent)."""
        self.announced = {}

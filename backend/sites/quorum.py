"""The quorum rules as plain functions: which sites' votes count, how many must see a
target down, what the network's verdict on a target is, and when a site's round says
more about the site than about the targets. No clock, no I/O: callers pass the time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from backend.alerting.rules import SUSPECT_MIN_TARGETS, suspect_round
from backend.kinds.status import is_down

STALE_AFTER_INTERVALS = 2  # a site silent this many polling intervals is stale; its votes do not count


@dataclass(frozen=True)
class Vote:
    """What one site saw of one target at its latest check."""

    status: str  # in the group's words: "online", "offline", "up", "down" ...
    checked_ms: int
    reason: str | None = None
    response_time_ms: float | None = None

    @property
    def down(self) -> bool:
        return is_down(self.status)


def needed(quorum: int | Literal["majority"], reporting: int) -> int:
    """How many of `reporting` sites must see a target down. With fewer sites reporting
    than the quorum asks, all of them must agree (one site alone decides alone, as a
    gateway without agents always has)."""
    if reporting <= 0:
        return 1
    wanted = reporting // 2 + 1 if quorum == "majority" else quorum
    return min(wanted, reporting)


def counted(votes: dict[str, Vote], now_ms: int, window_ms: int, set_aside: set[str]) -> dict[str, Vote]:
    """The votes that count: made within the window, from sites not set aside (stale, or
    whose round said more about the site than about the targets)."""
    return {site: vote for site, vote in votes.items()
            if site not in set_aside and now_ms - vote.checked_ms <= window_ms}


@dataclass(frozen=True)
class Verdict:
    down: bool
    status: str  # the status to show and to count: a site's own word for it
    reason: str | None
    voters: int  # sites whose votes counted
    seen_down: int
    needed: int

    @property
    def disagree(self) -> bool:
        return 0 < self.seen_down < self.voters


def verdict(own: str, votes: dict[str, Vote], quorum: int | Literal["majority"]) -> Verdict:
    """The network's view of one target from the counted votes, `own` being the
    gateway's site. The status is the gateway's own when it agrees with the verdict, else
    that of the first site (by name) that does, so pages show words the kind uses."""
    down_sites = sorted(site for site, vote in votes.items() if vote.down)
    need = needed(quorum, len(votes))
    is_down_now = bool(votes) and len(down_sites) >= need
    agreeing = [site for site in sorted(votes) if votes[site].down == is_down_now]
    speaker = own if own in agreeing else (agreeing[0] if agreeing else own)
    vote = votes.get(speaker)
    status = vote.status if vote else "unknown"
    reason = vote.reason if vote and is_down_now else None
    if is_down_now and len(votes) > 1:
        reason = f"down from {len(down_sites)} of {len(votes)} sites ({', '.join(down_sites)}): {reason or 'no reason'}"
    elif not is_down_now and down_sites:
        reason = f"down from {', '.join(down_sites)} only ({len(down_sites)} of {len(votes)} sites, {need} needed)"
    return Verdict(is_down_now, status, reason, len(votes), len(down_sites), need)


def site_problem(results: list[tuple[str, str | None]], references_ok: bool | None) -> str | None:
    """Why a site's round says more about the site than about the targets, else None:
    its reference targets did not answer, or every one of at least SUSPECT_MIN_TARGETS
    targets failed the same way (one reason for all) or in ways that implicate its own
    reach (DNS, routes, timeouts: the gateway's own rule, alerting/rules.py)."""
    if references_ok is False:
        return "its reference targets do not answer"
    reach = suspect_round(results)
    if reach is not None:
        return f"every target failed ({reach})"
    if len(results) >= SUSPECT_MIN_TARGETS and all(is_down(status) for status, _ in results):
        reasons = {reason for _, reason in results}
        if len(reasons) == 1:
            return f"every target failed the same way ({next(iter(reasons)) or 'no reason'})"
    return None


def is_stale(last_report_ms: int | None, now_ms: int, interval_s: float) -> bool:
    return last_report_ms is None or now_ms - last_report_ms > STALE_AFTER_INTERVALS * interval_s * 1000

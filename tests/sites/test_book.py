"""The poller's book of sites (backend/sites/book.py) on a real SQLite store, with the
time passed in: verdicts from the stored votes, and the changes of the sites' states."""

from __future__ import annotations

import pytest

from backend.config.schema import Config
from backend.sites.book import SiteBook
from backend.sites.quorum import Vote
from backend.sites.store import SiteReport
from backend.storage import open_database

CONFIG = Config.model_validate({"polling": {"websdrs_interval_s": 10, "timeout_s": 2}, "sites": {"quorum": 2}})
T0 = 1_780_000_000_000


@pytest.fixture
async def book(tmp_path):
    database = open_database(tmp_path / "db")
    yield SiteBook(database)
    await database.close()


async def report(book: SiteBook, site: str, at_ms: int, votes: dict[str, Vote], problem: str | None = None) -> None:
    await book._db.run(book.store.report, SiteReport(site, "websdrs", at_ms, at_ms, problem, 0, "test"), votes)
    await book.load("websdrs")


def judge(book: SiteBook, own: Vote, now_ms: int):
    """As the poller asks: the counted agents once, then the target's verdict."""
    agents = book.agents_counted(CONFIG, "websdrs", now_ms)
    return book.judge(CONFIG, "websdrs", "torino", own, None, now_ms, agents)


async def test_votes_count_while_recent_and_their_site_reports(book):
    await report(book, "a", T0, {"torino": Vote("offline", T0, "connection reset")})
    await report(book, "b", T0, {"torino": Vote("offline", T0, "connection reset")})
    verdict, view = judge(book, Vote("online", T0 + 1000), T0 + 1000)
    assert verdict.down and verdict.voters == 3 and view["a"]["counted"]
    # 12 s later (interval 10 s + timeout 2 s, and a bit): their votes are too old to count.
    verdict, view = judge(book, Vote("online", T0 + 12_001), T0 + 12_001)
    assert not verdict.down and verdict.voters == 1 and not view["a"]["counted"]
    # A site whose round was its own problem: set aside.
    await report(book, "b", T0 + 12_001, {"torino": Vote("offline", T0 + 12_001)}, problem="every target failed")
    verdict, _ = judge(book, Vote("online", T0 + 12_001), T0 + 12_001)
    assert verdict.voters == 1


async def test_a_site_is_announced_stale_after_two_intervals_and_back_once(book):
    await report(book, "a", T0, {"torino": Vote("online", T0)})
    first = book.changes(CONFIG, T0 + 1000)
    assert [(e["id"], e["from"], e["to"]) for e in first] == [("a", "unknown", "ok")]  # first sight on this poller
    assert book.changes(CONFIG, T0 + 20_000) == []  # two intervals exactly: not yet
    stale = book.changes(CONFIG, T0 + 20_001)
    assert [(e["id"], e["from"], e["to"]) for e in stale] == [("a", "ok", "stale")]
    assert "no report for 2 polling intervals" in stale[0]["reason"]
    assert book.changes(CONFIG, T0 + 30_000) == []  # said once
    await report(book, "a", T0 + 31_000, {"torino": Vote("online", T0 + 31_000)})
    assert [(e["from"], e["to"]) for e in book.changes(CONFIG, T0 + 31_000)] == [("stale", "ok")]
    book.forget_announced()  # another instance takes over: it says what it finds
    assert [(e["from"], e["to"]) for e in book.changes(CONFIG, T0 + 31_000)] == [("unknown", "ok")]


async def test_a_stale_sites_votes_are_left_out_even_while_young_enough_to_count(book):
    """With a timeout longer than the interval, a vote can still be within its window
    (interval + timeout) when its site is already stale (two intervals without a report):
    the stale site is left out of the quorum all the same."""
    slow = Config.model_validate({"polling": {"websdrs_interval_s": 10, "timeout_s": 15}, "sites": {"quorum": 2}})
    await report(book, "a", T0, {"torino": Vote("offline", T0, "connection reset")})
    await report(book, "b", T0, {"torino": Vote("offline", T0, "connection reset")})
    now = T0 + 21_000  # 21 s: within 10 + 15 s, beyond 2 x 10 s
    assert book.agents_counted(slow, "websdrs", now) == set()
    verdict, view = book.judge(slow, "websdrs", "torino", Vote("online", now), None, now,
                               book.agents_counted(slow, "websdrs", now))
    assert not verdict.down and verdict.voters == 1 and not view["a"]["counted"]
    assert book.agents_counted(slow, "websdrs", T0 + 19_000) == {"a", "b"}  # before: both count

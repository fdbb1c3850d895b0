"""The quorum rules (backend/sites/quorum.py) and the agent's buffer, as plain functions."""

from __future__ import annotations

from backend.sites.agent import RoundBuffer
from backend.sites.quorum import Vote, counted, is_stale, needed, site_problem, verdict

UP, DOWN = Vote("online", 1000), Vote("offline", 1000, "connection reset")


def test_needed_sites_by_quorum_and_by_how_many_reported():
    assert [needed(2, n) for n in (1, 2, 3, 5)] == [1, 2, 2, 2]  # fewer than K reporting: all must agree
    assert [needed("majority", n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert needed(1, 3) == 1


def test_one_site_of_three_is_not_enough_two_are():
    one = verdict("gateway", {"gateway": UP, "a": DOWN, "b": UP}, 2)
    assert not one.down and one.status == "online" and one.disagree
    assert one.reason == "down from a only (1 of 3 sites, 2 needed)"
    two = verdict("gateway", {"gateway": UP, "a": DOWN, "b": DOWN}, 2)
    assert two.down and two.status == "offline" and two.seen_down == 2
    assert two.reason == "down from 2 of 3 sites (a, b): connection reset"


def test_the_gateway_alone_decides_alone():
    alone = verdict("gateway", {"gateway": DOWN}, 2)
    assert alone.down and alone.reason == "connection reset" and not alone.disagree
    assert verdict("gateway", {"gateway": UP}, "majority").status == "online"


def test_a_targets_own_quorum_overrides():
    votes = {"gateway": UP, "a": DOWN, "b": UP}
    assert verdict("gateway", votes, 1).down
    assert not verdict("gateway", votes, "majority").down


def test_only_recent_votes_of_sites_not_set_aside_count():
    votes = {"gateway": Vote("online", 10_000), "a": Vote("offline", 4_000), "b": Vote("offline", 9_500)}
    assert set(counted(votes, 10_000, 2_000, set())) == {"gateway", "b"}
    assert set(counted(votes, 10_000, 10_000, {"b"})) == {"gateway", "a"}


def test_a_site_that_can_reach_nothing_is_the_sites_problem():
    refused = [("offline", "connection refused")] * 3
    assert site_problem(refused, None) == "every target failed the same way (connection refused)"
    assert site_problem([("offline", "timeout after 5 s"), ("offline", "DNS lookup failed"),
                         ("unreachable", "timeout after 5 s")], None).startswith("every target failed (")
    assert site_problem([("offline", "connection refused"), ("offline", "HTTP 503"), ("offline", "x")], None) is None
    assert site_problem([("offline", "connection refused")] * 2, None) is None  # too few to say
    assert site_problem([("online", None)] * 3, False) == "its reference targets do not answer"
    assert site_problem([("online", None)] * 3, True) is None


def test_stale_after_two_intervals():
    assert not is_stale(0, 20_000, 10)
    assert is_stale(0, 20_001, 10)
    assert is_stale(None, 0, 10)


def test_the_buffer_drops_the_oldest_and_counts_them():
    buffer = RoundBuffer(limit=3)
    for n in range(5):
        buffer.add({"n": n})
    assert [r["n"] for r in buffer.rounds] == [2, 3, 4]
    assert buffer.oldest() == {"n": 2, "dropped": 2}
    buffer.taken()
    assert buffer.oldest() == {"n": 3, "dropped": 0}  # the count goes with the first round through

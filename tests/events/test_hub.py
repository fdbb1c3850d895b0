"""The hub's rules: stamping, latest values, replay and its limits."""

from __future__ import annotations

import asyncio
import re

from backend.events.bus import LocalBus
from backend.events.hub import Hub, Since

INITIAL = {"services:health": {"a": {"status": "unknown"}}, "websdrs:status": {}}


async def test_publish_stamps_seq_epoch_and_utc_timestamp():
    hub = Hub(LocalBus(), INITIAL)
    first = await hub.publish("signals:detected", {"n": 1})
    second = await hub.publish("signals:detected", {"n": 2})
    assert (first.seq, second.seq) == (1, 2)
    assert first.epoch == second.epoch == hub.epoch
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first.timestamp)


async def test_state_topics_start_unknown_and_keep_the_latest():
    hub = Hub(LocalBus(), INITIAL)
    assert hub.latest("services:health").data == {"a": {"status": "unknown"}}
    assert hub.latest("services:health").seq == 0
    await hub.publish("services:health", {"a": {"status": "healthy"}})
    assert hub.latest("services:health").data["a"]["status"] == "healthy"


async def test_subscribers_get_every_event_and_a_failing_one_harms_no_other():
    hub = Hub(LocalBus(), INITIAL)
    got = []
    hub.subscribe(lambda env: 1 / 0)
    stop = hub.subscribe(got.append)
    await hub.publish("signals:detected", {})
    stop()
    await hub.publish("signals:detected", {})
    assert [e.seq for e in got] == [1]


async def test_replay_filters_topics_and_reports_recovery():
    hub = Hub(LocalBus(), INITIAL, replay_size=5)
    for i in range(4):
        await hub.publish("signals:detected" if i % 2 else "localizations:updated", {"i": i})
    replay = hub.replay(frozenset({"signals:detected"}), Since(hub.epoch, 1))
    assert replay.recovered and [e.data["i"] for e in replay.events] == [1, 3]
    assert hub.replay(frozenset({"*"}), Since(hub.epoch, 4)).events == []


async def test_replay_is_not_recovered_for_another_epoch_an_evicted_seq_or_a_future_seq():
    hub = Hub(LocalBus(), INITIAL, replay_size=3)
    for i in range(5):
        await hub.publish("signals:detected", {"i": i})
    topics = frozenset({"*"})
    assert hub.replay(topics, Since(hub.epoch, 2)).recovered  # 3, 4, 5 are all still there
    assert not hub.replay(topics, Since(hub.epoch, 1)).recovered  # 2 has left the buffer
    assert not hub.replay(topics, Since("another", 4)).recovered
    assert not hub.replay(topics, Since(hub.epoch, 99)).recovered
    fallback = hub.replay(topics, Since("another", 4))
    assert {e.event for e in fallback.events} == {"services:health", "websdrs:status"}


async def test_replay_pages_with_a_limit():
    hub = Hub(LocalBus(), INITIAL)
    for i in range(5):
        await hub.publish("signals:detected", {"i": i})
    page = hub.replay(frozenset({"*"}), Since(hub.epoch, 0), limit=2)
    assert page.more and [e.seq for e in page.events] == [1, 2]


def test_non_finite_numbers_leave_as_null_on_the_wire_and_in_the_data():
    from backend.events.envelope import Envelope, encode

    env = Envelope.make("websdrs:status", {"a": {"asl": float("inf"), "gps": [float("nan"), 7.0]}}, "t", 1, "e")
    assert '"asl":null' in env.wire and "NaN" not in env.wire and "Infinity" not in env.wire
    assert env.data == {"a": {"asl": None, "gps": [None, 7.0]}}  # pages and REST read the same
    assert encode({"x": float("-inf")}) == '{"x":null}'
    assert encode({"x": 1.5}) == '{"x":1.5}'


def test_a_replay_page_is_bounded_in_bytes_and_says_more():
    from backend.events.bus import LocalBus
    from backend.events.hub import Hub, Since

    hub = Hub(LocalBus("e"), {}, replay_size=100)

    async def fill():
        for i in range(10):
            await hub.publish("signals:detected", {"id": str(i), "pad": "x" * 1000})

    asyncio.run(fill())
    page = hub.replay(frozenset({"*"}), Since("e", 0), max_bytes=3500)
    assert page.recovered and page.more and len(page.events) == 3
    whole = hub.replay(frozenset({"*"}), Since("e", 0), max_bytes=1_000_000)
    assert not whole.more and len(whole.events) == 10


async def test_the_replay_window_is_bounded_in_bytes_as_well_as_in_events():
    """Issue 33: an idle gateway with 200 receivers grew 24 MiB a minute, each round's
    176 KiB snapshot kept 10,000 times. The window now holds at most `replay_bytes`; a
    resume from before it is told (recovered: false) and gets the latest values."""
    from backend.events.bus import LocalBus
    from backend.events.hub import Hub, Since

    hub = Hub(LocalBus(), {}, replay_size=10_000, replay_bytes=100_000)
    await hub.join()
    big = {f"rx-{i:04d}": {"status": "online", "padding": "x" * 40} for i in range(200)}  # ~14 KB a round
    first = await hub.publish("websdrs:status", big)
    for _ in range(50):
        await hub.publish("websdrs:status", big)
    kept = hub._buffer_bytes
    assert kept <= 100_000 and len(hub._buffer) < 10
    assert hub.latest("websdrs:status").seq == first.seq + 50  # the latest value stays, whatever left
    gone = hub.replay(frozenset({"websdrs:status"}), Since(hub.epoch, first.seq))
    assert gone.recovered is False and [e.seq for e in gone.events] == [first.seq + 50]
    recent = hub.replay(frozenset({"websdrs:status"}), Since(hub.epoch, first.seq + 48))
    assert recent.recovered is True and [e.seq for e in recent.events] == [first.seq + 49, first.seq + 50]

"""The outbox (backend/ingest/outbox.py) on a real SQLite store and a hub: each stored record is
published once, its row is gone after, and rows that waited for the bus go out in order."""

from __future__ import annotations

import asyncio

from backend.events.bus import BusUnavailable, LocalBus
from backend.events.hub import Hub
from backend.ingest.outbox import Outbox
from backend.storage import SQLRecordStore, open_database


class SwitchableBus(LocalBus):
    """An in-process bus that can be made unreachable, as Redis can be, or frozen (a
    Redis stopped by SIGSTOP: the publish neither fails nor returns)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.thawed = asyncio.Event()
        self.thawed.set()

    async def publish(self, event, data, fence=None, once=None):
        if self.down:
            raise BusUnavailable("Redis is unreachable (test)")
        await self.thawed.wait()
        return await super().publish(event, data, fence, once)


def detection(i: int) -> dict:
    return {"id": f"d{i}", "frequency_mhz": 145.5, "snr_db": 9.0, "websdr_id": "torino",
            "timestamp": f"2026-11-25T12:00:{i:02d}Z"}


async def parts(tmp_path):
    database = open_database(tmp_path / "db")
    records = SQLRecordStore(database)
    bus = SwitchableBus()
    hub = Hub(bus, {})
    seen: list[str] = []
    hub.subscribe(lambda env: seen.append(env.data["id"]) if env.event == "signals:detected" else None)
    return database, records, bus, Outbox(records, hub), seen


async def test_a_published_record_leaves_no_row_and_is_never_published_again(tmp_path):
    database, records, _, outbox, seen = await parts(tmp_path)
    stored, new = await records.add("detections", detection(1))
    assert new
    await outbox.publish("detections", stored)
    assert seen == ["d1"]
    assert await records.unpublished(10) == []  # the row is deleted once the bus has it
    assert await outbox.drain()  # a later sweep, or the next start, finds nothing to send
    assert seen == ["d1"]
    await database.close()


async def test_rows_wait_while_the_bus_is_down_and_go_out_once_in_order(tmp_path):
    database, records, bus, outbox, seen = await parts(tmp_path)
    bus.down = True
    for i in range(3):
        stored, _ = await records.add("detections", detection(i))
        await outbox.publish("detections", stored)
    assert seen == [] and outbox.waiting and len(await records.unpublished(10)) == 3
    assert not await outbox.drain()  # still down
    bus.down = False
    stored, _ = await records.add("detections", detection(3))
    await outbox.publish("detections", stored)  # behind the ones that waited: left to the sweep
    assert seen == []
    assert await outbox.drain()  # the sweep (Outbox.run, every RETRY_S while rows wait)
    assert seen == ["d0", "d1", "d2", "d3"]
    assert not outbox.waiting and await records.unpublished(10) == []
    assert await outbox.drain() and seen == ["d0", "d1", "d2", "d3"]
    await database.close()


async def test_two_gateways_sharing_an_outbox_publish_each_row_once(tmp_path):
    """Both sweep the same rows at once (a gateway that died left them): the shared log on a
    real Redis takes each record once, by its kind and id; a detection and a localization
    with the same id are two records."""
    from backend.events.redis_bus import RedisBus
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path / "redis").start()
    database = open_database(tmp_path / "db")
    records = SQLRecordStore(database)
    buses = [RedisBus(server.url, 1000), RedisBus(server.url, 1000)]
    hubs = [Hub(bus, {}) for bus in buses]
    seen: list[tuple[str, str]] = []
    marker = asyncio.Event()

    def heard(env) -> None:
        if env.event in ("signals:detected", "localizations:updated"):
            seen.append((env.event, env.data["id"]))
            if env.data["id"] == "marker":
                marker.set()
    hubs[0].subscribe(heard)
    try:
        for bus in buses:
            await bus.start()
        for i in range(5):
            await records.add("detections", detection(i))
        await records.add("localizations", {"id": "d0", "latitude": 45.0, "longitude": 7.6,
                                            "timestamp": "2026-11-25T12:00:00Z"})
        outboxes = [Outbox(records, hub) for hub in hubs]
        assert all(await asyncio.gather(*(outbox.drain() for outbox in outboxes)))
        stored, _ = await records.add("detections", {**detection(9), "id": "marker"})
        await outboxes[0].publish("detections", stored)
        await asyncio.wait_for(marker.wait(), 10)  # the log is ordered: all before it are delivered
        assert sorted(seen) == sorted([("signals:detected", f"d{i}") for i in range(5)]
                                      + [("localizations:updated", "d0"), ("signals:detected", "marker")])
    finally:
        for bus in buses:
            await bus.stop()
        await database.close()
        server.stop()


async def test_a_frozen_event_log_does_not_hold_a_post(tmp_path, monkeypatch):
    """Issue 33: with Redis frozen, a POST waited for its 5 s socket timeout and then the
    outbox's retry (up to 14 s). It is answered after PUBLISH_WAIT_S now, its row waiting;
    when the log thaws, the sweep publishes it, once."""
    from backend.ingest import outbox as outbox_module

    monkeypatch.setattr(outbox_module, "PUBLISH_WAIT_S", 0.05)
    database, records, bus, outbox, seen = await parts(tmp_path)
    bus.thawed.clear()
    stored, _ = await records.add("detections", detection(1))
    await asyncio.wait_for(outbox.publish("detections", stored), 1)  # answered, not held
    assert outbox.waiting and seen == [] and len(await records.unpublished(10)) == 1
    stored, _ = await records.add("detections", detection(2))
    await asyncio.wait_for(outbox.publish("detections", stored), 0.01)  # behind it, at once
    bus.thawed.set()
    assert await outbox.drain()
    assert seen == ["d1", "d2"] and await records.unpublished(10) == []
    await database.close()

"""The database's queue of notifications (backend/alerting/kept.py) on a real store, on
SQLite and PostgreSQL: holds, lapses, claims that never take a row twice, a group's
members replaced by the whole in one step."""

from __future__ import annotations

import asyncio

from backend.alerting import kept as kept_module
from backend.alerting.delivery import Notification
from backend.alerting.grouping import Grouper
from backend.alerting.kept import KeptQueue
from backend.storage import open_database


class Clock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def down(name: str) -> Notification:
    return Notification("on-call", f"services:{name}", "DOWN", f"DOWN: service {name} is unhealthy",
                        f"The service {name} answers 503.", ("json://127.0.0.1:9/x",))


async def test_a_lapsed_hold_is_claimed_once_and_a_living_one_never(database_location):
    clock = Clock()
    one, two = open_database(database_location), open_database(database_location)
    # As on PostgreSQL (on SQLite too, here): rows are claimed by lapsed holds only.
    alive, other, third = (KeptQueue(db, name, clock, sole_gateway=False)
                           for db, name in ((one, "alive"), (two, "other"), (two, "third")))
    row = await alive.keep(down("inference"))
    assert await other.claim() == []  # held
    clock.now += kept_module.HOLD_S - 1
    await alive.renew()
    clock.now += kept_module.HOLD_S - 1
    assert await other.claim() == []  # renewed in time: still the living gateway's
    clock.now += kept_module.HOLD_S + 1  # no renewal: its gateway is gone
    taken = await asyncio.gather(other.claim(), third.claim())
    assert sorted(len(t) for t in taken) == [0, 1]  # one claimer, never both
    (claimed_row, notification, queued_ms), = [t for t in taken if t][0]
    assert claimed_row == row and notification.title == "DOWN: service inference is unhealthy"
    assert notification.urls == () and queued_ms == 1_780_000_000_000  # no URL is kept
    await other.forget(row)
    assert await other.count() == 0
    one.close_now()
    two.close_now()


async def test_a_planned_stop_hands_over_at_once_and_a_sqlite_start_takes_everything(tmp_path):
    clock = Clock()
    database = open_database(tmp_path / "heimdall.db")
    stopping = KeptQueue(database, "stopping", clock)
    await stopping.keep(down("inference"))
    await stopping.give_up_holds()
    successor = KeptQueue(database, "next", clock, sole_gateway=False)
    (row, _, _), = await successor.claim()  # handed over: no wait for a lapse
    await successor.forget(row)  # sent
    killed = KeptQueue(database, "killed", clock)
    await killed.keep(down("training"))  # held for HOLD_S, and its gateway killed
    restarted = KeptQueue(database, "restarted", clock)  # SQLite: one gateway to a file
    assert [n.subject for _, n, _ in await restarted.claim()] == ["services:training"]
    assert await restarted.claim() == []
    database.close_now()


async def test_a_groups_members_are_kept_while_it_waits_then_replaced_by_the_whole(tmp_path):
    database = open_database(tmp_path / "heimdall.db")
    queue = KeptQueue(database, "poller", Clock())
    handed: list[tuple[Notification, object]] = []
    members_kept = asyncio.Event()

    async def keep(notification: Notification, replaces: tuple = ()) -> int | None:
        row = await queue.keep(notification, replaces)
        if await queue.count() == 3:
            members_kept.set()
        return row

    grouper = Grouper(lambda n, row: handed.append((n, row)), keep)
    for name in ("inference", "training", "ingestion"):
        grouper.add(down(name), f"service {name}", "127.0.0.1:9", "host", wait_s=3600)
    await asyncio.wait_for(members_kept.wait(), 10)
    assert handed == []  # waiting for the group, and kept
    grouper.flush()
    (whole, row), = handed
    assert whole.title.startswith("DOWN: 3 on 127.0.0.1:9") and isinstance(await row, int)
    rows = database.connection.execute("SELECT id, subject FROM notification_queue").fetchall()
    assert rows == [(await row, whole.subject)]  # the members' rows gone with the whole's made
    database.close_now()

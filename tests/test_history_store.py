"""The history store on a real SQLite file: roll-ups, uptime, changes, pruning, restart."""

from __future__ import annotations

import sqlite3

import pytest

from backend.storage import CheckRecord, Database, SQLiteHistoryStore, StateChange
from backend.storage.database import MIGRATIONS

HOUR_MS = 3_600_000
BASE_MS = 1_790_000_000_000 // HOUR_MS * HOUR_MS  # an hour boundary


def check(key: str, ts_ms: int, up: bool, response: float | None = 10.0) -> CheckRecord:
    return CheckRecord("websdrs", key, ts_ms, "online" if up else "offline", up, response if up else None,
                       None if up else "timeout after 5 s")


@pytest.fixture
async def store(tmp_path):
    db = Database(tmp_path / "h.db")
    yield SQLiteHistoryStore(db)
    await db.close()


async def test_rollups_count_checks_up_and_response_times(store):
    await store.record_round([check("torino", BASE_MS + 1_000, True, 10.0), check("genova", BASE_MS + 1_000, False)], [])
    await store.record_round([check("torino", BASE_MS + 31_000, True, 30.0), check("genova", BASE_MS + 31_000, True, 50.0)], [])
    await store.record_round([check("torino", BASE_MS + 61_000, False)], [])
    minutes = await store.buckets("websdrs", "torino", "minute", BASE_MS, BASE_MS + HOUR_MS)
    assert minutes == [
        {"start_ms": BASE_MS, "checks": 2, "up": 2, "uptime_pct": 100.0, "avg_response_ms": 20.0, "max_response_ms": 30.0},
        {"start_ms": BASE_MS + 60_000, "checks": 1, "up": 0, "uptime_pct": 0.0, "avg_response_ms": None,
         "max_response_ms": None},
    ]
    hours = await store.buckets("websdrs", "torino", "hour", BASE_MS, BASE_MS + HOUR_MS)
    assert hours == [{"start_ms": BASE_MS, "checks": 3, "up": 2, "uptime_pct": 66.7, "avg_response_ms": 20.0,
                      "max_response_ms": 30.0}]
    assert await store.uptime("websdrs", BASE_MS) == {"torino": 66.7, "genova": 50.0}
    assert await store.uptime("services", BASE_MS) == {}
    assert await store.buckets("websdrs", "nowhere", "hour", BASE_MS, BASE_MS + HOUR_MS) == []


async def test_state_changes_newest_first_and_filtered(store):
    await store.record_round([], [StateChange("websdrs", "torino", BASE_MS, "online", "offline", "timeout after 5 s"),
                                  StateChange("services", "inference", BASE_MS + 5, "healthy", "unreachable", "connection refused")])
    await store.record_round([], [StateChange("websdrs", "torino", BASE_MS + 10, "offline", "online", None)])
    everything = await store.changes(None, None, 10)
    assert [(c["id"], c["to"]) for c in everything] == [("torino", "online"), ("inference", "unreachable"), ("torino", "offline")]
    torino = await store.changes("websdrs", "torino", 1)
    assert torino == [{"kind": "websdrs", "id": "torino", "ts_ms": BASE_MS + 10, "from": "offline", "to": "online",
                       "reason": None}]


async def test_last_entries_survive_a_reopen(tmp_path):
    db = Database(tmp_path / "h.db")
    store = SQLiteHistoryStore(db)
    await store.save_last({("websdrs", "torino"): {"websdr_id": "torino", "status": "offline"}})
    await db.close()
    reopened = SQLiteHistoryStore(Database(tmp_path / "h.db"))
    assert reopened.last_entries() == {("websdrs", "torino"): {"websdr_id": "torino", "status": "offline"}}


async def test_prune_removes_only_what_is_past_retention(store):
    day_ms = 24 * HOUR_MS
    await store.record_round([check("torino", BASE_MS - 40 * day_ms, True), check("torino", BASE_MS - 2 * day_ms, True),
                              check("torino", BASE_MS - 1000, True)],
                             [StateChange("websdrs", "torino", BASE_MS - 400 * day_ms, "online", "offline", None)])
    retention = {"checks": 6 * 3600, "minute": 25 * 3600, "hour": 31 * 86400, "day": 366 * 86400, "changes": 366 * 86400}
    removed = await store.prune(BASE_MS, retention)
    assert removed == {"checks": 2, "minute": 2, "hour": 1, "day": 0, "changes": 1}
    assert await store.prune(BASE_MS, retention) == {"checks": 0, "minute": 0, "hour": 0, "day": 0, "changes": 0}


def test_a_database_from_before_monitoring_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        connection.execute(statement)
    connection.execute("INSERT INTO detections VALUES ('d1', '2026-01-01T00:00:00.000Z', '{\"id\": \"d1\"}')")
    connection.commit()
    connection.close()
    db = Database(path)
    assert db.connection.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    assert db.connection.execute("SELECT count(*) FROM detections").fetchone() == (1,)
    assert db.connection.execute("SELECT count(*) FROM rollup_hour").fetchone() == (0,)


async def test_records_older_than_the_retention_are_pruned(tmp_path):
    from backend.storage import Database, SQLiteRecordStore

    database = Database(tmp_path / "db")
    records = SQLiteRecordStore(database)
    await records.add("detections", {"id": "old", "timestamp": "2026-01-01T00:00:00.000Z"})
    await records.add("detections", {"id": "new", "timestamp": "2026-11-25T00:00:00.000Z"})
    await records.add("localizations", {"id": "old-loc", "timestamp": "2025-12-31T00:00:00.000Z"})
    removed = await records.prune("2026-06-01T00:00:00.000Z")
    assert removed == {"detections": 1, "localizations": 1}
    assert [r["id"] for r in await records.latest("detections", 10)] == ["new"]
    await database.close()

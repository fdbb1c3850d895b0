"""The stores on both engines, each real: a SQLite file and a PostgreSQL server
(tests/postgres_server.py). Roll-ups, uptime, changes, pruning, restart; records;
migrations of old SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from backend.alerting.store import AlertStore
from backend.auth.passwords import verify_password
from backend.auth.secrets_files import SharedSecrets
from backend.auth.store import Account, AuthStore
from backend.storage import CheckRecord, SQLHistoryStore, SQLRecordStore, StateChange, open_database
from backend.storage.database import DatabaseUnavailable
from backend.storage.legacy_schema import STEPS
from backend.storage.schema import HEAD, current_revision, newest_revision

HOUR_MS = 3_600_000
BASE_MS = 1_790_000_000_000 // HOUR_MS * HOUR_MS  # an hour boundary


def check(key: str, ts_ms: int, up: bool, response: float | None = 10.0) -> CheckRecord:
    return CheckRecord("websdrs", key, ts_ms, "online" if up else "offline", up, response if up else None,
                       None if up else "timeout after 5 s")


@pytest.fixture
async def store(database_location):
    db = open_database(database_location)
    yield SQLHistoryStore(db)
    await db.close()


NO_QUALITY = {"users_max": None, "adc_overloads": None, "avg_gps_fixes_min": None}


async def test_rollups_count_checks_up_and_response_times(store):
    await store.record_round([check("torino", BASE_MS + 1_000, True, 10.0), check("genova", BASE_MS + 1_000, False)], [])
    await store.record_round([check("torino", BASE_MS + 31_000, True, 30.0), check("genova", BASE_MS + 31_000, True, 50.0)], [])
    await store.record_round([check("torino", BASE_MS + 61_000, False)], [])
    minutes = await store.buckets("websdrs", "torino", "minute", BASE_MS, BASE_MS + HOUR_MS)
    assert minutes == [
        {"start_ms": BASE_MS, "checks": 2, "up": 2, "uptime_pct": 100.0, "avg_response_ms": 20.0, "max_response_ms": 30.0,
         "max_users": None, "avg_snr_db": None, **NO_QUALITY},
        {"start_ms": BASE_MS + 60_000, "checks": 1, "up": 0, "uptime_pct": 0.0, "avg_response_ms": None,
         "max_response_ms": None, "max_users": None, "avg_snr_db": None, **NO_QUALITY},
    ]
    hours = await store.buckets("websdrs", "torino", "hour", BASE_MS, BASE_MS + HOUR_MS)
    assert hours == [{"start_ms": BASE_MS, "checks": 3, "up": 2, "uptime_pct": 66.7, "avg_response_ms": 20.0,
                      "max_response_ms": 30.0, "max_users": None, "avg_snr_db": None, **NO_QUALITY}]
    assert await store.uptime("websdrs", BASE_MS) == {"torino": 66.7, "genova": 50.0}
    assert await store.uptime("services", BASE_MS) == {}
    assert await store.buckets("websdrs", "nowhere", "hour", BASE_MS, BASE_MS + HOUR_MS) == []


async def test_rollups_keep_the_most_users_and_the_mean_snr(store):
    """What a receiver reports is kept over time, for its page's charts."""
    from dataclasses import replace

    await store.record_round([replace(check("kiwi", BASE_MS + 1_000, True), users=2, snr_db=20.0)], [])
    await store.record_round([replace(check("kiwi", BASE_MS + 31_000, True), users=5, snr_db=24.0)], [])
    await store.record_round([replace(check("kiwi", BASE_MS + 61_000, True), users=1)], [])  # no SNR this time
    minutes = await store.buckets("websdrs", "kiwi", "minute", BASE_MS, BASE_MS + HOUR_MS)
    assert [(b["max_users"], b["avg_snr_db"]) for b in minutes] == [(5, 22.0), (1, None)]
    hours = await store.buckets("websdrs", "kiwi", "hour", BASE_MS, BASE_MS + HOUR_MS)
    assert [(b["max_users"], b["avg_snr_db"]) for b in hours] == [(5, 22.0)]


async def test_rollups_keep_adc_overloads_gps_fixes_and_the_users_maximum(store):
    from dataclasses import replace

    await store.record_round([replace(check("kiwi", BASE_MS + 1_000, True), users_max=8, adc_overloads=3,
                                      gps_fixes_min=40)], [])
    await store.record_round([replace(check("kiwi", BASE_MS + 31_000, True), users_max=8, adc_overloads=2,
                                      gps_fixes_min=20)], [])
    await store.record_round([replace(check("kiwi", BASE_MS + 61_000, True), users_max=4, adc_overloads=0,
                                      gps_fixes_min=0)], [])
    minutes = await store.buckets("websdrs", "kiwi", "minute", BASE_MS, BASE_MS + HOUR_MS)
    assert [(b["users_max"], b["adc_overloads"], b["avg_gps_fixes_min"]) for b in minutes] == [(8, 5, 30.0),
                                                                                              (4, 0, 0.0)]
    hours = await store.buckets("websdrs", "kiwi", "hour", BASE_MS, BASE_MS + HOUR_MS)
    assert [(b["users_max"], b["adc_overloads"], b["avg_gps_fixes_min"]) for b in hours] == [(8, 5, 20.0)]


async def test_a_receivers_own_snr_measurements_are_kept_once_each(store):
    from backend.storage.history import SnrMeasurement

    week = [SnrMeasurement(BASE_MS - i * HOUR_MS, 20 + i, 15 + i, -110, [{"lo": 0, "hi": 30000, "snr": 20 + i}])
            for i in range(3)]
    assert await store.record_snr("websdrs", "kiwi", week) == 3
    assert await store.record_snr("websdrs", "kiwi", week[:1]) == 0  # fetched again: nothing doubled
    kept = await store.snr_history("websdrs", "kiwi", BASE_MS - 10 * HOUR_MS, BASE_MS + 1)
    assert [m["snr_all_db"] for m in kept] == [22, 21, 20]  # oldest first
    assert kept[0]["bands"] == [{"lo": 0, "hi": 30000, "snr": 22}]
    removed = await store.prune(BASE_MS, {"checks": 1, "minute": 1, "hour": 1.5 * 3600, "day": 1, "changes": 1})
    assert removed["snr"] == 1 and len(await store.snr_history("websdrs", "kiwi", 0, BASE_MS + 1)) == 2


async def test_state_changes_newest_first_and_filtered(store):
    await store.record_round([], [StateChange("websdrs", "torino", BASE_MS, "online", "offline", "timeout after 5 s"),
                                  StateChange("services", "inference", BASE_MS + 5, "healthy", "unreachable", "connection refused")])
    await store.record_round([], [StateChange("websdrs", "torino", BASE_MS + 10, "offline", "online", None)])
    everything = await store.changes(None, None, 10)
    assert [(c["id"], c["to"]) for c in everything] == [("torino", "online"), ("inference", "unreachable"), ("torino", "offline")]
    torino = await store.changes("websdrs", "torino", 1)
    assert torino == [{"kind": "websdrs", "id": "torino", "ts_ms": BASE_MS + 10, "from": "offline", "to": "online",
                       "reason": None}]


async def test_last_entries_survive_a_reopen(database_location):
    db = open_database(database_location)
    store = SQLHistoryStore(db)
    await store.save_last({("websdrs", "torino"): {"websdr_id": "torino", "status": "offline"}})
    await store.save_last({("websdrs", "torino"): {"websdr_id": "torino", "status": "online"}})
    await db.close()
    reopened_db = open_database(database_location)
    reopened = SQLHistoryStore(reopened_db)
    assert reopened.last_entries() == {("websdrs", "torino"): {"websdr_id": "torino", "status": "online"}}
    await reopened_db.close()


async def test_prune_removes_only_what_is_past_retention(store):
    day_ms = 24 * HOUR_MS
    await store.record_round([check("torino", BASE_MS - 40 * day_ms, True), check("torino", BASE_MS - 2 * day_ms, True),
                              check("torino", BASE_MS - 1000, True)],
                             [StateChange("websdrs", "torino", BASE_MS - 400 * day_ms, "online", "offline", None)])
    retention = {"checks": 6 * 3600, "minute": 25 * 3600, "hour": 31 * 86400, "day": 366 * 86400, "changes": 366 * 86400}
    removed = await store.prune(BASE_MS, retention)
    assert removed == {"checks": 2, "minute": 2, "hour": 1, "day": 0, "changes": 1, "snr": 0}
    assert await store.prune(BASE_MS, retention) == {"checks": 0, "minute": 0, "hour": 0, "day": 0, "changes": 0, "snr": 0}


def test_a_database_from_before_monitoring_is_migrated(tmp_path):
    """A file of schema version 1 (PRAGMA user_version, before Alembic): the frozen steps
    bring it to 5, it is marked as the baseline revision, then upgraded to the newest."""
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    for statement in STEPS[0]:
        connection.execute(statement)
    connection.execute("PRAGMA user_version = 1")
    connection.execute("INSERT INTO detections VALUES ('d1', '2026-01-01T00:00:00.000Z', '{\"id\": \"d1\"}')")
    connection.commit()
    connection.close()
    db = open_database(path)
    assert db.connection.execute("PRAGMA user_version").fetchone() == (len(STEPS),)
    assert current_revision(db.connection) == newest_revision()
    assert db.connection.execute("SELECT count(*) FROM detections").fetchone() == (1,)
    assert db.connection.execute("SELECT count(*) FROM rollup_hour").fetchone() == (0,)
    assert db.connection.execute("SELECT count(*) FROM shared_secrets").fetchone() == (0,)
    db.close_now()


async def test_a_new_database_is_at_the_newest_revision_and_a_reopen_changes_nothing(database_location):
    assert HEAD == newest_revision()  # the start-up shortcut knows the newest revision
    db = open_database(database_location)
    assert current_revision(db.connection) == newest_revision()
    await db.close()
    db = open_database(database_location)  # migrating again is a no-op
    assert current_revision(db.connection) == newest_revision()
    await db.close()


async def test_records_are_kept_once_by_id_in_insertion_order_and_pruned(database_location):
    database = open_database(database_location)
    records = SQLRecordStore(database)
    first, created = await records.add("detections", {"id": "a", "timestamp": "2026-11-25T00:00:00.000Z", "snr_db": 1})
    assert created
    again, created = await records.add("detections", {"id": "a", "timestamp": "2026-11-25T00:00:00.000Z", "snr_db": 2})
    assert not created and again == first  # the first one, unchanged
    await records.add("detections", {"id": "b", "timestamp": "2026-11-25T00:00:00.000Z"})  # same instant: newer first
    await records.add("detections", {"id": "old", "timestamp": "2026-01-01T00:00:00.000Z"})
    await records.add("localizations", {"id": "old-loc", "timestamp": "2025-12-31T00:00:00.000Z"})
    assert [r["id"] for r in await records.latest("detections", 10)] == ["b", "a", "old"]
    assert await records.count("detections") == 3
    assert await records.count("detections", since="2026-06-01T00:00:00.000Z") == 2
    # Each new record waits in the outbox until published, oldest first.
    assert [(kind, r["id"]) for kind, r in await records.unpublished(10)] == [
        ("detections", "a"), ("detections", "b"), ("detections", "old"), ("localizations", "old-loc")]
    await records.mark_published("detections", "a")
    removed = await records.prune("2026-06-01T00:00:00.000Z")
    assert removed == {"detections": 1, "localizations": 1}
    assert [r["id"] for r in await records.latest("detections", 10)] == ["b", "a"]
    assert [r["id"] for _, r in await records.unpublished(10)] == ["b"]  # pruned ones are gone from the outbox too
    await database.close()


async def test_the_same_id_added_through_two_connections_at_once_is_created_once(database_location):
    """Two gateways on one database: one insert wins, the other reads its row."""
    one, two = open_database(database_location), open_database(database_location)
    a, b = SQLRecordStore(one), SQLRecordStore(two)
    for n in range(20):
        record = {"id": f"r{n}", "timestamp": "2026-11-25T00:00:00.000Z"}
        results = await asyncio.gather(a.add("detections", {**record, "by": "a"}),
                                       b.add("detections", {**record, "by": "b"}))
        assert sorted(created for _, created in results) == [False, True]
        assert results[0][0] == results[1][0]  # both answer with the stored one
    assert await a.count("detections") == 20
    assert len(await a.unpublished(100)) == 20
    await one.close()
    await two.close()


async def test_accounts_tokens_and_sessions_are_shared_by_connections(database_location):
    one, two = open_database(database_location), open_database(database_location)
    here, there = AuthStore(one), AuthStore(two)
    here.add_account("ops", "admin", "correct horse battery staple")
    found, password_hash = there.password_hash_of("ops")
    assert found == Account("ops", "admin") and verify_password(password_hash, "correct horse battery staple")
    session = here.open_session("ops")
    assert there.session(session) == Account("ops", "admin")
    token = there.create_token("acquisition", frozenset({"ingest"}))
    assert here.token(token).scopes == frozenset({"ingest"})
    here.audit("login", actor="ops")
    here.audit("logout", actor="ops")
    assert [row["action"] for row in there.audit_log()] == ["logout", "login"]
    here.set_password("ops", "another long passphrase")
    assert there.session(session) is None  # signed out everywhere
    one.close_now()
    two.close_now()


def test_shared_secrets_are_generated_once_for_every_gateway(database_location):
    one, two = open_database(database_location), open_database(database_location)
    first, created = SharedSecrets(one).kept_or_new("session_secret", lambda: "x" * 48)
    second, created_again = SharedSecrets(two).kept_or_new("session_secret", lambda: "y" * 48)
    assert (first, created, second, created_again) == ("x" * 48, True, "x" * 48, False)
    one.close_now()
    two.close_now()


def test_incidents_and_silences(database_location):
    db = open_database(database_location)
    alerts = AlertStore(db)
    first = alerts.open_incident("down", "services", "inference", BASE_MS, "connection refused")
    second = alerts.open_incident("down", "websdrs", "torino", BASE_MS + 1, None)
    assert second.id != first.id
    alerts.resolve(first.id, BASE_MS + 5)
    assert set(alerts.open_incidents()) == {("down", "websdrs", "torino")}
    made = alerts.add_quieting("silences", "websdrs", "torino", BASE_MS, BASE_MS + 10, "antenna", "ops")
    alerts.add_quieting("silences", "websdrs", "*", BASE_MS + 5, BASE_MS + 20, None, "admin")
    window = alerts.add_quieting("maintenance", "services", "inference", BASE_MS, BASE_MS + 30, None, "ops")
    state = alerts.state(BASE_MS + 7)
    assert [(q.key, q.by) for q in state.silences] == [("torino", "ops"), ("*", "admin")]
    assert state.silences[1].covers("websdrs", "genova", BASE_MS + 7)
    assert not state.silences[1].covers("websdrs", "genova", BASE_MS + 4)  # not begun yet
    assert [q.id for q in state.maintenance] == [window.id]
    assert [q.key for q in alerts.quietings("silences", BASE_MS + 15)] == ["*"]  # the first is over
    assert alerts.remove_quieting("silences", made.id) and not alerts.remove_quieting("silences", made.id)
    acknowledged = alerts.acknowledge(second.id, BASE_MS + 8, "ops")
    assert acknowledged["acknowledged_by"] == "ops" and alerts.open_incidents()[("down", "websdrs", "torino")] \
        .acknowledged_ms == BASE_MS + 8
    assert alerts.acknowledge(first.id, BASE_MS + 8, "ops") is None  # resolved: nothing to acknowledge
    assert alerts.count_open_incidents() == 1
    alerts.record(BASE_MS, "down", "torino", "opened", "sent", None)
    assert [n["outcome"] for n in alerts.notifications(5)] == ["sent"]
    db.close_now()


def test_an_unreachable_postgresql_is_one_clear_line_without_the_password():
    from tests.redis_server import free_port

    with pytest.raises(DatabaseUnavailable) as caught:
        open_database(f"postgresql://heimdall:s3cret-pass@127.0.0.1:{free_port()}/heimdall")
    message = str(caught.value)
    assert "s3cret-pass" not in message and "127.0.0.1" in message and "\n" not in message

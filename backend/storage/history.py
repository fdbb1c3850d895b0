"""Monitoring history: every check for a short while, roll-ups for longer, state changes,
and the last known status of each target (so a restart shows it at once).

Roll-ups: per minute, per hour and per day, each row a target's count of checks, of
checks that were up, and response-time sum, count and maximum. Uptime over 24 h, 7 d
and 30 d reads the hourly rows; a response-time series reads whichever size fits the
range. Retention of each level is configured (`[history]`) and pruned on a schedule.
"""

from __future__ import annotations

import abc
import json
from dataclasses import dataclass
from typing import Any

from backend.events.envelope import encode
from backend.storage.database import Database

BUCKET_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class CheckRecord:
    group: str  # "services" or "websdrs"
    key: str  # service name or receiver id
    ts_ms: int
    status: str
    up: bool
    response_ms: float | None
    error: str | None
    users: int | None = None  # what a receiver reports, where its kind tells
    snr_db: float | None = None
    users_max: int | None = None
    adc_overloads: int | None = None  # since the previous check
    gps_fixes_min: int | None = None


@dataclass(frozen=True)
class SnrMeasurement:
    """One of a KiwiSDR's own SNR measurements (its `/snr`; backend/kinds/kiwisdr.py)."""

    ts_ms: int
    snr_all_db: int | None
    snr_hf_db: int | None
    noise_db: int | None  # the median level over all bands, dB
    bands: list[dict[str, int]]  # every band as the receiver gave it: lo, hi (kHz), min, max, p50, p95, snr


@dataclass(frozen=True)
class StateChange:
    group: str
    key: str
    ts_ms: int
    from_status: str
    to_status: str
    reason: str | None


class HistoryStore(abc.ABC):
    @abc.abstractmethod
    async def record_round(self, checks: list[CheckRecord], changes: list[StateChange]) -> None:
        """Keep one round: its checks (rolled up) and its state changes."""

    @abc.abstractmethod
    async def save_last(self, entries: dict[tuple[str, str], dict[str, Any]]) -> None:
        """Keep the entries just published, to show them at once after a restart."""

    @abc.abstractmethod
    def last_entries(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The last published entry of every target (read once, at start, before serving)."""

    @abc.abstractmethod
    async def uptime(self, group: str, since_ms: int) -> dict[str, float]:
        """Percent of checks up since `since_ms`, by target key."""

    @abc.abstractmethod
    async def buckets(self, group: str, key: str, size: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """Roll-up rows of one target between two instants, oldest first."""

    @abc.abstractmethod
    async def changes(self, group: str | None, key: str | None, limit: int) -> list[dict[str, Any]]:
        """State changes, newest first, optionally of one kind or one target."""

    @abc.abstractmethod
    async def record_snr(self, group: str, key: str, measurements: list[SnrMeasurement]) -> int:
        """Keep a receiver's own SNR measurements (those already kept are skipped); how many were new."""

    @abc.abstractmethod
    async def snr_history(self, group: str, key: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """A receiver's own SNR measurements between two instants, oldest first."""

    @abc.abstractmethod
    async def prune(self, now_ms: int, retention_s: dict[str, float]) -> dict[str, int]:
        """Delete rows past their retention; returns how many of each table went."""


def percent(up: int, checks: int) -> float | None:
    return round(up * 100.0 / checks, 1) if checks else None


class SQLHistoryStore(HistoryStore):
    """On either engine. Target ids are cached; another gateway on the same PostgreSQL may
    have created one, so a miss asks the database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ids: dict[tuple[str, str], int] = {}

    def _known(self, group: str, key: str) -> int | None:
        """The row id of a target if it exists (database thread only)."""
        found = self._ids.get((group, key))
        if found is None:
            row = self._db.connection.execute("SELECT id FROM targets WHERE kind = ? AND key = ?", (group, key)).fetchone()
            if row is not None:
                found = self._ids[(group, key)] = row[0]
        return found

    def _target(self, group: str, key: str) -> int:
        """The row id of a target, created on first sight (database thread only)."""
        found = self._known(group, key)
        if found is None:
            self._db.connection.execute("INSERT INTO targets (kind, key) VALUES (?, ?) ON CONFLICT (kind, key) DO NOTHING",
                                        (group, key))
            found = self._known(group, key)
        return found

    async def record_round(self, checks, changes) -> None:
        await self._db.run(self._record_round, checks, changes)

    def _record_round(self, checks: list[CheckRecord], changes: list[StateChange]) -> None:
        with self._db.transaction() as connection:
            rows = [(self._target(c.group, c.key), c) for c in checks]
            connection.executemany(
                """INSERT INTO checks (target, ts, status, response_ms, error, users, snr_db, users_max,
                                      adc_overloads, gps_fixes_min)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (target, ts) DO UPDATE SET status = excluded.status,
                       response_ms = excluded.response_ms, error = excluded.error, users = excluded.users,
                       snr_db = excluded.snr_db, users_max = excluded.users_max,
                       adc_overloads = excluded.adc_overloads, gps_fixes_min = excluded.gps_fixes_min""",
                [(t, c.ts_ms, c.status, c.response_ms, c.error, c.users, c.snr_db, c.users_max, c.adc_overloads,
                  c.gps_fixes_min) for t, c in rows],
            )
            for size, seconds in BUCKET_SECONDS.items():
                connection.executemany(
                    f"""INSERT INTO rollup_{size} (target, bucket, checks, up, rt_sum, rt_count, rt_max, users_max,
                                                   snr_sum, snr_count, users_cap, adc_sum, adc_count, fixes_sum,
                                                   fixes_count)
                        VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (target, bucket) DO UPDATE SET
                            checks = rollup_{size}.checks + 1, up = rollup_{size}.up + excluded.up,
                            rt_sum = rollup_{size}.rt_sum + excluded.rt_sum,
                            rt_count = rollup_{size}.rt_count + excluded.rt_count,
                            rt_max = CASE WHEN rollup_{size}.rt_max IS NULL OR excluded.rt_max > rollup_{size}.rt_max
                                          THEN excluded.rt_max ELSE rollup_{size}.rt_max END,
                            users_max = CASE WHEN rollup_{size}.users_max IS NULL
                                                  OR excluded.users_max > rollup_{size}.users_max
                                             THEN excluded.users_max ELSE rollup_{size}.users_max END,
                            snr_sum = rollup_{size}.snr_sum + excluded.snr_sum,
                            snr_count = rollup_{size}.snr_count + excluded.snr_count,
                            users_cap = CASE WHEN rollup_{size}.users_cap IS NULL
                                                  OR excluded.users_cap > rollup_{size}.users_cap
                                             THEN excluded.users_cap ELSE rollup_{size}.users_cap END,
                            adc_sum = rollup_{size}.adc_sum + excluded.adc_sum,
                            adc_count = rollup_{size}.adc_count + excluded.adc_count,
                            fixes_sum = rollup_{size}.fixes_sum + excluded.fixes_sum,
                            fixes_count = rollup_{size}.fixes_count + excluded.fixes_count""",
                    [(t, c.ts_ms // 1000 // seconds * seconds, int(c.up), c.response_ms or 0.0,
                      int(c.response_ms is not None), c.response_ms, c.users, c.snr_db or 0.0,
                      int(c.snr_db is not None), c.users_max, c.adc_overloads or 0, int(c.adc_overloads is not None),
                      c.gps_fixes_min or 0, int(c.gps_fixes_min is not None)) for t, c in rows],
                )
            connection.executemany(
                "INSERT INTO state_changes (target, ts, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?)",
                [(self._target(s.group, s.key), s.ts_ms, s.from_status, s.to_status, s.reason) for s in changes],
            )

    async def save_last(self, entries) -> None:
        await self._db.run(self._save_last, entries)

    def _save_last(self, entries: dict[tuple[str, str], dict[str, Any]]) -> None:
        with self._db.transaction() as connection:
            connection.executemany(
                "INSERT INTO last_status (target, entry) VALUES (?, ?) "
                "ON CONFLICT (target) DO UPDATE SET entry = excluded.entry",
                [(self._target(group, key), encode(entry)) for (group, key), entry in entries.items()],
            )

    def last_entries(self) -> dict[tuple[str, str], dict[str, Any]]:
        rows = self._db.connection.execute(
            "SELECT t.kind, t.key, s.entry FROM last_status s JOIN targets t ON t.id = s.target").fetchall()
        return {(group, key): json.loads(entry) for group, key, entry in rows}

    async def uptime(self, group: str, since_ms: int) -> dict[str, float]:
        return await self._db.run(self._uptime, group, since_ms)

    def _uptime(self, group: str, since_ms: int) -> dict[str, float]:
        rows = self._db.connection.execute(
            """SELECT t.key, sum(r.up), sum(r.checks) FROM rollup_hour r JOIN targets t ON t.id = r.target
               WHERE t.kind = ? AND r.bucket >= ? GROUP BY t.key""",
            (group, since_ms // 1000 // 3600 * 3600),
        ).fetchall()
        return {key: percent(up, checks) for key, up, checks in rows if checks}

    async def buckets(self, group, key, size, start_ms, end_ms) -> list[dict[str, Any]]:
        return await self._db.run(self._buckets, group, key, size, start_ms, end_ms)

    def _buckets(self, group: str, key: str, size: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        target = self._known(group, key)
        if target is None or size not in BUCKET_SECONDS:
            return []
        seconds = BUCKET_SECONDS[size]
        rows = self._db.connection.execute(
            f"""SELECT bucket, checks, up, rt_sum, rt_count, rt_max, users_max, snr_sum, snr_count, users_cap,
                       adc_sum, adc_count, fixes_sum, fixes_count FROM rollup_{size}
                WHERE target = ? AND bucket >= ? AND bucket < ? ORDER BY bucket""",
            (target, start_ms // 1000 // seconds * seconds, end_ms // 1000),
        ).fetchall()
        return [
            {"start_ms": bucket * 1000, "checks": checks, "up": up, "uptime_pct": percent(up, checks),
             "avg_response_ms": round(rt_sum / rt_count, 1) if rt_count else None, "max_response_ms": rt_max,
             "max_users": users_max, "avg_snr_db": round(snr_sum / snr_count, 1) if snr_count else None,
             "users_max": users_cap, "adc_overloads": adc_sum if adc_count else None,
             "avg_gps_fixes_min": round(fixes_sum / fixes_count, 1) if fixes_count else None}
            for bucket, checks, up, rt_sum, rt_count, rt_max, users_max, snr_sum, snr_count, users_cap, adc_sum,
            adc_count, fixes_sum, fixes_count in rows
        ]

    async def changes(self, group, key, limit) -> list[dict[str, Any]]:
        return await self._db.run(self._changes, group, key, limit)

    def _changes(self, group: str | None, key: str | None, limit: int) -> list[dict[str, Any]]:
        where, args = [], []
        if group is not None:
            where.append("t.kind = ?")
            args.append(group)
        if key is not None:
            where.append("t.key = ?")
            args.append(key)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = self._db.connection.execute(
            f"""SELECT t.kind, t.key, s.ts, s.from_status, s.to_status, s.reason FROM state_changes s
                JOIN targets t ON t.id = s.target {clause} ORDER BY s.ts DESC, s.rowid DESC LIMIT ?""",
            (*args, limit),
        ).fetchall()
        return [{"kind": k, "id": key_, "ts_ms": ts, "from": f, "to": to, "reason": reason}
                for k, key_, ts, f, to, reason in rows]

    async def record_snr(self, group, key, measurements) -> int:
        return await self._db.run(self._record_snr, group, key, measurements)

    def _record_snr(self, group: str, key: str, measurements: list[SnrMeasurement]) -> int:
        with self._db.transaction() as connection:
            target = self._target(group, key)
            added = 0
            for m in measurements:
                added += connection.execute(
                    "INSERT INTO snr_measurements (target, ts, snr_all_db, snr_hf_db, noise_db, bands) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (target, ts) DO NOTHING",
                    (target, m.ts_ms, m.snr_all_db, m.snr_hf_db, m.noise_db, encode(m.bands))).rowcount
        return added

    async def snr_history(self, group, key, start_ms, end_ms) -> list[dict[str, Any]]:
        return await self._db.run(self._snr_history, group, key, start_ms, end_ms)

    def _snr_history(self, group: str, key: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        target = self._known(group, key)
        if target is None:
            return []
        rows = self._db.connection.execute(
            "SELECT ts, snr_all_db, snr_hf_db, noise_db, bands FROM snr_measurements "
            "WHERE target = ? AND ts >= ? AND ts < ? ORDER BY ts", (target, start_ms, end_ms)).fetchall()
        return [{"ts_ms": ts, "snr_all_db": snr_all, "snr_hf_db": snr_hf, "noise_db": noise, "bands": json.loads(bands)}
                for ts, snr_all, snr_hf, noise, bands in rows]

    async def prune(self, now_ms: int, retention_s: dict[str, float]) -> dict[str, int]:
        return await self._db.run(self._prune, now_ms, retention_s)

    def _prune(self, now_ms: int, retention_s: dict[str, float]) -> dict[str, int]:
        removed = {}
        with self._db.transaction() as connection:
            cutoff_ms = now_ms - int(retention_s["checks"] * 1000)
            removed["checks"] = connection.execute("DELETE FROM checks WHERE ts < ?", (cutoff_ms,)).rowcount
            for size in BUCKET_SECONDS:
                cutoff_s = (now_ms // 1000) - int(retention_s[size])
                removed[size] = connection.execute(f"DELETE FROM rollup_{size} WHERE bucket < ?", (cutoff_s,)).rowcount
            cutoff_ms = now_ms - int(retention_s["changes"] * 1000)
            removed["changes"] = connection.execute("DELETE FROM state_changes WHERE ts < ?", (cutoff_ms,)).rowcount
            # A receiver's own SNR measurements are hourly: kept as long as the hourly roll-ups.
            cutoff_ms = now_ms - int(retention_s["hour"] * 1000)
            removed["snr"] = connection.execute("DELETE FROM snr_measurements WHERE ts < ?", (cutoff_ms,)).rowcount
        return removed

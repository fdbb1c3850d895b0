"""Monitoring history: a target's buckets over a time range, its uptime, state changes."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query, Request

from backend.alerting import rules
from backend.api.requests import runtime_of
from backend.auth.scopes import ScopedRouter
from backend.kinds import GROUPS
from backend.kinds import GroupName as Kind
from backend.storage.history import BUCKET_SECONDS
from backend.timefmt import iso_from_ms, iso_z, parse_iso_ms

router = ScopedRouter(tags=["history"])


DAY_MS = 86_400_000
MAX_BUCKETS = 5000


def choose_resolution(span_ms: int) -> str:
    """The finest bucket size that keeps a range to a chart's worth of points."""
    if span_ms <= 2 * DAY_MS:
        return "minute"
    if span_ms <= 60 * DAY_MS:
        return "hour"
    return "day"


def _configured(request: Request, kind: str, target_id: str) -> bool:
    config = runtime_of(request).settings.config
    return target_id in GROUPS[kind].keys(config)


EARLIEST_MS, LATEST_MS = 946_684_800_000, 221_845_392_000_000  # 2000-01-01 .. 9000-01-01


def instant(text: str | None, default_ms: int, name: str) -> int:
    """A time from a query (ISO 8601) in ms, or the default; a clear 422 otherwise."""
    if text is None:
        return default_ms
    try:
        ms = parse_iso_ms(text)
    except (ValueError, OverflowError):
        raise HTTPException(422, f"{name}: not an ISO-8601 date-time, e.g. 2026-11-25T14:00:00Z") from None
    if not EARLIEST_MS <= ms <= LATEST_MS:
        raise HTTPException(422, f"{name}: must be between the years 2000 and 9000")
    return ms


@router.get("/api/v1/history/{kind}/{target_id}", scope="read")
async def target_history(
    request: Request,
    kind: Kind,
    target_id: str,
    start: Annotated[str | None, Query(description="ISO-8601; default 24 h before end")] = None,
    end: Annotated[str | None, Query(description="ISO-8601; default now")] = None,
    resolution: Annotated[Literal["auto", "minute", "hour", "day"], Query()] = "auto",
) -> dict[str, Any]:
    """Check buckets of one service or receiver (oldest first) and its uptime over 24 h, 7 d and 30 d."""
    if not _configured(request, kind, target_id):
        raise HTTPException(404, f"no {GROUPS[kind].noun} {target_id!r} in the configuration")
    now_ms = int(time.time() * 1000)
    end_ms = instant(end, now_ms, "end")
    start_ms = instant(start, end_ms - DAY_MS, "start")
    if start_ms >= end_ms:
        raise HTTPException(422, "start must be before end")
    size = choose_resolution(end_ms - start_ms) if resolution == "auto" else resolution
    if (end_ms - start_ms) / 1000 / BUCKET_SECONDS[size] > MAX_BUCKETS:
        raise HTTPException(422, f"more than {MAX_BUCKETS} {size} buckets: use a coarser resolution or a shorter range")
    history = runtime_of(request).history
    buckets = await history.buckets(kind, target_id, size, start_ms, end_ms)
    uptime = {}
    for label, days in (("24h", 1), ("7d", 7), ("30d", 30)):
        uptime[label] = (await history.uptime(kind, now_ms - days * DAY_MS)).get(target_id)
    return {
        "kind": kind,
        "id": target_id,
        "resolution": size,
        "start": iso_from_ms(start_ms),
        "end": iso_from_ms(end_ms),
        "uptime_pct": uptime,
        "buckets": [{"start": iso_from_ms(b.pop("start_ms")), **b} for b in buckets],
        "maintenance": maintenance_marks(runtime_of(request).settings.config.maintenance, kind, target_id,
                                         start_ms, end_ms),
    }


@router.get("/api/v1/history/websdrs/{target_id}/snr", scope="read")
async def receiver_snr_history(
    request: Request,
    target_id: str,
    start: Annotated[str | None, Query(description="ISO-8601; default 7 days before end")] = None,
    end: Annotated[str | None, Query(description="ISO-8601; default now")] = None,
) -> dict[str, Any]:
    """A receiver's own SNR measurements (KiwiSDR's `/snr`, hourly, read once an hour),
    oldest first: SNR over its whole span and over HF, the median level (noise), and
    every band as the receiver gave it (lo and hi in kHz, levels in dB)."""
    if not _configured(request, "websdrs", target_id):
        raise HTTPException(404, f"no receiver {target_id!r} in the configuration")
    end_ms = instant(end, int(time.time() * 1000), "end")
    start_ms = instant(start, end_ms - 7 * DAY_MS, "start")
    if start_ms >= end_ms:
        raise HTTPException(422, "start must be before end")
    if end_ms - start_ms > 366 * DAY_MS:
        raise HTTPException(422, "at most a year at once")
    found = await runtime_of(request).history.snr_history("websdrs", target_id, start_ms, end_ms)
    return {"id": target_id, "start": iso_from_ms(start_ms), "end": iso_from_ms(end_ms),
            "measurements": [{"ts": iso_from_ms(m.pop("ts_ms")), **m} for m in found]}


def maintenance_marks(windows, kind: str, target_id: str, start_ms: int, end_ms: int) -> list[dict[str, str]]:
    """The maintenance windows of this target in the range, so history shows them."""
    start = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc)
    end = datetime.fromtimestamp(end_ms / 1000, tz=timezone.utc)
    return [{"name": window.name or "maintenance", "start": iso_z(begin), "end": iso_z(finish)}
            for window in windows if rules.covers(window.targets, kind, target_id)
            for begin, finish in rules.windows_between(window, start, end)]


@router.get("/api/v1/status-changes", scope="read")
async def status_changes(
    request: Request,
    kind: Kind | None = None,
    id: Annotated[str | None, Query(description="a service name or receiver id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Targets going up or down (after flap suppression), newest first."""
    changes = await runtime_of(request).history.changes(kind, id, limit)
    return [{"at": iso_from_ms(c.pop("ts_ms")), **c} for c in changes]

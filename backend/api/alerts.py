"""Alerts for reading: open incidents, recent ones, every notification attempt."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from backend.api.requests import runtime_of
from backend.auth.scopes import ScopedRouter

router = ScopedRouter(tags=["alerts"])


@router.get("/api/v1/alerts", scope="read")
async def alerts(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Incidents and notifications, newest first; the gateway's own problems."""
    engine = runtime_of(request).alerts
    db = runtime_of(request).database
    return {
        "open_incidents": await db.run(engine.store.count_open_incidents),
        "gateway_problems": dict(engine.gateway_problems),
        "events_dropped": engine.events_dropped,  # the engine fell behind (it should never)
        "rounds_evaluated": engine.rounds_evaluated,  # on the poller: rounds the alert rules have seen
        "notifications_pending": engine.delivery.pending,  # queued or being sent
        "notifications_grouped": engine.grouper.waiting,  # waiting for their group (group_wait_s)
        # kept in the database until delivered, by every gateway (backend/alerting/kept.py)
        "notifications_queued": await db.run(engine.store.count_queued),
        "incidents": await db.run(engine.store.incidents, limit),
        "silences": [q.shown() for q in await db.run(engine.store.quietings, "silences", engine.now_ms())],
        "maintenance": [q.shown() for q in await db.run(engine.store.quietings, "maintenance", engine.now_ms())],
        "notifications": await db.run(engine.store.notifications, limit),
    }

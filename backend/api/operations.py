"""What on-call people do, through the API (the `operator` scope, which admins have too):
silences and maintenance windows (list, make, lift), acknowledging an open incident, and
a test notification. Everything lands in the shared store, so it takes effect on the
poller within one polling interval, wherever it was made, and is audited."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import HTTPException, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from backend.api.requests import actor_of, audit, runtime_of
from backend.auth.scopes import ScopedRouter
from backend.kinds import GROUPS

router = ScopedRouter(tags=["operations"])

MAX_MINUTES = 366 * 24 * 60


class QuietingRequest(BaseModel):
    """A silence or a maintenance window for one target, or `*` for every target of a kind."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "example": {"kind": "websdrs", "id": "torino", "minutes": 60, "comment": "antenna work"}})
    kind: Annotated[str, Field(description="as in status:changed: services or websdrs", max_length=32)]
    id: Annotated[str, Field(min_length=1, max_length=64, description="the target's id, or * for all of the kind")]
    minutes: Annotated[float, Field(gt=0, le=MAX_MINUTES)]
    comment: Annotated[str | None, Field(max_length=500)] = None
    starts_at: datetime | None = Field(None, description="default: now (ISO 8601, with a zone)")


class TestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"name": "on-call"}})
    name: Annotated[str, Field(min_length=1, max_length=64, description="an alert's or a watch's name")]


def _targets(request: Request) -> dict[str, set[str]]:
    config = runtime_of(request).settings.config
    return {group.name: set(group.keys(config)) for group in GROUPS.values()}


async def _make(request: Request, what: str, body: QuietingRequest) -> dict[str, Any]:
    known = _targets(request)
    if body.kind not in known:
        raise HTTPException(422, f"kind: one of {', '.join(sorted(known))}")
    if body.id != "*" and body.id not in known[body.kind]:
        raise HTTPException(404, f"no {body.kind} target {body.id!r}")
    starts_ms = None
    if body.starts_at is not None:
        if body.starts_at.tzinfo is None:
            raise HTTPException(422, "starts_at: give a time zone, e.g. 2026-12-02T14:00:00Z")
        try:
            starts_ms = int(body.starts_at.astimezone(timezone.utc).timestamp() * 1000)
        except (OverflowError, ValueError):  # year 1 east of UTC
            starts_ms = None
        now_ms = runtime_of(request).alerts.now_ms()
        if starts_ms is None or not now_ms - MAX_START_BACK_MS <= starts_ms <= now_ms + MAX_START_AHEAD_MS:
            raise HTTPException(422, "starts_at: from a day ago to a year ahead")
    made = await runtime_of(request).alerts.silence(body.kind, body.id, body.minutes, actor_of(request), body.comment,
                                                    what, starts_ms)
    await audit(request, "silence made" if what == "silences" else "maintenance set", f"{body.kind}:{body.id}",
                 f"{body.minutes:g} min")
    return made.shown()


async def _list(request: Request, what: str) -> list[dict[str, Any]]:
    engine = runtime_of(request).alerts
    store = engine.store
    return [q.shown() for q in await runtime_of(request).database.run(store.quietings, what, engine.now_ms())]


async def _lift(request: Request, what: str, quieting_id: int) -> Response:
    if not await runtime_of(request).alerts.lift(what, quieting_id):
        raise HTTPException(404, f"no such {'silence' if what == 'silences' else 'maintenance window'}")
    await audit(request, "silence lifted" if what == "silences" else "maintenance ended", f"#{quieting_id}")
    return Response(status_code=204)


MAX_START_BACK_MS = 86_400_000
MAX_START_AHEAD_MS = 366 * 86_400_000

QuietingId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/api/v1/silences", scope="read")
async def list_silences(request: Request) -> list[dict[str, Any]]:
    """Silences not over yet (current and future)."""
    return await _list(request, "silences")


@router.post("/api/v1/silences", scope="operator", status_code=201)
async def make_silence(request: Request, body: QuietingRequest) -> dict[str, Any]:
    """Silence a target's alerts (checks go on; nothing is sent). Needs the `operator` scope."""
    return await _make(request, "silences", body)


@router.delete("/api/v1/silences/{silence_id}", scope="operator", status_code=204)
async def lift_silence(request: Request, silence_id: QuietingId) -> Response:
    return await _lift(request, "silences", silence_id)


@router.get("/api/v1/maintenance", scope="read")
async def list_maintenance(request: Request) -> list[dict[str, Any]]:
    """Maintenance windows made through the API, not over yet (the configured ones are in the config)."""
    return await _list(request, "maintenance")


@router.post("/api/v1/maintenance", scope="operator", status_code=201)
async def make_maintenance(request: Request, body: QuietingRequest) -> dict[str, Any]:
    """A maintenance window: the target's alerts wait, and its history marks the time. Needs `operator`."""
    return await _make(request, "maintenance", body)


@router.delete("/api/v1/maintenance/{window_id}", scope="operator", status_code=204)
async def end_maintenance(request: Request, window_id: QuietingId) -> Response:
    return await _lift(request, "maintenance", window_id)


@router.post("/api/v1/incidents/{incident_id}/acknowledge", scope="operator")
async def acknowledge(request: Request, incident_id: QuietingId) -> dict[str, Any]:
    """Someone is on it: no more reminders for this open incident. Needs `operator`."""
    incident = await runtime_of(request).alerts.acknowledge(incident_id, actor_of(request))
    if incident is None:
        raise HTTPException(404, "no such open incident")
    await audit(request, "incident acknowledged", f"#{incident_id}")
    return incident


@router.post("/api/v1/notifications/test", scope="operator")
async def send_test(request: Request, body: TestRequest) -> dict[str, Any]:
    """A test notification through one alert or watch, answered when it arrived or failed at
    each of its URLs (shown redacted), retries included: `delivered` is true only when every
    URL took it. Needs `operator`."""
    attempts = await runtime_of(request).alerts.send_test(body.name)
    if attempts is None:
        raise HTTPException(404, f"no alert or watch named {body.name!r}")
    await audit(request, "test notification sent", body.name)
    return {"sent": body.name, "delivered": all(a.delivered for a in attempts),
            "urls": [{"url": a.url, "delivered": a.delivered, "reason": a.reason} for a in attempts]}

"""Ingestion: the platform's services push detections and localizations here.

A valid object is stored (with its outbox row), then published through the outbox
(backend/ingest/outbox.py), then answered 201: stored, and published or waiting for the
event bus. Any error (no token,
too large, not JSON, invalid) is answered before anything is kept or published.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel

from backend.api.bodies import parse_body
from backend.api.errors import StrictJSONResponse, error
from backend.api.requests import runtime_of
from backend.auth.scopes import ScopedRouter
from backend.events.envelope import encode
from backend.events.topics import LOCALIZATIONS_UPDATED, SIGNALS_DETECTED
from backend.ingest.accept import accept
from backend.ingest.models import MAX_OBJECT_BYTES, Detection, Localization

router = ScopedRouter(tags=["ingestion"])


async def _ingest(request: Request, model: type[BaseModel], kind: str, topic: str) -> StrictJSONResponse:
    runtime = runtime_of(request)
    principal = request.state.principal
    if principal.name is None:
        return error(401, "missing token: send Authorization: Bearer <token with the ingest scope>",
                     headers={"WWW-Authenticate": "Bearer"})
    if not principal.may("ingest"):
        return error(403, "this token may not ingest: it needs the 'ingest' scope")
    item = await parse_body(request, model, MAX_OBJECT_BYTES)
    if isinstance(item, StrictJSONResponse):
        return item
    record, created = await accept(runtime.records, runtime.outbox, runtime.metrics.ingested, kind,
                                   item.stored_form(server_id=uuid.uuid4().hex))
    # The same id again: the first one, 200.
    return StrictJSONResponse(record, status_code=201 if created else 200)


@router.post("/api/v1/signals", scope="ingest", status_code=201)
async def post_signal(request: Request) -> StrictJSONResponse:
    """A detection: frequency_mhz, snr_db, websdr_id, timestamp, optional id, any extra fields."""
    return await _ingest(request, Detection, "detections", SIGNALS_DETECTED)


@router.post("/api/v1/localizations", scope="ingest", status_code=201)
async def post_localization(request: Request) -> StrictJSONResponse:
    """A localization: latitude, longitude, uncertainty_m, confidence, timestamp, optional id and uncertainty_ellipse."""
    return await _ingest(request, Localization, "localizations", LOCALIZATIONS_UPDATED)


# A list answer ends early past this size, and says so in the X-Heimdall-More header.
MAX_LIST_BYTES = 4 * 1024 * 1024


async def _bounded_list(request: Request, kind: str, limit: int) -> StrictJSONResponse:
    records = await runtime_of(request).records.latest(kind, limit)
    kept, size = [], 0
    for record in records:
        size += len(encode(record)) + 1
        if kept and size > MAX_LIST_BYTES:
            break
        kept.append(record)
    more = len(kept) < len(records)
    return StrictJSONResponse(kept, headers={"X-Heimdall-More": "true" if more else "false"})


@router.get("/api/v1/signals", scope="read")
async def list_signals(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Stored detections, latest first (at most `limit`, and about 4 MiB: X-Heimdall-More says more were left)."""
    return await _bounded_list(request, "detections", limit)


@router.get("/api/v1/localizations", scope="read")
async def list_localizations(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Stored localizations, latest first (at most `limit`, and about 4 MiB: X-Heimdall-More says more were left)."""
    return await _bounded_list(request, "localizations", limit)

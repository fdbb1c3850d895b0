"""Can the network locate a signal on a frequency now, and how well: the receivers'
readiness and the geometry of the ready ones."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query, Request, Response

from backend.api.history import DAY_MS, instant
from backend.auth.scopes import ScopedRouter
from backend.events.topics import WEBSDRS_STATUS
from backend.kinds import RECEIVERS, receiver_readiness
from backend.locating import exports
from backend.locating.geometry import coverage as coverage_of
from backend.locating.network import readiness_at, ready_count, ready_positions
from backend.runtime import Runtime
from backend.safety.redact import redact_url
from backend.timefmt import iso_from_ms

router = ScopedRouter()

EXPORT_MAX_ROWS = 100_000  # a larger range is refused: ask for a shorter one
Format = Annotated[Literal["geojson", "kml", "csv"], Query(description="geojson (QGIS), kml (Google Earth) or csv")]
Frequency = Annotated[float, Query(gt=0, le=1_000_000, description="the frequency to locate a signal on, in MHz")]


def network_readiness(runtime: Runtime, freq_mhz: float) -> dict[str, dict[str, Any]]:
    return readiness_at(runtime.settings.config, runtime.hub.latest(WEBSDRS_STATUS).data, freq_mhz)


@router.get("/api/v1/readiness", scope="read", tags=["locating"])
async def readiness(request: Request, freq_mhz: Frequency) -> dict[str, Any]:
    """Which receivers can take part in locating a signal on this frequency now: each
    `ready`, `limited` or `unusable`, with every reason (backend/kinds/readiness.py)."""
    receivers = network_readiness(request.app.state.runtime, freq_mhz)
    return {"freq_mhz": freq_mhz, "ready": ready_count(receivers), "receivers": receivers}


@router.get("/api/v1/coverage", scope="read", tags=["locating"])
async def coverage(request: Request, freq_mhz: Frequency,
                   sigma_t_us: Annotated[float, Query(gt=0, le=1000, description="timing error, 1 sigma, µs")] = 1.0,
                   cells: Annotated[int, Query(ge=2, le=100, description="cells along each side")] = 40,
                   ) -> dict[str, Any]:
    """How well the receivers ready on this frequency can locate a transmitter, over their
    area: a GeoJSON FeatureCollection of cells with `gdop` and `error_m` (1 sigma, null where
    there is no fix), and `warnings` (fewer than 3 ready, the same place, one line)."""
    runtime = request.app.state.runtime
    positions = ready_positions(runtime.settings.config, network_readiness(runtime, freq_mhz))
    # About 0.2 s for 1,000 receivers: off the event loop.
    return {"freq_mhz": freq_mhz, **await asyncio.to_thread(coverage_of, positions, sigma_t_us * 1e-6, cells)}


def _download(format_name: str, rows: list[dict[str, Any]], title: str, filename: str) -> Response:
    return Response(exports.render(format_name, rows, title), media_type=exports.FORMATS[format_name],
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{format_name}"'})


# What an export answers, in OpenAPI: one of three content types, by `format`.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "the file, by `format`", "content": {
        media.split(";")[0]: {"schema": {"type": "object" if name == "geojson" else "string"}}
        for name, media in exports.FORMATS.items()}}}


@router.get("/api/v1/websdrs/export", scope="read", tags=["locating"], response_class=Response, responses=EXPORT_RESPONSES)
async def export_receivers(request: Request, format: Format = "geojson") -> Response:  # noqa: A002 - the URL's word
    """Every configured receiver where it is configured, with its status and readiness."""
    runtime = request.app.state.runtime
    health = runtime.hub.latest(WEBSDRS_STATUS).data
    rows = []
    for w in runtime.settings.config.websdrs:
        entry = health.get(w.id) or RECEIVERS.unknown(w)
        details = entry.get("details") or {}
        readiness = entry.get("readiness") or receiver_readiness(w, entry, None)
        rows.append({"id": w.id, "name": w.name, "kind": w.kind, "url": redact_url(w.url),
                     "latitude": w.latitude, "longitude": w.longitude, "status": entry.get("status"),
                     "readiness": readiness["state"], "readiness_reasons": "; ".join(readiness["reasons"]),
                     "users": details.get("users"), "users_max": details.get("users_max"),
                     "last_check": entry.get("last_check")})
    return _download(format, rows, "Heimdall receivers", "receivers")


@router.get("/api/v1/localizations/export", scope="read", tags=["locating"], response_class=Response,
            responses=EXPORT_RESPONSES)
async def export_localizations(request: Request, format: Format = "geojson",  # noqa: A002 - the URL's word
                               since: Annotated[str | None, Query(description="from (ISO 8601); 24 h before `until` by default")] = None,
                               until: Annotated[str | None, Query(description="to, excluded (ISO 8601); now by default")] = None,
                               ) -> Response:
    """Stored localizations in a time range, oldest first, with their uncertainty."""
    until_ms = instant(until, int(time.time() * 1000), "until")
    since_ms = instant(since, until_ms - DAY_MS, "since")
    if since_ms >= until_ms:
        raise HTTPException(422, "'since' must be before 'until'")
    records = await request.app.state.runtime.records.between("localizations", iso_from_ms(since_ms),
                                                              iso_from_ms(until_ms), EXPORT_MAX_ROWS + 1)
    if len(records) > EXPORT_MAX_ROWS:
        raise HTTPException(422, f"more than {EXPORT_MAX_ROWS} localizations in that range: ask for a shorter one")
    rows = []
    for record in records:
        ellipse = record.get("uncertainty_ellipse") or {}
        rows.append({"id": record.get("id"), "timestamp": record.get("timestamp"), "latitude": record["latitude"],
                     "longitude": record["longitude"], "uncertainty_m": record.get("uncertainty_m"),
                     "confidence": record.get("confidence"), "semi_major_m": ellipse.get("semi_major_m"),
                     "semi_minor_m": ellipse.get("semi_minor_m"), "orientation_deg": ellipse.get("orientation_deg")})
    return _download(format, rows, "Heimdall localizations", "localizations")

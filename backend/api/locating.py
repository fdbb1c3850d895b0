"""Can the network locate a signal on a frequency now, and how well: the receivers'
readiness and the geometry of the ready ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from backend.events.topics import WEBSDRS_STATUS
from backend.kinds import RECEIVERS, kind_of
from backend.kinds.readiness import READY, of_entry
from backend.locating.geometry import coverage as coverage_of
from backend.runtime import Runtime

router = APIRouter()

Frequency = Annotated[float, Query(gt=0, le=1_000_000, description="the frequency to locate a signal on, in MHz")]


def readiness_at(runtime: Runtime, freq_mhz: float) -> dict[str, dict[str, Any]]:
    health = runtime.hub.latest(WEBSDRS_STATUS).data
    return {w.id: of_entry(kind_of(RECEIVERS.name, w).readiness, health.get(w.id) or RECEIVERS.unknown(w), freq_mhz)
            for w in runtime.settings.config.websdrs}


@router.get("/api/v1/readiness", tags=["locating"])
async def readiness(request: Request, freq_mhz: Frequency) -> dict[str, Any]:
    """Which receivers can take part in locating a signal on this frequency now: each
    `ready`, `limited` or `unusable`, with every reason (backend/kinds/readiness.py)."""
    receivers = readiness_at(request.app.state.runtime, freq_mhz)
    return {"freq_mhz": freq_mhz, "ready": sum(1 for r in receivers.values() if r["state"] == READY),
            "receivers": receivers}


@router.get("/api/v1/coverage", tags=["locating"])
async def coverage(request: Request, freq_mhz: Frequency,
                   sigma_t_us: Annotated[float, Query(gt=0, le=1000, description="timing error, 1 sigma, µs")] = 1.0,
                   cells: Annotated[int, Query(ge=2, le=100, description="cells along each side")] = 40,
                   ) -> dict[str, Any]:
    """How well the receivers ready on this frequency can locate a transmitter, over their
    area: a GeoJSON FeatureCollection of cells with `gdop` and `error_m` (1 sigma, null where
    there is no fix), and `warnings` (fewer than 3 ready, the same place, one line)."""
    runtime = request.app.state.runtime
    ready = {key for key, r in readiness_at(runtime, freq_mhz).items() if r["state"] == READY}
    positions = {w.id: (w.latitude, w.longitude) for w in runtime.settings.config.websdrs if w.id in ready}
    return {"freq_mhz": freq_mhz, **coverage_of(positions, sigma_t_us * 1e-6, cells)}

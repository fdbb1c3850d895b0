"""Push health (`POST /api/v1/push/{name}`, the `push` scope): a service nothing can
probe reports itself, in the fields the Heimdall platform's own health reports carry
(`{"status": "healthy" | "unhealthy" | "degraded", "response_time_ms": …, "error": …}`,
only `status` required). The report is kept (backend/ingest/push.py) and judged at the
next round of services (backend/kinds/push.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import Request

from backend.api.errors import StrictJSONResponse, error
from backend.api.requests import runtime_of
from backend.auth.scopes import ScopedRouter
from backend.feed.platform import Rejected, push_report
from backend.kinds import push_services
from backend.timefmt import iso_from_ms

router = ScopedRouter(tags=["ingestion"])
MAX_REPORT_BYTES = 4096


@router.post("/api/v1/push/{name}", scope="push", status_code=202, openapi_extra={"x-statuses": [400, 404, 413]})
async def push(request: Request, name: str) -> Any:
    """A push service's report of itself; 404 unless a `[[services]]` entry of kind `push`
    has this name. Answered 202 with the report as kept."""
    runtime = runtime_of(request)
    if name not in push_services(runtime.settings.config):
        return error(404, f"no push service named {name[:64]!r} ([[services]] kind = \"push\")")
    raw = await request.body()
    if len(raw) > MAX_REPORT_BYTES:
        return error(413, f"a report is at most {MAX_REPORT_BYTES} bytes")
    try:
        document = json.loads(raw)
    except ValueError:
        return error(400, "the body is not JSON")
    now_ms = int(time.time() * 1000)
    try:
        report = push_report(document, iso_from_ms(now_ms))
    except Rejected as problem:
        return error(422, str(problem), field=str(problem).split(" ", 1)[0])
    await runtime.database.run(runtime.push.keep, name, report, now_ms, "http")
    return StrictJSONResponse({"name": name, **report}, status_code=202)

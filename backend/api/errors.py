"""Every answer of the API is JSON, errors included.

The pages are mounted at `/` behind the API, so a request the API routes do not take
(an unknown `/api/...` path, or a known one with the wrong method) would fall through
to the pages and get their HTML 404. The catch-all routes here answer it instead: 404
for a path that does not exist, 405 with `Allow` for a method a path does not take.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.routing import Match

from backend.envelope import encode

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


class StrictJSONResponse(JSONResponse):
    """JSON that browsers accept: non-finite numbers, whatever their source, are null."""

    def render(self, content: Any) -> bytes:
        return encode(content).encode("ascii")


def error(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> StrictJSONResponse:
    """The one error shape: {"detail": "..."} and any named extras (e.g. "field")."""
    return StrictJSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


router = APIRouter(include_in_schema=False)


@router.api_route("/api/{rest:path}", methods=ALL_METHODS)
@router.api_route("/healthz", methods=ALL_METHODS)
async def not_routed(request: Request) -> StrictJSONResponse:
    allowed: set[str] = set()
    for route in request.app.router.routes:
        methods = getattr(route, "methods", None)
        if methods and route.matches(request.scope)[0] == Match.PARTIAL and "TRACE" not in methods:
            allowed |= methods
    if allowed:
        return error(405, f"method {request.method} not allowed here; use {', '.join(sorted(allowed))}",
                     headers={"Allow": ", ".join(sorted(allowed))})
    return error(404, f"no such API path: {request.url.path}")

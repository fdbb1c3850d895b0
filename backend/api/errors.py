"""Every answer of the API is JSON, errors included.

The pages are mounted at `/` behind the API, so a request the API routes do not take
(an unknown `/api/...` path, or a known one with the wrong method) would fall through
to the pages and get their HTML 404. The catch-all routes here answer it instead: 404
for a path that does not exist, 405 with `Allow` for a method a path does not take.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Mount

from backend.auth.scopes import ScopedRouter
from backend.events.envelope import encode
from backend.storage.database import RETRY_AFTER_S, unavailable_reason

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
API_PATHS = re.compile(r"^/(api/|healthz$)")


class StrictJSONResponse(JSONResponse):
    """JSON that browsers accept: non-finite numbers, whatever their source, are null."""

    def render(self, content: Any) -> bytes:
        return encode(content).encode("ascii")


def error(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> StrictJSONResponse:
    """The one error shape: {"detail": "..."} and any named extras (e.g. "field")."""
    return StrictJSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


async def internal_error(request: Request, exc: Exception) -> StrictJSONResponse:
    """A bug: a short JSON 500 (the guard logs one line for it). Storage that cannot be
    used now (the database away, the disk full) is no bug: 503 with Retry-After, and
    nothing was kept."""
    reason = unavailable_reason(exc)
    if reason is not None:
        return error(503, f"storage unavailable ({reason}); nothing was kept: try again",
                     headers={"Retry-After": str(RETRY_AFTER_S)})
    return error(500, "internal error")


router = ScopedRouter(include_in_schema=False)


@router.api_route("/api/{rest:path}", scope="read", methods=ALL_METHODS)
async def not_routed(request: Request) -> StrictJSONResponse:
    return _not_routed(request)


@router.api_route("/healthz", scope="public", methods=ALL_METHODS)  # another method at the orchestrators' path
async def health_not_routed(request: Request) -> StrictJSONResponse:
    return _not_routed(request)


def _not_routed(request: Request) -> StrictJSONResponse:
    allowed = allowed_methods(request.app.router.routes, request.scope)
    if allowed:
        return error(405, f"method {request.method} not allowed here; use {', '.join(allowed)}",
                     headers={"Allow": ", ".join(allowed)})
    return error(404, f"no such API path: {request.url.path}")


def allowed_methods(routes: list[BaseRoute], scope: dict[str, Any]) -> list[str]:
    """The methods some API route takes at this request's path (this catch-all and the
    mounted pages and files aside)."""
    allowed = []
    for method in ALL_METHODS:
        probe = {**scope, "method": method}
        for route in routes:
            if isinstance(route, Mount) or getattr(route, "original_router", None) is router:
                continue
            if route.matches(probe)[0] == Match.FULL:
                allowed.append(method)
                break
    return allowed


class UnknownMethods:
    """ASGI: an API path asked with a method no route lists (QUERY, FOO, ...) is a JSON
    405 too; the catch-all routes above can only name the methods they know."""

    def __init__(self, app) -> None:
        self.app = app  # NiceGUI finds its uvicorn server by following `.app`

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] not in ALL_METHODS and API_PATHS.match(scope["path"]):
            allowed = allowed_methods(self.app.router.routes, scope)
            response = error(405, f"method {scope['method']} not allowed here",
                             headers={"Allow": ", ".join(allowed)} if allowed else None)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

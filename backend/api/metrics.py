"""`GET /metrics` for Prometheus, and the status and uptime badges."""

from __future__ import annotations

import html
import time
from typing import Literal

from fastapi import HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend.api.requests import runtime_of
from backend.auth.scopes import ScopedRouter
from backend.kinds import GROUPS
from backend.kinds import GroupName as Kind
from backend.kinds.status import is_down

router = ScopedRouter()
WINDOWS_S = {"24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400}
BADGE_CACHE_S = 60


@router.get("/metrics", scope="read", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(runtime_of(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)


def badge(label: str, message: str, color: str) -> str:
    """A flat badge in the usual shields style; text escaped, width from its length."""
    def width(text: str) -> int:
        return 10 + round(6.5 * len(text))

    left, right = width(label), width(message)
    label, message = html.escape(label), html.escape(message)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="20" role="img" '
            f'aria-label="{label}: {message}"><title>{label}: {message}</title>'
            f'<rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" '
            f'fill="{color}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
            f'font-size="11"><text x="{left / 2}" y="14">{label}</text><text x="{left + right / 2}" y="14">'
            f'{message}</text></g></svg>')


def _svg(request: Request, body: str) -> Response:
    public = runtime_of(request).settings.config.badges.public
    return Response(body, media_type="image/svg+xml",
                    headers={"Cache-Control": f"{'public' if public else 'private'}, max-age={BADGE_CACHE_S}"})


def _entry(request: Request, kind: str, target_id: str) -> dict:
    group = GROUPS[kind]
    entry = runtime_of(request).hub.latest(group.topic).data.get(target_id)
    if entry is None:
        raise HTTPException(404, f"no {group.noun} {target_id!r} in the configuration")
    return entry


@router.get("/api/v1/badges/{kind}/{target_id}/status.svg", scope="public-badge", tags=["badges"], response_class=Response)
async def status_badge(request: Request, kind: Kind, target_id: str) -> Response:
    """The target's status as a badge (cached a minute)."""
    status = _entry(request, kind, target_id).get("status", "unknown")
    color = "#9f9f9f" if status == "unknown" else ("#e05d44" if is_down(status) else
                                                   "#dfb317" if status == "degraded" else "#4c1")
    return _svg(request, badge(target_id, status, color))


@router.get("/api/v1/badges/{kind}/{target_id}/uptime.svg", scope="public-badge", tags=["badges"], response_class=Response)
async def uptime_badge(request: Request, kind: Kind, target_id: str,
                       window: Literal["24h", "7d", "30d"] = "24h") -> Response:
    """The target's uptime over 24 h, 7 d or 30 d as a badge (cached a minute)."""
    _entry(request, kind, target_id)
    since_ms = int((time.time() - WINDOWS_S[window]) * 1000)
    percent = (await runtime_of(request).history.uptime(kind, since_ms)).get(target_id)
    message = "no data" if percent is None else f"{percent:.1f}%"
    color = "#9f9f9f" if percent is None else "#4c1" if percent >= 99 else "#dfb317" if percent >= 95 else "#e05d44"
    return _svg(request, badge(f"uptime {window}", message, color))

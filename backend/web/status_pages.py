"""The public status pages (`[[status_pages]]`): `/status/{slug}`, its Atom feed and its
badge, for anyone, without an account or the operators' socket. Each is built at most
once a minute (backend/statuspage/page.py) and says `Cache-Control: public, max-age=60`,
so a proxy or a browser keeps it too."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from backend.api.metrics import badge
from backend.auth.scopes import ScopedRouter
from backend.statuspage.page import CACHE_S
from backend.statuspage.render import COLOURS, OVERALL_WORDS

router = ScopedRouter(include_in_schema=False)

CACHED = {"Cache-Control": f"public, max-age={CACHE_S}"}
NOT_FOUND = ('<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>No such status page</title>'
             '</head><body><h1>No such status page</h1></body></html>')


def _pages(request: Request):
    return request.app.state.runtime.status_pages


@router.get("/status/{slug}", scope="public")
async def status_page(request: Request, slug: str) -> Response:
    text = await _pages(request).page(slug)
    if text is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    return HTMLResponse(text, headers=CACHED)


@router.get("/status/{slug}/feed", scope="public")
async def status_feed(request: Request, slug: str) -> Response:
    # The configured public URL when there is one; else the request's (its Host already
    # checked by the guard to be a valid host[:port]).
    public = request.app.state.runtime.auth.config.http.public_url
    base = (public or str(request.base_url)).rstrip("/")
    text = await _pages(request).feed(slug, base)
    if text is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    return Response(text, media_type="application/atom+xml; charset=utf-8", headers=CACHED)


@router.get("/status/{slug}/badge.svg", scope="public")
async def status_badge(request: Request, slug: str) -> Response:
    state = await _pages(request).overall(slug)
    if state is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    title = _pages(request).settings(slug).title
    return Response(badge(title, OVERALL_WORDS[state].lower(), COLOURS[state]), media_type="image/svg+xml",
                    headers=CACHED)

"""The API reference at /docs (Swagger UI) and /redoc, served from bundled assets.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so in a control room with no
internet they are blank. The pinned `fastapi-offline` package ships the same files; we
serve them from this process and only use the package for its files.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from backend.auth.scopes import ScopedRouter

ASSETS_URL = "/api-docs-static"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"

router = ScopedRouter(include_in_schema=False)


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="api-docs-static")


def _page(request: Request) -> tuple[str, dict[str, str]]:
    """The assets' base URL, and what both pages are given."""
    root = request.scope.get("root_path", "")
    return f"{root}{ASSETS_URL}", {"openapi_url": f"{root}{request.app.openapi_url}",
                                   "title": f"{request.app.title} · API"}


@router.get("/docs", scope="read")
async def swagger_ui(request: Request) -> HTMLResponse:
    assets, common = _page(request)
    return get_swagger_ui_html(**common, swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                               swagger_css_url=f"{assets}/swagger-ui.css", swagger_favicon_url=f"{assets}/favicon.png")


@router.get("/redoc", scope="read")
async def redoc(request: Request) -> HTMLResponse:
    assets, common = _page(request)
    return get_redoc_html(**common, redoc_js_url=f"{assets}/redoc.standalone.js",
                          redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False)

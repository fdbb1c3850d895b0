"""Authorization at the edge: the scope each path needs, and what someone without it is
told (pages send people to the login; tools get 401 or 403). Routes may check more
(backend/api/operations.py, the admin page)."""

from __future__ import annotations

import re
from urllib.parse import quote

from backend.auth.asgi import Answer, Request
from backend.auth.principal import Principal

PUBLIC_PATHS = frozenset({"/healthz", "/login", "/favicon.ico", "/auth/oidc/login", "/auth/oidc/callback",
                          "/setup"})  # /setup answers only while no admin exists (backend/api/setup.py)
# Static files only: NiceGUI's own assets, ours, and the API reference's.
PUBLIC_PATTERN = re.compile(r"^/(heimdall-static|api-docs-static)/|^/_nicegui/[^/]+/"
                            r"(static|libraries|components|resources|dynamic_resources|esm)/")
API_PATTERN = re.compile(r"^/(api/|metrics$|openapi\.json$|docs$|redoc$)")  # machines get 401, not the login page
ADMIN_PATTERN = re.compile(r"^/(admin$|api/v1/admin/)")
BADGE_PATTERN = re.compile(r"^/api/v1/badges/[^/]+/[^/]+/(status|uptime)\.svg$")
INGEST_PATTERN = re.compile(r"^/api/v1/(signals|localizations)$")
OPERATOR_PATTERN = re.compile(r"^/api/v1/(silences|maintenance|incidents|notifications|announcements)(/|$)")
# The public status pages, their feeds and badges (backend/api/status_pages.py): for anyone.
STATUS_PAGE_PATTERN = re.compile(r"^/status/[a-z0-9][a-z0-9-]{0,63}(/feed|/badge\.svg)?$")
TARGETS_PATTERN = re.compile(r"^/(api/v1/targets(/|$)|targets$)")  # what is probed and where: operators, any method
AGENT_PATTERN = re.compile(r"^/api/v1/agent/")  # a probe agent's two calls (backend/api/sites.py)


def needed_scope(method: str, path: str, badges_public: bool = False) -> str | None:
    """The scope a request needs to pass the guard (routes may check more)."""
    if path in PUBLIC_PATHS or PUBLIC_PATTERN.match(path) or STATUS_PAGE_PATTERN.match(path) \
            or (badges_public and BADGE_PATTERN.match(path)):
        return None
    if ADMIN_PATTERN.match(path):
        return "admin"
    if AGENT_PATTERN.match(path):
        return "agent"
    if TARGETS_PATTERN.match(path):
        return "operator"
    if method == "POST" and INGEST_PATTERN.match(path):
        return "ingest"
    if method in ("POST", "PATCH", "DELETE") and OPERATOR_PATTERN.match(path):
        return "operator"
    return "read"


def authorize(request: Request, principal: Principal, badges_public: bool) -> Answer | None:
    scope = request.scope
    needed = needed_scope(scope.get("method", "GET"), request.path, badges_public)
    if needed is None or principal.may(needed):
        return None
    if principal.name is None and request.is_http and scope["method"] in ("GET", "HEAD") \
            and not API_PATTERN.match(request.path) and not request.path.startswith("/_nicegui_ws"):
        target = request.path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
        return Answer(303, headers=[(b"location", f"/login?next={quote(target, safe='')}".encode())])
    if principal.name is None:
        return Answer(401, "sign in, or send Authorization: Bearer <token>", [(b"www-authenticate", b"Bearer")])
    return Answer(403, f"this needs the {needed!r} scope")

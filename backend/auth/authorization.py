"""Authorization at the edge: the scope a request needs, read from the routes' own
declarations (backend/auth/scopes.py), and what someone without it is told (pages send
people to the login; tools get 401 or 403). Routes may check more
(backend/api/operations.py, the admin page)."""

from __future__ import annotations

import re
from urllib.parse import quote

from backend.auth.asgi import Answer, Request
from backend.auth.principal import Principal
from backend.auth.scopes import ScopeTable

API_PATTERN = re.compile(r"^/(api/|metrics$|openapi\.json$|docs$|redoc$)")  # machines get 401, not the login page


def authorize(request: Request, principal: Principal, table: ScopeTable, badges_public: bool) -> Answer | None:
    scope = request.scope
    needed = table.needed(scope.get("method", "GET"), request.path, badges_public)
    if needed is None or principal.may(needed):
        return None
    if principal.name is None and request.is_http and scope["method"] in ("GET", "HEAD") \
            and not API_PATTERN.match(request.path) and not request.path.startswith("/_nicegui_ws"):
        target = request.path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
        return Answer(303, headers=[(b"location", f"/login?next={quote(target, safe='')}".encode())])
    if principal.name is None:
        return Answer(401, "sign in, or send Authorization: Bearer <token>", [(b"www-authenticate", b"Bearer")])
    return Answer(403, f"this needs the {needed!r} scope")

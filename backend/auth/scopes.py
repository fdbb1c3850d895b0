"""The scope each route and page needs, declared beside it, and the edge's table derived
from the routes themselves (backend/auth/authorization.py reads it).

A REST route is declared on a `ScopedRouter`: `@router.get("/api/v1/x", scope="read")`;
a route without a scope cannot be made (TypeError at import). A NiceGUI page says
`@needs("admin")` under its `@ui.page` (NiceGUI's wrapper keeps the mark). `ScopeTable`
walks the application's routes, in the order Starlette tries them, and answers the scope
a method and path need. What no route of ours declares needs `read`: NiceGUI's own
static assets are public (`STATIC_PATHS`), anything else of theirs (their socket, a
path nobody routes) needs a reader.

Scopes nest as roles do: `admin` holds `operator`, which holds `read` (`granted`), so a
token made with `--scope read,ingest,admin` may do what an operator may.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import APIRouter
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

PUBLIC = "public"  # anyone, without credentials
PUBLIC_BADGE = "public-badge"  # anyone when `[badges] public = true`, else a reader
DECLARABLE = frozenset({PUBLIC, PUBLIC_BADGE, "read", "ingest", "push", "operator", "admin", "agent"})
# What each scope holds besides itself (roles nest: admin > operator > read).
IMPLIES = {"admin": frozenset({"operator", "read"}), "operator": frozenset({"read"})}
MARK = "__heimdall_scope__"
# NiceGUI's own assets (its routes are not ours to declare): public, as any page needs them.
STATIC_PATHS = re.compile(r"^/_nicegui/[^/]+/(static|libraries|components|resources|dynamic_resources|esm)/"
                          r"|^/heimdall-static/|^/favicon\.ico$")
UNDECLARED = "read"


def granted(scopes: frozenset[str]) -> frozenset[str]:
    """The scopes held, with what each implies."""
    held = set(scopes)
    for scope in scopes:
        held |= IMPLIES.get(scope, frozenset())
    return frozenset(held)


def needs(scope: str) -> Callable[[Any], Any]:
    """Marks an endpoint (a page's function) with the scope it needs."""
    if scope not in DECLARABLE:
        raise ValueError(f"unknown scope {scope!r}; one of {', '.join(sorted(DECLARABLE))}")

    def mark(endpoint: Any) -> Any:
        setattr(endpoint, MARK, scope)
        return endpoint
    return mark


def declared(endpoint: Any) -> str | None:
    """The scope an endpoint was declared with (through wrappers), or None."""
    while endpoint is not None:
        scope = getattr(endpoint, MARK, None)
        if scope is not None:
            return scope
        endpoint = getattr(endpoint, "__wrapped__", None)
    return None


class ScopedRouter(APIRouter):
    """An APIRouter whose every route says the scope it needs."""

    def api_route(self, path: str, *, scope: str, **kwargs: Any) -> Callable[[Any], Any]:
        register = super().api_route(path, **kwargs)
        return lambda endpoint: register(needs(scope)(endpoint))

    def get(self, path: str, *, scope: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self.api_route(path, scope=scope, methods=["GET"], **kwargs)

    def post(self, path: str, *, scope: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self.api_route(path, scope=scope, methods=["POST"], **kwargs)

    def patch(self, path: str, *, scope: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self.api_route(path, scope=scope, methods=["PATCH"], **kwargs)

    def delete(self, path: str, *, scope: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self.api_route(path, scope=scope, methods=["DELETE"], **kwargs)

    def put(self, path: str, *, scope: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self.api_route(path, scope=scope, methods=["PUT"], **kwargs)


@dataclass(frozen=True)
class Entry:
    pattern: re.Pattern[str]
    methods: frozenset[str] | None  # None: any method (a mount)
    scope: str | None  # None: not declared (not ours)
    path: str
    endpoint: Any = None


def _walk(routes: list[Any], prefix: str = ""):
    """Every route in the order Starlette tries them, with the path it is reached at."""
    for route in routes:
        original = getattr(route, "original_router", None)  # FastAPI's included router
        if original is not None:
            yield from _walk(original.routes, prefix)
        elif isinstance(route, Mount) and getattr(route.app, "routes", None) is not None:
            yield from _walk(route.app.routes, prefix + route.path)  # NiceGUI's app, mounted at "/"
        else:
            yield prefix, route


def _entry(prefix: str, route: Any) -> Entry:
    path = prefix + getattr(route, "path", "")
    regex = route.path_regex.pattern
    pattern = re.compile("^" + re.escape(prefix) + regex.lstrip("^")) if prefix else route.path_regex
    if isinstance(route, Mount):
        scope = PUBLIC if isinstance(route.app, StaticFiles) else None  # files only: assets
        return Entry(pattern, None, scope, path)
    endpoint = getattr(route, "endpoint", None)
    methods = getattr(route, "methods", None)
    return Entry(pattern, frozenset(methods) if methods else None, declared(endpoint), path, endpoint)


class ScopeTable:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    @classmethod
    def of(cls, app: Any) -> "ScopeTable":
        return cls([_entry(prefix, route) for prefix, route in _walk(app.routes)])

    def ours(self) -> list[Entry]:
        """The routes this project defines (backend/, ui/): each must declare a scope."""
        found = []
        for entry in self.entries:
            try:
                source = inspect.getsourcefile(inspect.unwrap(entry.endpoint)) if entry.endpoint else None
            except TypeError:
                source = None
            if source and ("/backend/" in source or "/ui/" in source):
                found.append(entry)
        return found

    def needed(self, method: str, path: str, badges_public: bool = False) -> str | None:
        """The scope a request needs; None for anyone."""
        method = "GET" if method == "HEAD" else method
        scope: str | None = None
        for entry in self.entries:
            if not entry.pattern.match(path):
                continue
            if entry.methods is None or method in entry.methods:
                scope = entry.scope
                break
        if scope is None:  # a route of NiceGUI's or FastAPI's, or no route
            scope = PUBLIC if STATIC_PATHS.match(path) else UNDECLARED
        if scope == PUBLIC_BADGE:
            return None if badges_public else "read"
        return None if scope == PUBLIC else scope

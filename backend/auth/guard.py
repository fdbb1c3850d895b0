"""The checks at the edge of every request, HTTP and WebSocket alike: one pure ASGI
middleware in front of everything (REST, pages, NiceGUI's socket, /ws/updates), since a
guard in FastAPI's middleware stack would miss the raw /ws/updates endpoint in front of
it. Starlette's authentication middleware covers both scopes the same way.

A pipeline of steps, each in its own module, each answering instead of the app when it
must:

1. forwarded headers, believed from trusted proxies only (networks.py);
2. security headers on every HTTP answer (headers.py);
3. the `Host` is one of the gateway's names, else 400 (hosts.py);
4. a browser's `Origin` is allowed, else 403; CORS for allowed sites (origin.py);
5. the credentials presented are valid, else 401, or 429 after repeated failures
   (authentication.py);
6. the path's scope is held, else the login page, 401 or 403 (authorization.py).

The principal is left in `scope["state"]["principal"]` for the routes' finer checks.
Errors nobody handled are logged in one line, at most once every few seconds, never as
a traceback per request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from backend.auth.asgi import Answer, Receive, Request, Scope, Send, answer, client_address, respond, with_headers
from backend.auth.authentication import authenticate
from backend.auth.authorization import API_PATTERN, authorize
from backend.auth.headers import secured
from backend.auth.hosts import host_allowed
from backend.auth.networks import apply_forwarded
from backend.auth.origin import check_origin, cors_headers
from backend.auth.principal import Authenticator, headers_of, query_token, without_query_token
from backend.auth.scopes import ScopeTable
from backend.safety.sparse_log import SparseLog
from backend.storage.database import unavailable_reason

log = logging.getLogger("heimdall.auth")
errors_log = logging.getLogger("heimdall.errors")

ERROR_LOG_EVERY_S = 10.0

__all__ = ["Guard", "GuardStats", "client_address"]


@dataclass
class GuardStats:
    origin_refused: int = 0
    auth_refused: int = 0
    throttled: int = 0
    server_errors: int = 0


class Guard:
    def __init__(self, app: Callable, auth: Authenticator, routes: Any) -> None:
        self.app = app  # NiceGUI finds its uvicorn server by following `.app`
        self._auth = auth
        self._routes = routes  # the FastAPI app whose routes declare their scopes
        self._table: ScopeTable | None = None
        self.stats = GuardStats()
        self._last_error_log = 0.0
        self._errors_unlogged = 0
        self._host_log = SparseLog(log, ERROR_LOG_EVERY_S)  # anyone can send a foreign Host
        self._origin_log = SparseLog(log, ERROR_LOG_EVERY_S)  # and any Origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        auth = self._auth
        headers = headers_of(scope)
        peer = client_address(scope)
        address = apply_forwarded(scope, headers, auth.trusted_proxies)
        request = Request(scope, headers, peer, address, scope.get("path", ""))
        if request.is_http:
            send = with_headers(send, self._security_headers(request))
        refusal = self._check_host(request) or self._check_origin(request)
        if refusal is not None:
            await answer(request, receive, send, refusal)
            return
        principal = await authenticate(request, auth, self.stats)
        if isinstance(principal, Answer):
            await answer(request, receive, send, principal)
            return
        refusal = authorize(request, principal, self.scope_table, auth.config.badges.public)
        if refusal is not None:
            await answer(request, receive, send, refusal)
            return
        token_in_query = query_token(scope.get("query_string", b"")) is not None
        origin, cors_origin = headers.get("origin"), request.cors_origin
        # In place, and the headers dict let go: a /ws/updates connection keeps this frame
        # for hours, thousands of times over (memory per idle connection, bench/fanout.py).
        del headers, request
        scope["state"] = {**(scope.get("state") or {}), "principal": principal}
        if token_in_query:
            # Used up here: nothing behind the guard (routes, pages, their logs) ever sees it.
            scope["query_string"] = without_query_token(scope["query_string"])
        if origin is not None:
            send = with_headers(send, cors_headers(cors_origin))
        await self._call(scope, receive, send)

    @property
    def scope_table(self) -> ScopeTable:
        """Read from the routes at the first request, once every page and route is there."""
        if self._table is None:
            self._table = ScopeTable.of(self._routes)
        return self._table

    def _security_headers(self, request: Request) -> Callable:
        auth = self._auth
        api = bool(API_PATTERN.match(request.path))
        host = request.headers.get("host", "")
        scope = request.scope

        def change(headers: list) -> list:
            return secured(headers, csp=auth.csp, deny_framing=not auth.config.http.frame_ancestors,
                           https=scope.get("scheme") == "https", api=api, host_header=host)
        return change

    def _check_host(self, request: Request) -> Answer | None:
        # /healthz answers any Host: orchestrators probe by the container's address.
        if request.path == "/healthz" or host_allowed(request.headers.get("host"), self._auth.allowed_hosts):
            return None
        self._host_log.warning("refused a request for host %r at %s (address %s)",
                               request.headers.get("host", "")[:100], request.path[:200], request.address)
        return Answer(400, "unknown host, or not a valid host[:port]; see [http] public_url and allowed_hosts")

    def _check_origin(self, request: Request) -> Answer | None:
        refusal = check_origin(request, self._auth.config.http.public_url, self._auth.allowed_origins)
        if refusal is not None and refusal.status == 403:
            self.stats.origin_refused += 1
            self._origin_log.warning("refused a request from origin %r at %s (address %s)",
                                     request.headers.get("origin", "")[:200], request.path[:200], request.address)
        return refusal

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] in ("http.response.start", "websocket.accept", "websocket.close"):
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # a bug: one short line, never a traceback per request
            self.stats.server_errors += 1
            self._log_error(scope, exc)
            if not started and scope["type"] == "http":
                await respond(send, 500, b'{"detail":"internal error"}', [(b"content-type", b"application/json")])

    def _log_error(self, scope: Scope, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log < ERROR_LOG_EVERY_S:
            self._errors_unlogged += 1
            return
        more = f" (and {self._errors_unlogged} more since the last line)" if self._errors_unlogged else ""
        reason = unavailable_reason(exc)
        if reason is not None:  # answered 503: the storage's trouble, not a bug
            errors_log.warning("storage unavailable at %s %s: %s%s", scope.get("method", "WS"), scope.get("path"),
                               reason, more)
        else:
            errors_log.error("internal error at %s %s: %s: %s%s", scope.get("method", "WS"), scope.get("path"),
                             type(exc).__name__, str(exc)[:200], more)
        self._last_error_log, self._errors_unlogged = now, 0


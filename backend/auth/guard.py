"""The checks at the edge of every request, HTTP and WebSocket alike, in one pure ASGI
middleware in front of everything (REST, pages, NiceGUI's socket, /ws/updates): a guard
in FastAPI's middleware stack would miss the raw /ws/updates endpoint in front of it.

In order: the `Host` must be one of the gateway's names (400, backend/auth/hosts.py);
a browser's `Origin` must be allowed (403); an address that failed too often
waits (429); the credentials presented must be valid (401, or a refused handshake); a
path that is not public needs the `read` scope (pages redirect to the login instead).
The principal is left in `scope["state"]["principal"]` for the routes' finer checks
(ingestion needs `ingest`, the admin page `admin`). Errors nobody handled are logged in
one line, at most once every few seconds, never as a traceback per request.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from backend.auth.headers import secured
from backend.auth.hosts import host_allowed
from backend.auth.networks import address_in, forwarded_client
from backend.auth.origin import normalize, origin_allowed
from backend.auth.principal import (
    Authenticator,
    BadCredentials,
    Principal,
    headers_of,
    query_token,
    without_query_token,
)

log = logging.getLogger("heimdall.auth")
errors_log = logging.getLogger("heimdall.errors")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

PUBLIC_PATHS = frozenset({"/healthz", "/login", "/favicon.ico"})
# Static files only: NiceGUI's own assets, ours, and the API reference's.
PUBLIC_PATTERN = re.compile(r"^/(heimdall-static|api-docs-static)/|^/_nicegui/[^/]+/"
                            r"(static|libraries|components|resources|dynamic_resources|esm)/")
API_PATTERN = re.compile(r"^/(api/|openapi\.json$|docs$|redoc$)")
ADMIN_PATTERN = re.compile(r"^/(admin$|api/v1/admin/)")
BADGE_PATTERN = re.compile(r"^/api/v1/badges/[^/]+/[^/]+/(status|uptime)\.svg$")
INGEST_PATTERN = re.compile(r"^/api/v1/(signals|localizations)$")
OPERATOR_PATTERN = re.compile(r"^/api/v1/(silences|maintenance|incidents|notifications)(/|$)")
ERROR_LOG_EVERY_S = 10.0


@dataclass
class GuardStats:
    origin_refused: int = 0
    auth_refused: int = 0
    throttled: int = 0
    server_errors: int = 0


def needed_scope(method: str, path: str, badges_public: bool = False) -> str | None:
    """The scope a request needs to pass the guard (routes may check more)."""
    if path in PUBLIC_PATHS or PUBLIC_PATTERN.match(path) or (badges_public and BADGE_PATTERN.match(path)):
        return None
    if ADMIN_PATTERN.match(path):
        return "admin"
    if method == "POST" and INGEST_PATTERN.match(path):
        return "ingest"
    if method in ("POST", "DELETE") and OPERATOR_PATTERN.match(path):
        return "operator"
    return "read"


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class Guard:
    def __init__(self, app: Callable, auth: Authenticator) -> None:
        self.app = app  # NiceGUI finds its uvicorn server by following `.app`
        self._auth = auth
        self.stats = GuardStats()
        self._last_error_log = 0.0
        self._errors_unlogged = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = headers_of(scope)
        peer = client_address(scope)
        # Behind a trusted load balancer, the client it forwards for: throttles, logs and
        # the login audit then name the person, not the proxy. uvicorn's own reading of
        # these headers is off (backend/serving/server.py): this is the one rule.
        address = forwarded_client(peer, headers.get("x-forwarded-for"), self._auth.trusted_proxies)
        if address != peer:
            scope["client"] = (address, 0)
        if address_in(peer, self._auth.trusted_proxies) and headers.get("x-forwarded-proto") in ("http", "https"):
            secure = headers["x-forwarded-proto"] == "https"
            scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else \
                ("https" if secure else "http")
        path = scope.get("path", "")
        config = self._auth.config.http
        if scope["type"] == "http":
            send = self._secured(send, scope, headers.get("host", ""), path)
        # /healthz answers any Host: orchestrators probe by the container's address.
        if path != "/healthz" and not host_allowed(headers.get("host"), self._auth.allowed_hosts):
            log.warning("refused a request for host %r at %s (address %s)", headers.get("host", "")[:200], path,
                        address)
            await self._refuse(scope, receive, send, 400, "unknown host; see [http] public_url and allowed_hosts")
            return
        origin = headers.get("origin")
        allowed = self._auth.allowed_origins
        if origin is not None and not origin_allowed(origin, scope.get("scheme", "http"), headers.get("host", ""),
                                                     config.public_url, allowed):
            self.stats.origin_refused += 1
            log.warning("refused a request from origin %r at %s (address %s)", origin[:200], path, address)
            await self._refuse(scope, receive, send, 403, "this origin may not use the gateway; see [http] allowed_origins")
            return
        cors_origin = origin if origin is not None and normalize(origin) in allowed else None
        if cors_origin and scope["type"] == "http" and scope["method"] == "OPTIONS" \
                and "access-control-request-method" in headers:
            await self._preflight(send, cors_origin)
            return
        token_in_query = query_token(scope.get("query_string", b"")) is not None
        try:
            principal = await self._auth.identify(scope, headers, peer)
        except BadCredentials as problem:
            # A valid token is never refused for others' failures; wrong ones are slowed.
            wait = self._auth.throttle.retry_after(address)
            if wait:
                self.stats.throttled += 1
                await self._refuse(scope, receive, send, 429, f"too many failed attempts; try again in {wait} s",
                                   extra_headers=[(b"retry-after", str(wait).encode())])
                return
            self._auth.throttle.failed(address)
            self.stats.auth_refused += 1
            log.warning("refused credentials from %s at %s: %s", address, path, problem)
            await self._refuse(scope, receive, send, 401, "invalid token",
                               extra_headers=[(b"www-authenticate", b"Bearer")])
            return
        needed = needed_scope(scope.get("method", "GET"), path, self._auth.config.badges.public)
        if needed is not None and not principal.may(needed):
            await self._not_allowed(scope, receive, send, principal, needed)
            return
        # In place, and the headers dict let go: a /ws/updates connection keeps this frame
        # for hours, thousands of times over (memory per idle connection, bench/fanout.py).
        del headers
        scope["state"] = {**(scope.get("state") or {}), "principal": principal}
        if token_in_query:
            # Used up here: nothing behind the guard (routes, pages, their logs) ever sees it.
            scope["query_string"] = without_query_token(scope["query_string"])
        if cors_origin:
            send = self._with_cors(send, cors_origin)
        elif origin is not None:
            send = self._without_cors(send)  # NiceGUI's socket.io echoes any Origin, with credentials
        await self._call(scope, receive, send)

    async def _not_allowed(self, scope: Scope, receive: Receive, send: Send, principal: Principal,
                           needed: str) -> None:
        path = scope.get("path", "")
        if principal.name is None and scope["type"] == "http" and scope["method"] in ("GET", "HEAD") \
                and not API_PATTERN.match(path) and not path.startswith("/_nicegui_ws"):
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            await _respond(send, 303, b"", [(b"location", f"/login?next={quote(target, safe='')}".encode())])
            return
        if principal.name is None:
            await self._refuse(scope, receive, send, 401, "sign in, or send Authorization: Bearer <token>",
                               extra_headers=[(b"www-authenticate", b"Bearer")])
        else:
            await self._refuse(scope, receive, send, 403, f"this needs the {needed!r} scope")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                      extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        if scope["type"] == "websocket":
            # Closing before accepting refuses the handshake: the client sees HTTP 403.
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": detail}).encode()
        await _respond(send, status, body, [(b"content-type", b"application/json"), *(extra_headers or [])])

    async def _preflight(self, send: Send, origin: str) -> None:
        await _respond(send, 204, b"", [
            (b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin"),
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", b"Authorization, Content-Type"),
            (b"access-control-max-age", b"600")])

    def _secured(self, send: Send, scope: Scope, host: str, path: str) -> Send:
        """Every HTTP answer, refusals included, with the security headers (headers.py)."""
        auth = self._auth
        api = bool(API_PATTERN.match(path))

        async def secured_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": secured(
                    list(message.get("headers", [])), csp=auth.csp, deny_framing=not auth.config.http.frame_ancestors,
                    https=scope.get("scheme") == "https", api=api, host_header=host)}
            await send(message)
        return secured_send

    @staticmethod
    def _with_cors(send: Send, origin: str) -> Send:
        async def cors_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"access-control-allow-origin", origin.encode()),
                                                  (b"vary", b"Origin"),
                                                  (b"access-control-expose-headers", b"Retry-After, X-Heimdall-More")]}
            await send(message)
        return cors_send

    @staticmethod
    def _without_cors(send: Send) -> Send:
        async def plain_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                  if not k.lower().startswith(b"access-control-")]}
            await send(message)
        return plain_send

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
                await _respond(send, 500, b'{"detail":"internal error"}', [(b"content-type", b"application/json")])

    def _log_error(self, scope: Scope, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log < ERROR_LOG_EVERY_S:
            self._errors_unlogged += 1
            return
        more = f" (and {self._errors_unlogged} more since the last line)" if self._errors_unlogged else ""
        errors_log.error("internal error at %s %s: %s: %s%s", scope.get("method", "WS"), scope.get("path"),
                         type(exc).__name__, str(exc)[:200], more)
        self._last_error_log, self._errors_unlogged = now, 0


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

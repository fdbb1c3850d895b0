"""Authentication at the edge: who presents what (backend/auth/principal.py finds out),
and what a wrong credential gets: 401, or 429 for an address that keeps failing. A valid
token is never refused because of someone else's failures (backend/auth/throttle.py)."""

from __future__ import annotations

import logging

from backend.auth.asgi import Answer, Request
from backend.auth.principal import Authenticator, BadCredentials, Principal

log = logging.getLogger("heimdall.auth")


async def authenticate(request: Request, auth: Authenticator, stats) -> Principal | Answer:
    try:
        return await auth.identify(request.scope, request.headers, request.peer)
    except BadCredentials as problem:
        wait = auth.throttle.retry_after(request.address)
        if wait:
            stats.throttled += 1
            return Answer(429, f"too many failed attempts; try again in {wait} s",
                          [(b"retry-after", str(wait).encode())])
        auth.throttle.failed(request.address)
        stats.auth_refused += 1
        log.warning("refused credentials from %s at %s: %s", request.address, request.path, problem)
        return Answer(401, "invalid token", [(b"www-authenticate", b"Bearer")])

"""Which web origins may talk to the gateway from a browser. Pure.

A request from a browser carries `Origin`; it is accepted when it is the gateway's own
(its scheme, host and port are those of the request's `Host`, or of `[http] public_url`)
or listed in `[http] allowed_origins`. A request without `Origin` is a tool, not a
page, and is judged by its credentials alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from backend.auth.asgi import Answer, Request

DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def normalize(origin: str) -> str | None:
    """scheme://host:port in lower case, default ports explicit; None if not an origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port or DEFAULT_PORTS[parts.scheme]}"


def own_origin(scheme: str, host_header: str) -> str | None:
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return normalize(f"{scheme}://{host_header}") if host_header else None


def origin_allowed(origin: str, scheme: str, host_header: str, public_url: str, allowed: frozenset[str]) -> bool:
    wanted = normalize(origin)
    if wanted is None:
        return False
    if wanted == own_origin(scheme, host_header) or wanted in allowed:
        return True
    return bool(public_url) and wanted == normalize(public_url)


# -- the guard's step ----------------------------------------------------------------------

def check_origin(request: Request, public_url: str, allowed: frozenset[str]) -> Answer | None:
    """403 for a browser page of a site that may not use the gateway; the CORS preflight of
    one that may is answered here. Sets `request.cors_origin` for an allowed other site."""
    origin = request.headers.get("origin")
    if origin is None:
        return None
    if not origin_allowed(origin, request.scope.get("scheme", "http"), request.headers.get("host", ""), public_url,
                          allowed):
        return Answer(403, "this origin may not use the gateway; see [http] allowed_origins")
    if normalize(origin) in allowed:
        request.cors_origin = origin
        if request.is_http and request.scope["method"] == "OPTIONS" and "access-control-request-method" in request.headers:
            return Answer(204, headers=[
                (b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin"),
                (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
                (b"access-control-allow-headers", b"Authorization, Content-Type"),
                (b"access-control-max-age", b"600")])
    return None


def cors_headers(origin: str | None):
    """The answer's headers for an allowed other site, or without any CORS header at all
    (NiceGUI's socket.io echoes any Origin, with credentials)."""
    def change(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        if origin is None:
            return [(k, v) for k, v in headers if not k.lower().startswith(b"access-control-")]
        return [*headers, (b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin"),
                (b"access-control-expose-headers", b"Retry-After, X-Heimdall-More")]
    return change

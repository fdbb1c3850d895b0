"""Which web origins may talk to the gateway from a browser. Pure.

A request from a browser carries `Origin`; it is accepted when it is the gateway's own
(its scheme, host and port are those of the request's `Host`, or of `[http] public_url`)
or listed in `[http] allowed_origins`. A request without `Origin` is a tool, not a
page, and is judged by its credentials alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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

"""The security headers every answer carries, and relative redirects. Pure.

- `Content-Security-Policy`: as strict as NiceGUI allows. Its pages compile Vue
  templates in the browser and carry inline scripts, so scripts need 'unsafe-inline'
  and 'unsafe-eval'; everything else comes from the gateway itself, except the map
  tiles (`[map] tile_url`). `frame-ancestors` is 'none' unless `[http] frame_ancestors`
  names the sites that may frame the pages; `X-Frame-Options: DENY` says the same to
  older browsers (it cannot list sites, so it is left out when some are allowed).
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`.
- `Strict-Transport-Security` when the request came over https.
- `Cache-Control: no-store` on API answers that did not choose their own.
- A `Location` that names the request's own host is made relative: redirects never
  carry a host name taken from the request.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from backend.auth.asgi import Headers

HSTS = b"max-age=31536000"


def tile_source(tile_url: str) -> str:
    """The CSP source of a Leaflet tile template (`{s}` subdomains become a wildcard)."""
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""  # a path on the gateway itself: 'self'
    netloc = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    if "*" in netloc and not netloc.startswith("*."):
        netloc = "*." + netloc.split(".", 1)[-1]  # CSP allows a wildcard only as the leftmost label
    return f"{parts.scheme}://{netloc}"


def content_security_policy(tile_url: str, frame_ancestors: list[str], sign_in_provider: str = "") -> str:
    """`sign_in_provider`: the OIDC issuer, where signing out sends the browser after
    the logout form (form-action covers the redirect after a form)."""
    tiles = tile_source(tile_url)
    provider = urlsplit(sign_in_provider)
    forms = "form-action 'self'" + (f" {provider.scheme}://{provider.netloc}" if provider.netloc else "")
    framers = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:" + (f" {tiles}" if tiles else ""),
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        forms,
        f"frame-ancestors {framers}",
    ])


def relative_location(location: bytes, host_header: str) -> bytes:
    """`http://<own host>/x?y` becomes `/x?y`; anything else is left as it is."""
    text = location.decode("latin-1")
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and host_header and parts.netloc.lower() == host_header.lower():
        path = parts.path or "/"
        return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")
    return location


def secured(headers: Headers, *, csp: bytes, deny_framing: bool, https: bool, api: bool,
            host_header: str) -> Headers:
    """`headers` of an answer with the security headers added (a route's own choice kept)."""
    present = {name.lower() for name, _ in headers}
    out = [(name, relative_location(value, host_header) if name.lower() == b"location" else value)
           for name, value in headers]
    wanted: Headers = [(b"content-security-policy", csp), (b"x-content-type-options", b"nosniff"),
                       (b"referrer-policy", b"same-origin")]
    if deny_framing:
        wanted.append((b"x-frame-options", b"DENY"))
    if https:
        wanted.append((b"strict-transport-security", HSTS))
    if api:
        wanted.append((b"cache-control", b"no-store"))
    out += [(name, value) for name, value in wanted if name not in present]
    return out

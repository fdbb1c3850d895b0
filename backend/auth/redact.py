"""Secrets in configured URLs never leave the gateway: user info and query strings are
replaced by *** wherever a URL is shown, published or logged."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """http://user:pw@host/health?api_key=K -> http://***@host/health?api_key=***"""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "&".join(f"{pair.split('=', 1)[0]}=***" for pair in parts.query.split("&") if pair) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, "***" if parts.fragment else ""))


def redact_text(text: str) -> str:
    """Every URL inside a text (an error message, say) redacted."""
    return _URL.sub(lambda found: redact_url(found.group(0)), text)

"""Secrets in configured URLs never leave the gateway: user info and query strings are
replaced by *** wherever a URL is shown, published or logged."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator
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
    path = "/".join(_mask(segment) if _TOKEN_LIKE.match(segment) else segment for segment in parts.path.split("/"))
    return urlunsplit((parts.scheme, netloc, path, query, "***" if parts.fragment else ""))


# A path segment that is a key, not a name: 12 or more letters and digits, both present
# (/health/TOKENINPATH123), or 24 or more of anything but a dot (a base64 or hex key).
_TOKEN_LIKE = re.compile(r"^(?=[^.]*\d)(?=[^.]*[A-Za-z])[A-Za-z0-9_-]{12,}$|^[^.]{24,}$")


def redact_text(text: str) -> str:
    """Every URL inside a text (an error message, say) redacted."""
    return _URL.sub(lambda found: redact_url(found.group(0)), text)


# -- notification URLs (apprise) -------------------------------------------------------------
# A notification URL carries its secrets anywhere: a bot token as the "host"
# (tgram://TOKEN/chat), keys as path segments (prowl://KEY, slack://T/B/SECRET), a topic
# (ntfy://TOPIC), a token in a webhook's path (json://host/hook/TOKEN). What is shown keeps
# what tells two rules apart and is never secret: the scheme, a real host and its port,
# plain words of the path (/hook, /health), the query's keys.

_PLAIN_WORD = re.compile(r"^[a-z][a-z_-]{0,23}$")  # "hook", "health", "alerts": no digits, no capitals
_PART = re.compile(r"[^/:@?&=#]+")


def _mask(text: str) -> str:
    return f"{text[0]}…{text[-1]}" if len(text) >= 8 else "***"


def _real_host(host: str) -> bool:
    """A host name or address (not a token standing where apprise reads its "host")."""
    if host == "localhost" or host.startswith("["):
        return True
    try:
        import ipaddress

        ipaddress.ip_address(host)
        return True
    except ValueError:
        return "." in host and all(part and len(part) < 64 for part in host.split("."))


def apprise_secrets(url: str) -> set[str]:
    """The parts of a URL apprise itself treats as secret: those its `url(privacy=True)`
    hides (empty when apprise does not know the URL)."""
    kept = _apprise_log.quiet({part for part in _PART.findall(url)[1:] if len(part) > 3})  # it logs bad keys
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if not plugin:
            return set()
        private = set(_PART.findall(plugin.url(privacy=True)))
        return {part for part in _PART.findall(plugin.url(privacy=False)) if part not in private and len(part) > 3}
    except Exception:  # a plugin's bug: fall back on the shape rules alone
        return set()
    finally:
        _apprise_log.local.secrets = kept


def redact_notification_url(url: str) -> str:
    """A notification URL as it may be shown: json://127.0.0.1:8080/hook/T…3?token=***"""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    try:
        port, host = parts.port, parts.hostname or ""
    except ValueError:  # tgram://123456:ABC/chat: a token where a host:port would be
        port, host = None, parts.netloc.rsplit("@", 1)[-1]
    secret = {part.lower() for part in apprise_secrets(url)}
    shown_host = host if host and _real_host(host) and host.lower() not in secret else (_mask(host) if host else "")
    netloc = ("***@" if "@" in parts.netloc else "") + shown_host + (f":{port}" if port else "")
    path = "/".join(segment if not segment or (_PLAIN_WORD.match(segment) and segment.lower() not in secret)
                    else _mask(segment) for segment in parts.path.split("/"))
    query = "&".join(f"{pair.split('=', 1)[0]}=***" for pair in parts.query.split("&") if pair) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


class _AppriseLogRedaction:
    """A logging filter on apprise's logger: the secrets of the URL being sent in this
    thread never reach the log (apprise quotes a key it finds malformed, for one)."""

    def __init__(self) -> None:
        import threading

        self.local = threading.local()

    def quiet(self, secrets: set[str]) -> set[str] | None:
        """Hide these from apprise's lines in this thread; returns what was hidden before."""
        import logging

        logger = logging.getLogger("apprise")
        if self not in logger.filters:
            logger.addFilter(self)
        kept = getattr(self.local, "secrets", None)
        self.local.secrets = secrets | (kept or set())
        return kept

    def filter(self, record) -> bool:
        secrets = getattr(self.local, "secrets", None)
        if secrets:
            message = record.getMessage()
            for secret in sorted(secrets, key=len, reverse=True):
                message = message.replace(secret, "***")
            record.msg, record.args = redact_text(message), None
        return True


_apprise_log = _AppriseLogRedaction()


@contextmanager
def quiet_apprise(url: str) -> Iterator[None]:
    """While apprise sends `url` in this thread, its log lines carry none of its parts
    but the scheme, a real host and plain words."""
    everything = {part for part in _PART.findall(url)[1:] if len(part) > 3}
    kept = _apprise_log.quiet(everything)
    try:
        shown = set(_PART.findall(redact_notification_url(url)))
        _apprise_log.local.secrets = {part for part in everything if part not in shown} | (kept or set())
        yield
    finally:
        _apprise_log.local.secrets = kept

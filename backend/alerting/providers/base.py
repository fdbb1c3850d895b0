"""What a notification provider is (backend/alerting/providers/__init__.py lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backend.safety.destinations import DestinationPolicy

Sent = tuple[bool, str | None]  # arrived, or why not (never quoting the URL's secrets)


@dataclass(frozen=True)
class Provider:
    name: str
    schemes: frozenset[str] | None  # the URL schemes it serves; None: any it knows, asked last
    # (url, title, body, timeout_s, destination policy) -> Sent; blocking, run in a thread.
    # Its connections obey the policy (an alert rule made at run time).
    send: Callable[[str, str, str, float, DestinationPolicy | None], Sent]
    shown: Callable[[str], str]  # the URL without its secrets

"""Notification providers, registered by URL scheme. A provider is one module with one
object that `PROVIDERS` lists: the schemes it serves (or `None`: whatever it knows,
asked last), how it sends one notification, and how its URLs are shown without their
secrets. Delivery and `notify-test` both send through `send` here, so a provider added
to the list is used by both.

Adding one (a direct Matrix client, say): `providers/matrix.py` with
`PROVIDER = Provider(schemes=frozenset({"matrix", "matrixs"}), send=..., shown=...)`,
listed in `PROVIDERS` before apprise, with its tests in tests/alerting/.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from backend.alerting.providers import apprise_provider
from backend.alerting.providers.base import Provider, Sent
from backend.safety.destinations import DestinationPolicy

# First match wins: providers with named schemes first, apprise (every scheme it knows) last.
PROVIDERS: list[Provider] = [apprise_provider.PROVIDER]


def scheme_of(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def provider_for(url: str) -> Provider | None:
    scheme = scheme_of(url)
    for provider in PROVIDERS:
        if provider.schemes is None or scheme in provider.schemes:
            return provider
    return None


def send(url: str, title: str, body: str, timeout_s: float, policy: DestinationPolicy | None = None) -> Sent:
    """One attempt at one notification URL, by its scheme's provider (blocking)."""
    provider = provider_for(url)
    if provider is None:
        return False, f"no notification provider for {scheme_of(url) or 'this'}:// URLs"
    return provider.send(url, title, body, timeout_s, policy)


def shown(url: str) -> str:
    """The URL as it may be shown: by its provider's rules for what is secret."""
    provider = provider_for(url)
    return provider.shown(url) if provider is not None else "***"

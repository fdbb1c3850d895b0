"""Addresses inside configured networks (trusted proxies): one rule for the guard, which
believes their user header and their X-Forwarded-For, and the edge, which exempts them
from the per-address cap."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def address_in(address: str | None, within: tuple[Network, ...]) -> bool:
    if not address or not within:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in within)


def forwarded_client(peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The client's address behind trusted proxies (a load balancer): X-Forwarded-For read
    from the right, skipping trusted proxies, believed only when the peer is one of them.
    Anything unreadable: the peer itself."""
    if not forwarded_for or not address_in(peer, proxies):
        return peer
    for hop in reversed(forwarded_for.split(",")[-16:]):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not address_in(hop, proxies):
            return hop
    return peer


def apply_forwarded(scope: dict, headers: dict[str, str], proxies: tuple[Network, ...]) -> str:
    """The guard's first step: behind a trusted load balancer, the scope names the client it
    forwards for (throttles, logs and the audit then name the person, not the proxy) and
    the scheme it was reached by. uvicorn's own reading of these headers is off
    (backend/serving/server.py): this is the one rule. Returns the client's address."""
    peer = scope["client"][0] if scope.get("client") else "unknown"
    address = forwarded_client(peer, headers.get("x-forwarded-for"), proxies)
    if address != peer:
        scope["client"] = (address, 0)
    if address_in(peer, proxies) and headers.get("x-forwarded-proto") in ("http", "https"):
        secure = headers["x-forwarded-proto"] == "https"
        scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else \
            ("https" if secure else "http")
    return address

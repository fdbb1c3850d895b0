"""Addresses inside configured networks (trusted proxies): one rule for the guard, which
believes their user header, and the edge, which exempts them from the per-address cap."""

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

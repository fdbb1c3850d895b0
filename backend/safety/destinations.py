"""Where the gateway may connect for what people made at run time (targets, alert rules
and the "Test" buttons): the destination policy of `[targets]`.

An operator who adds a target or an alert rule makes the gateway open connections of
their choosing (SSRF). The file's entries are the administrator's and stay unrestricted;
what is made in the browser or through the API is confined: `refuse_networks` (by
default link-local and the cloud metadata addresses) unless `allow_networks` makes an
exception, and never the gateway's own listening port (a form posted to its own
`/setup`, say). Loopback and private ranges stay allowed by default: receivers often
run on the same host or LAN; an exposed install refuses them with one line.

The check is on the address actually connected to, after DNS, for every kind and every
notification library alike: a Python audit hook on `socket.connect` (PEP 578) refuses a
connection made while `confined(policy)` is in force, in the task or thread that makes
it. A name that resolves to a refused address, a redirect, `0x7f000001` or
`[::ffff:169.254.169.254]` all end at the same check.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator

# Link-local (where the cloud metadata services live: 169.254.169.254, fd00:ec2::254 on
# AWS's IPv6), Alibaba's metadata address, and addresses that are nobody's to reach.
DEFAULT_REFUSED = ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32", "0.0.0.0/8",
                   "224.0.0.0/4", "ff00::/8", "255.255.255.255/32")
LOOPBACK_AND_PRIVATE = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
                        "100.64.0.0/10")


class DestinationRefused(PermissionError):
    """A connection the destination policy does not allow; the message says why."""


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class DestinationPolicy:
    """Picklable: it travels with each check to the probe worker."""

    refuse: tuple[str, ...] = DEFAULT_REFUSED
    allow: tuple[str, ...] = ()
    own: tuple[tuple[str, int], ...] = field(default=())  # the gateway's (address, port); "*": any of its addresses

    @cached_property
    def _refused(self) -> list[IpNetwork]:
        return [ipaddress.ip_network(n, strict=False) for n in self.refuse]

    @cached_property
    def _allowed(self) -> list[IpNetwork]:
        return [ipaddress.ip_network(n, strict=False) for n in self.allow]

    def refusal(self, host: str, port: int) -> str | None:
        """Why a connection to this address and port is refused, or None."""
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0].strip("[]"))
        except ValueError:
            return f"{host} is not an address"
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        reaches_this_host = address.is_loopback or address.is_unspecified  # 0.0.0.0 reaches loopback
        for own_address, own_port in self.own:
            if port == own_port and (reaches_this_host or own_address in ("*", str(address))):
                return f"{host}:{port} is this gateway itself"
        if any(address in network for network in self._allowed):
            return None
        if address.is_unspecified:
            address = ipaddress.ip_address("127.0.0.1" if address.version == 4 else "::1")
        for network in self._refused:
            if address in network:
                return f"{host} is in {network}, refused by [targets] refuse_networks"
        return None


_own_endpoints: list[tuple[str, int]] = []  # where this gateway listens (set when it binds)


def listening_on(host: str, port: int) -> None:
    """The gateway's own listening address: never a destination of what was made at run time."""
    wildcard = host in ("", "0.0.0.0", "::", "[::]")
    _own_endpoints.append(("*" if wildcard else host.strip("[]"), port))


def policy_of(settings) -> DestinationPolicy:
    """The policy of a `[targets]` section (backend/config/schema.py TargetsSettings)."""
    return DestinationPolicy(tuple(settings.refuse_networks), tuple(settings.allow_networks), tuple(_own_endpoints))


_POLICY: contextvars.ContextVar[DestinationPolicy | None] = contextvars.ContextVar("destination_policy", default=None)
_installed = threading.Lock()
_last_refusal = threading.local()
_hooked = False


def _on_audit(event: str, args: tuple) -> None:
    if event != "socket.connect":
        return
    policy = _POLICY.get()
    if policy is None:
        return
    sock, address = args
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        raise DestinationRefused("only network addresses may be reached from here")
    reason = policy.refusal(str(address[0]), int(address[1]))
    if reason is not None:
        _last_refusal.reason = reason  # for a library that swallows the error (apprise)
        raise DestinationRefused(reason)


def install() -> None:
    """Hooks the check into this process's sockets, once (an audit hook stays for good)."""
    global _hooked
    with _installed:
        if not _hooked:
            sys.addaudithook(_on_audit)
            _hooked = True


@contextmanager
def confined(policy: DestinationPolicy | None) -> Iterator[None]:
    """Connections made in this task or thread (and the tasks it starts) obey `policy`;
    None leaves them free (the file's entries)."""
    if policy is not None:
        install()
    _last_refusal.reason = None
    token = _POLICY.set(policy)
    try:
        yield
    finally:
        _POLICY.reset(token)


def refused_here() -> str | None:
    """The last refusal in this thread since `confined` began, if any."""
    return getattr(_last_refusal, "reason", None)


async def first_refusal(policy: DestinationPolicy, host: str, port: int, timeout_s: float = 3.0) -> str | None:
    """Why a name or address would be refused, for the error shown when an entry is saved:
    every address it resolves to now is checked (the connection itself is checked again,
    whatever the name resolves to then). A name that does not resolve is not refused here."""
    try:
        found = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                                       timeout_s)
    except (OSError, asyncio.TimeoutError, UnicodeError, ValueError):
        return None
    for family, _, _, _, address in found:
        if family in (socket.AF_INET, socket.AF_INET6):
            reason = policy.refusal(str(address[0]), port)
            if reason is not None:
                return reason
    return None

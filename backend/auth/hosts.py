"""Which `Host` headers the gateway answers. Pure.

A page that a browser fetched under a foreign host name (DNS rebinding: evil.test
resolving to 127.0.0.1) is same-origin with the attacker's site, so its Origin check
passes; refusing the foreign Host before routing closes that door, and keeps redirects
and links from being built from a name the gateway does not own.

Answered: the host of `[http] public_url`, `[http] allowed_hosts`, and, when the gateway
is bound to loopback, the loopback names. Bound to a wildcard address with neither
configured, any host is answered (login is required there; the start-up log says to set
public_url), since nobody told the gateway its names.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
WILDCARDS = frozenset({"0.0.0.0", "::", "[::]", ""})


# host[:port] as RFC 9110 has it: a DNS name (labels of letters, digits, '-', and the '_'
# container names use) or an IPv4 address, or [IPv6]; a port of 1 to 5 digits. Nothing a
# request chooses beyond that (a port of 50,000 zeros, a name of 10 KB) is read further.
NAME_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
HOST_HEADER = re.compile(rf"^(?:{NAME_LABEL}(?:\.{NAME_LABEL})*\.?|\[[0-9a-f:.]{{2,45}}\])(?::([0-9]{{1,5}}))?$")
MAX_HOST_CHARS = 261  # 253 for the name, ':' and a port of 5, or an IPv6 literal in brackets


def valid_host_header(host_header: str) -> bool:
    """Whether a Host header is a valid host[:port] (a port at most 65535)."""
    value = host_header.strip().lower()
    if not value or len(value) > MAX_HOST_CHARS:
        return False
    found = HOST_HEADER.match(value)
    return found is not None and (found.group(1) is None or int(found.group(1)) <= 65535)


def host_name(host_header: str) -> str | None:
    """The host of a Host header, lower case, without its port; None if unreadable."""
    value = host_header.strip().lower()
    if not value or not valid_host_header(value):
        return None
    if value.startswith("["):  # [v6]:port
        end = value.find("]")
        if end < 0:
            return None
        rest = value[end + 1:]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return value[:end + 1]
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return name or None


def _is_loopback(name: str) -> bool:
    if name in LOOPBACK_NAMES or name == "::1":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound_host: str, public_url: str, configured: list[str]) -> frozenset[str] | None:
    """The host names to answer, or None for any (see the module's note)."""
    names = {h.lower() for h in configured}
    if public_url:
        public = urlsplit(public_url).hostname
        if public:
            names.add(f"[{public}]" if ":" in public else public)
    bound = bound_host.strip().lower()
    if _is_loopback(bound):
        names |= LOOPBACK_NAMES
    elif bound in WILDCARDS:
        if not names:
            return None
    else:  # bound to one address: that address names itself
        names.add(f"[{bound.strip('[]')}]" if ":" in bound else bound)
    return frozenset(names)


def host_allowed(host_header: str | None, allowed: frozenset[str] | None) -> bool:
    """Whether to answer this Host; one that is not a valid host[:port] never is."""
    if host_header is not None and not valid_host_header(host_header):
        return False
    if allowed is None:
        return True
    name = host_name(host_header or "")
    if name is None:
        return False
    return name in allowed

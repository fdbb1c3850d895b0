"""Platform services that speak no HTTP (RabbitMQ on 5672, PostgreSQL on 5432, Redis on
6379, MinIO on 9000): a TCP connect, and the time it took.

    [[services]]
    name = "rabbitmq"
    kind = "tcp"
    address = "127.0.0.1:5672"

Accepted within the timeout is healthy (slower than `[polling] degraded_threshold_ms`
is degraded); refused, unreachable, a DNS failure or no answer in time is unreachable,
with the reason. Nothing is sent: the connection is closed as soon as it is open.
"""

from __future__ import annotations

import asyncio
import re
import socket

import aiohappyeyeballs

from backend.kinds.base import CheckSpec, TargetKind, WhereField
from backend.kinds.probing import ProbeClient, ProbeResult, Timer, describe_failure, source

ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]{1,253}):(\d{1,5})$")


def split_address(address: str) -> tuple[str, int] | None:
    """host:port (an IPv6 host in brackets) to (host, port); None if it is not one."""
    found = ADDRESS.match(address or "")
    if not found or not 0 < int(found.group(2)) < 65536:
        return None
    return found.group(1).strip("[]"), int(found.group(2))


def parse(connect_ms: float, degraded_after_ms: float) -> ProbeResult:
    """A connection accepted after `connect_ms`. Pure."""
    if connect_ms > degraded_after_ms:
        return ProbeResult("degraded", connect_ms, f"slow: connect took {connect_ms:.0f} ms "
                                                   f"(threshold {degraded_after_ms:.0f} ms)")
    return ProbeResult("healthy", connect_ms)


async def connect(address: str, timeout_s: float) -> float:
    """Open a TCP connection to host:port and close it: the ms it took. Raises ValueError
    for an address that is not host:port, OSError or TimeoutError when it cannot be had.
    Also the check of `[connectivity] references` (backend/alerting/connectivity.py)."""
    where = split_address(address)
    if where is None:
        raise ValueError(f"not host:port: {address!r}")
    timer = Timer()
    async with asyncio.timeout(timeout_s):
        # aiohappyeyeballs connects a socket of its own through loop.sock_connect, which
        # the destination policy sees under uvloop too (its create_connection would not).
        infos = await asyncio.get_running_loop().getaddrinfo(*where, type=socket.SOCK_STREAM)
        local = source()
        local_infos = await asyncio.get_running_loop().getaddrinfo(*local, type=socket.SOCK_STREAM) if local else None
        sock = await aiohappyeyeballs.start_connection(infos, local_addr_infos=local_infos)
    elapsed = timer.ms()
    sock.close()
    return elapsed


async def check(client: ProbeClient, spec: CheckSpec) -> ProbeResult:
    try:
        elapsed = await connect(spec.url, spec.timeout_s)
    except ValueError as problem:
        return ProbeResult("unreachable", None, str(problem))
    except Exception as exc:
        return ProbeResult("unreachable", None, describe_failure(exc, spec.timeout_s))
    return parse(elapsed, spec.degraded_after_ms)


def config_problem(target) -> str | None:
    if split_address(getattr(target, "address", "") or "") is None:
        return "a tcp service needs address = \"host:port\", e.g. \"127.0.0.1:5672\""
    return None


def _host_port(value: str) -> str:
    if split_address(value) is None:
        raise ValueError("must be host:port, e.g. 127.0.0.1:5672")
    return value


KIND = TargetKind("tcp", "services", check, label="TCP port",
                  where=WhereField("address", "host:port", "127.0.0.1:5672", _host_port, 300),
                  response_label="connect, ms", config_problem=config_problem)

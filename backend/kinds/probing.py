"""What every probe returns, and the shared rules for timing and for naming failures."""

from __future__ import annotations

import asyncio
import contextvars
import errno
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import aiohttp

from backend.safety.destinations import DestinationRefused


@dataclass(frozen=True)
class ProbeResult:
    """One check of one target. `status` is in the target kind's vocabulary."""

    status: str
    response_time_ms: float | None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# The probes' HTTP client. aiohttp's C parser costs a fraction of httpx's CPU for the
# probes' small GETs (bench/monitor_round.py: about 1.8 ms of CPU a request with httpx).
ProbeClient = aiohttp.ClientSession

# (client, url, timeout_s) -> result. Receiver probes never raise.
ReceiverProbe = Callable[[ProbeClient, str, float], Awaitable[ProbeResult]]

USER_AGENT = "HeimdallLive-monitor"

# The local address probes leave from: a probe agent's --bind-address, on a host with
# several uplinks (backend/sites/agent.py). None: the system's choice.
SOURCE_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("source_address", default=None)


def source() -> tuple[str, int] | None:
    """`local_addr` for a connection: the source address, any port."""
    address = SOURCE_ADDRESS.get()
    return (address, 0) if address else None


def probe_client(max_connections: int) -> ProbeClient:
    """A client for one round of probes. A new connection for each request, as a new
    visitor would open one: the response time includes connecting, round after round."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections, force_close=True, ttl_dns_cache=300,
                                       local_addr=source()),
        trust_env=False, headers={"User-Agent": USER_AGENT}, cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None))


@dataclass(frozen=True)
class Answer:
    """What the kinds read of a response besides its body."""

    status_code: int


class Timer:
    def __init__(self) -> None:
        self._start = time.perf_counter()

    def ms(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 1)


def _causes(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ECONNRESET: "connection reset",
    errno.ETIMEDOUT: "connection timed out",
}


def describe_failure(exc: BaseException, timeout_s: float) -> str:
    """A short human reason for a failed request: 'connection refused', 'timeout after 5 s'."""
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return f"timeout after {timeout_s:g} s"
    for cause in _causes(exc):
        if isinstance(cause, DestinationRefused):
            return f"not reached: {cause}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {getattr(cause, 'reason', None) or cause}"
        if isinstance(cause, socket.gaierror):
            return "DNS lookup failed"
        if getattr(cause, "errno", None) in _ERRNO_REASONS:
            return _ERRNO_REASONS[cause.errno]
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
    text = str(exc)
    if "Name or service not known" in text or "nodename nor servname" in text or "Temporary failure in name resolution" in text:
        return "DNS lookup failed"
    if "Connection refused" in text:
        return "connection refused"
    if "Network is unreachable" in text:
        return "network unreachable"
    if "All connection attempts failed" in text:
        return "connection failed"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        return "connection closed without a valid HTTP response"
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid URL"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


MAX_BODY_BYTES = 1024 * 1024  # a status page larger than this is not a status page


async def fetch(client: ProbeClient, method: str, url: str, timeout_s: float) -> tuple[Answer, bytes, float]:
    """One request with a hard total deadline, redirects not followed; returns the answer,
    its body (capped) and ms."""
    timer = Timer()
    async with asyncio.timeout(timeout_s):
        async with client.request(method, url, allow_redirects=False) as response:
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    break
    return Answer(response.status), bytes(body[:MAX_BODY_BYTES]), timer.ms()


async def get_and_parse(client: ProbeClient, url: str, timeout_s: float,
                        parse: Callable[[int, bytes, float], ProbeResult], down: str = "offline") -> ProbeResult:
    """GET `url` and hand the answer to a kind's parser; no answer at all is `down`, with the reason."""
    try:
        response, body, elapsed = await fetch(client, "GET", url, timeout_s)
    except Exception as exc:  # every failure is a status, never an exception in the round
        return ProbeResult(down, None, describe_failure(exc, timeout_s))
    return parse(response.status_code, body, elapsed)

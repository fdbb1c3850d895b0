"""The /ws/updates protocol rules, free of sockets (sans-I/O).

`parse_client_message` turns one received text frame into a request or a ClientError;
`check_frame` decides what to do with a frame before parsing; the message builders
produce every control message the server sends; `RateLimiter` is the flood rule.
The I/O (accepting, reading, writing) lives in `endpoint.py` and `connection.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs

from backend.events.envelope import decode
from backend.events.hub import Since
from backend.events.topics import ALL_TOPICS, SPELLINGS, UPSTREAM_SPELLINGS, WILDCARD, passes_through

# Close codes (RFC 6455 section 7.4.1 and the IANA registry).
CLOSE_GOING_AWAY = 1001  # the gateway is shutting down
CLOSE_UNSUPPORTED_DATA = 1003  # a binary frame
CLOSE_POLICY_VIOLATION = 1008  # flooding
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_SERVICE_RESTART = 1012  # the shared event log restarted (a new epoch)
CLOSE_TRY_AGAIN_LATER = 1013  # the client let its send queue fill
CLOSE_UNAUTHENTICATED = 4401  # its session ended or its token was revoked while it was open
CLOSE_FORBIDDEN = 4403  # its account or token no longer has the `read` scope


class ClientError(Exception):
    """A bad message: answered with an error event, the connection stays open."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Ignore:
    """A message that needs no answer (a client's pong or heartbeat echo)."""


@dataclass(frozen=True)
class Subscribe:
    topics: tuple[str, ...]
    since: Since | None = None


@dataclass(frozen=True)
class Unsubscribe:
    topics: tuple[str, ...]


Request = Ping | Ignore | Subscribe | Unsubscribe


@dataclass(frozen=True)
class CloseFrame:
    code: int
    reason: str


def check_frame(text: str | None, binary: bytes | None, max_bytes: int) -> CloseFrame | None:
    """A frame that ends the connection: binary, or text larger than `max_bytes`."""
    if binary is not None:
        return CloseFrame(CLOSE_UNSUPPORTED_DATA, "binary frames are not supported; send JSON text")
    if text is not None and len(text) * 4 > max_bytes and len(text.encode("utf-8")) > max_bytes:
        return CloseFrame(CLOSE_MESSAGE_TOO_BIG, f"message larger than {max_bytes} bytes")
    return None


def receives_all_at_first(query_string: bytes) -> bool:
    """What a connection receives before it subscribes, from its URL: `initial=all` (the
    default, as the original gateway did) or `initial=none`. Raises ClientError."""
    values = parse_qs(query_string.decode("latin-1")).get("initial", ["all"])
    if values[-1] not in ("all", "none"):
        raise ClientError("invalid_field", "query parameter 'initial' must be 'all' or 'none'")
    return values[-1] == "all"


def _topics(value: Any, field: str, passed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise ClientError("invalid_field", f"'{field}' must be a topic name or a non-empty list of topic names")
    unknown = [t for t in value if t != WILDCARD and t not in SPELLINGS and not passes_through(t, passed)]
    if unknown:
        known = ", ".join(sorted(ALL_TOPICS))
        aliases = ", ".join(sorted(UPSTREAM_SPELLINGS))
        platform = (f"; the platform's events named like {', '.join(passed)}" if passed else "")
        raise ClientError("unknown_topic",
                          f"unknown topic {unknown[0][:100]!r}; known topics: {known}, or '*' (also: {aliases})"
                          + platform)
    return tuple(dict.fromkeys(value))  # keep order, drop repeats


def _since(value: Any) -> Since | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ClientError("invalid_field", "'since' must be an object {\"epoch\": string, \"seq\": integer}")
    epoch, seq = value.get("epoch"), value.get("seq")
    if not isinstance(epoch, str) or not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ClientError("invalid_field", "'since' must be {\"epoch\": string, \"seq\": integer >= 0}")
    return Since(epoch, seq)


def _topics_and_since(message: dict[str, Any], passed: tuple[str, ...]) -> tuple[tuple[str, ...], Since | None]:
    data = message.get("data")
    if data is not None and not isinstance(data, dict):
        raise ClientError("invalid_field", "'data' must be an object")
    data = data or {}
    if "channels" in message:
        topics = _topics(message["channels"], "channels", passed)
    elif "events" in data:
        topics = _topics(data["events"], "data.events", passed)
    elif "event_name" in data:
        topics = _topics(data["event_name"], "data.event_name", passed)
    else:
        raise ClientError("invalid_field", "say which topics: data.events, data.event_name or channels")
    return topics, _since(data.get("since", message.get("since")))


def parse_client_message(text: str, passed: tuple[str, ...] = ()) -> Request:
    """One received text frame to a request; raises ClientError for anything else.
    `passed`: the patterns of the platform's events passed through (`[feed] pass_through`)."""
    try:
        message = decode(text)
    except (ValueError, RecursionError):
        raise ClientError("invalid_json", "message is not valid JSON") from None
    if not isinstance(message, dict):
        raise ClientError("not_an_object", "message must be a JSON object with an 'event' field")
    event = message.get("event")
    if not isinstance(event, str):
        raise ClientError("invalid_field", "'event' must be a string")
    if event == "ping":
        return Ping()
    if event in ("pong", "heartbeat"):
        return Ignore()
    if event == "subscribe":
        topics, since = _topics_and_since(message, passed)
        return Subscribe(topics, since)
    if event == "unsubscribe":
        topics, since = _topics_and_since(message, passed)
        if since is not None:
            raise ClientError("invalid_field", "'since' belongs to subscribe, not unsubscribe")
        return Unsubscribe(topics)
    raise ClientError("unknown_event", f"unknown event {event!r}; expected ping, subscribe or unsubscribe")


# Control messages. Each carries `seq`: every event of the client's topics up to that
# seq was queued to the client before this message, so it is a safe resume point.

def control(event: str, data: dict[str, Any], timestamp: str, seq: int) -> dict[str, Any]:
    return {"event": event, "data": data, "timestamp": timestamp, "seq": seq}


def connected_data(epoch: str, seq: int, version: str, heartbeat_interval_s: float) -> dict[str, Any]:
    return {"epoch": epoch, "seq": seq, "version": version, "heartbeat_interval_s": heartbeat_interval_s}


def subscribed_data(topics: tuple[str, ...], recovered: bool | None) -> dict[str, Any]:
    data: dict[str, Any] = {"events": list(topics)}
    if recovered is not None:
        data["recovered"] = recovered
    return data


def error_data(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


class RateLimiter:
    """Token bucket: `rate` messages a second sustained, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


"""What every step of the guard shares: the request as the steps see it, and the one way
to answer or refuse, for HTTP and WebSocket scopes alike."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


@dataclass
class Request:
    """One request on its way through the guard's steps."""

    scope: Scope
    headers: dict[str, str]  # lower-case names
    peer: str  # the address the connection comes from
    address: str  # the client's: the peer, or whom a trusted proxy forwards for
    path: str
    cors_origin: str | None = None  # an allowed other site's Origin: CORS headers go on the answer

    @property
    def is_http(self) -> bool:
        return self.scope["type"] == "http"


@dataclass(frozen=True)
class Answer:
    """What a step says instead of letting the request through."""

    status: int
    detail: str = ""  # for people, in the one error shape; empty: no body
    headers: Headers = field(default_factory=list)


async def respond(send: Send, status: int, body: bytes, headers: Headers) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def answer(request: Request, receive: Receive, send: Send, given: Answer) -> None:
    if not request.is_http:
        # Closing before accepting refuses the handshake: the client sees HTTP 403.
        await receive()
        await send({"type": "websocket.close", "code": 1008})
        return
    if not given.detail:
        await respond(send, given.status, b"", given.headers)
        return
    body = json.dumps({"detail": given.detail}).encode()
    await respond(send, given.status, body, [(b"content-type", b"application/json"), *given.headers])


def with_headers(send: Send, change: Callable[[Headers], Headers]) -> Send:
    """`send` with the headers of the HTTP answer's start changed by `change`."""
    async def changed_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": change(list(message.get("headers", [])))}
        await send(message)
    return changed_send

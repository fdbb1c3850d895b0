"""Each page belongs to the session that opened it, and acts only with that session's
rights as they are now.

NiceGUI routes a socket message (`event`, `javascript_response`, `ack`) to whatever page
its `client_id` names, and lets any socket handshake for any page: element ids would act
as credentials. Here, on top of NiceGUI's own handlers (registered again, the originals
called after the check):

- a socket may handshake for a page only with the credential that opened the page (the
  guard left the socket's principal in its ASGI scope);
- a message is taken only from a socket that did handshake for the page it names;
- the browser's `log` messages are not written to the server log (anyone could forge
  lines there);
- every open page is checked again against the store every `RECHECK_S` (backend/auth/
  revalidate.py): a page whose session ended, whose account was removed or lost rights,
  is sent to the login page and its events are ignored from then on;
- an action that needs a scope asks the store at the moment it runs (`authorised`).
"""

from __future__ import annotations

import json
import logging
import weakref
from typing import Any
from urllib.parse import parse_qs, quote

import socketio
from nicegui import Client
from nicegui import nicegui as nicegui_core
from nicegui.nicegui import sio

from backend.auth.principal import Authenticator, Principal

log = logging.getLogger("heimdall.auth")

# client id -> the principal that opened the page (absent: no guard ran, as in page tests)
_owners: dict[str, Principal] = {}
_revoked: set[str] = set()
_clients: weakref.WeakValueDictionary[str, Client] = weakref.WeakValueDictionary()


def bind(client: Client, principal: Principal | None) -> None:
    """The page being built belongs to `principal` (the guard's answer for its request)."""
    if principal is None:
        return
    _owners[client.id] = principal
    _clients[client.id] = client
    client.on_delete(lambda: _forget(client.id))


def _forget(client_id: str) -> None:
    _owners.pop(client_id, None)
    _revoked.discard(client_id)


def owner(client: Client) -> Principal | None:
    return _owners.get(client.id)


def _socket_principal(environ: dict[str, Any] | None) -> Principal | None:
    scope = (environ or {}).get("asgi.scope") or {}
    return (scope.get("state") or {}).get("principal")


def may_handshake(client_id: str | None, environ: dict[str, Any] | None) -> bool:
    """Whether a socket with `environ` may attach to the page `client_id`."""
    wanted = _owners.get(client_id or "")
    if wanted is None or environ is None:  # a page built without the guard (tests), or NiceGUI's test socket
        return True
    presented = _socket_principal(environ)
    return presented is not None and presented.credential == wanted.credential and client_id not in _revoked


def _attached(sid: str, client_id: Any) -> Client | None:
    """The page `client_id` names, if this socket handshook for it and it is not revoked."""
    client = Client.instances.get(client_id) if isinstance(client_id, str) else None
    if client is None or client.id in _revoked:
        return None
    if sid.startswith("test-") or client.id in sio.rooms(sid):
        return client
    log.warning("dropped a page message from a socket that did not open that page")
    return None


def revoke(client_id: str, reason: str) -> None:
    """The page loses its rights: its events are ignored, and the browser goes to the login page."""
    if client_id in _revoked:
        return
    _revoked.add(client_id)
    client = _clients.get(client_id)
    if client is None:
        return
    log.warning("sent an open page to the login page: %s", reason)
    target = "/login?next=" + quote(client.page.path if hasattr(client, "page") else "/", safe="")
    client.run_javascript(f"window.location.assign({json.dumps(target)})")


def open_pages() -> list[tuple[Principal, Any]]:
    """For the recheck: each open page's principal, with what to do when it lost rights."""
    return [(principal, lambda _now, cid=cid: revoke(cid, "its session or rights changed"))
            for cid, principal in list(_owners.items()) if cid not in _revoked and principal.credential]


async def authorised(auth: Authenticator, client: Client, scope: str) -> Principal | None:
    """The page's principal as the store has it now, if it still has `scope`; otherwise the
    page is revoked and None returned. For every action that changes something."""
    principal = _owners.get(client.id)
    if principal is None:  # a page built without the guard (the page tests): nothing to ask
        return Principal("test", "anonymous", frozenset({scope}))
    if client.id in _revoked:
        return None
    now = (await auth.recheck([principal])).get(principal.credential)
    if now is None or not now.may(scope):
        revoke(client.id, f"it lost the {scope!r} scope")
        return None
    return now


def install() -> None:
    """NiceGUI's socket handlers, each behind the checks above. Once per process."""
    original_connect = nicegui_core._on_connect
    original_handshake = nicegui_core._on_handshake

    @sio.on("connect")
    async def on_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if query.get("implicit_handshake") == "true" and not may_handshake(query.get("client_id"), environ):
            raise socketio.exceptions.ConnectionRefusedError("not this session's page")
        await original_connect(sid, environ, auth)

    @sio.on("handshake")
    async def on_handshake(sid: str, data: dict[str, Any]) -> bool:
        environ = None if sid.startswith("test-") else sio.get_environ(sid)
        if not isinstance(data, dict) or not may_handshake(data.get("client_id"), environ):
            return False
        return await original_handshake(sid, data)

    @sio.on("event")
    def on_event(sid: str, msg: dict) -> None:
        client = _attached(sid, msg.get("client_id") if isinstance(msg, dict) else None)
        if client is not None and client.has_socket_connection:
            client.handle_event(msg)

    @sio.on("javascript_response")
    def on_javascript_response(sid: str, msg: dict) -> None:
        client = _attached(sid, msg.get("client_id") if isinstance(msg, dict) else None)
        if client is not None:
            client.handle_javascript_response(msg)

    @sio.on("ack")
    def on_ack(sid: str, msg: dict) -> None:
        client = _attached(sid, msg.get("client_id") if isinstance(msg, dict) else None)
        if client is not None:
            client.outbox.prune_history(msg["next_message_id"])

    @sio.on("log")
    def on_log(sid: str, msg: Any) -> None:
        pass  # the browser's console stays in the browser: its text would forge server log lines

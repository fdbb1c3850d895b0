"""What a route reads of the request it answers, shared by the REST routes and the plain
HTML pages: the running gateway, who is asking, whether the browser is on https, and
the audit line of an action."""

from __future__ import annotations

from fastapi import Request

from backend.auth.guard import client_address
from backend.auth.principal import Authenticator
from backend.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def authenticator_of(request: Request) -> Authenticator:
    return request.app.state.authenticator


def is_secure(request: Request) -> bool:
    """Whether cookies must be `Secure`: the request came over https, or the gateway's
    public URL is an https one (TLS ended in front of it)."""
    public = authenticator_of(request).config.http.public_url
    return request.url.scheme == "https" or public.startswith("https://")


def actor_of(request: Request) -> str | None:
    """The name of who is asking (None: anonymous), as the guard found them."""
    principal = getattr(request.state, "principal", None)
    return getattr(principal, "name", None)


async def audit(request: Request, action: str, subject: str, detail: str | None = None) -> None:
    """An action audited with who did it and from where."""
    auth = runtime_of(request).auth
    await auth.store_call(auth.store.audit, action, actor_of(request), subject, client_address(request.scope), detail)

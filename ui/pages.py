"""The one way a page is made: `@page(state, path, title, scope)` declares the scope the
page needs (the guard's table reads it, backend/auth/scopes.py), waits until the shared
state is loaded, binds the tab to whoever opened it (ui/page_access.py) and checks the
scope again (a second lock behind the guard's). The page's own function then only
composes its parts; it finds who is asking with `principal(request)`."""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable

from fastapi import Request
from nicegui import ui

from backend.auth.principal import Principal
from backend.auth.scopes import needs
from ui import page_access
from ui.state import LiveState

OPEN_WITHOUT_A_GUARD = "read"  # the page tests build pages without the guard: readers' pages still open


def principal(request: Request) -> Principal | None:
    """Who the guard found this request comes from (None where no guard ran: the page tests)."""
    return getattr(request.state, "principal", None)


def page(state: LiveState, path: str, title: str, scope: str) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    def register(build: Callable[..., Awaitable[None]]) -> Any:
        @ui.page(path, title=title)
        @needs(scope)
        @functools.wraps(build)  # FastAPI reads the page's own parameters (request, a key)
        async def opened(request: Request, *args: Any, **kwargs: Any) -> None:
            who = principal(request)
            page_access.bind(ui.context.client, who)
            if (who is None and scope != OPEN_WITHOUT_A_GUARD) or (who is not None and not who.may(scope)):
                ui.label(f"This page needs the {scope!r} scope; sign in with an account that has it.")
                return
            await state.loaded.wait()
            await build(request, *args, **kwargs)
        return opened
    return register

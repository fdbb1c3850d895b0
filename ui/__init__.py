"""NiceGUI pages. They read the shared state the hub feeds; they never fetch from a target."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from nicegui import Client, ui
from nicegui import app as nicegui_app

from backend.auth.guard import client_address
from backend.kinds import RECEIVERS, SERVICES
from backend.runtime import Runtime
from ui import admin, dashboard, frame, page_access, receivers, system, target_page, targets
from ui.pages import page, principal
from ui.sessions import SessionSweeper
from ui.state import LiveState


def attach(app: FastAPI, runtime: Runtime) -> LiveState:
    """Mount the pages on the gateway's FastAPI app (after its own routes)."""
    state = register(runtime)
    tasks: list[asyncio.Task] = []

    async def start() -> None:
        await state.load()
        tasks.append(asyncio.create_task(state.update_figures_forever()))

    def stop() -> None:
        for task in tasks:
            task.cancel()

    nicegui_app.on_startup(start)
    nicegui_app.on_shutdown(stop)
    # The tab's session is kept 30 s after its socket drops, so a short outage resumes
    # without a reload; after that the page reloads and shows fresh state.
    ui.run_with(app, title="Heimdall Live", dark=None, show_welcome_message=False, reconnect_timeout=30.0,
                favicon="📡", language="en-GB")
    return state


def register(runtime: Runtime) -> LiveState:
    """The pages and their shared state (also used by the `user` tests); `state.load()` fills it."""
    state = LiveState(runtime)
    sweeper = SessionSweeper()
    nicegui_app.on_delete(sweeper.session_deleted)
    nicegui_app.on_shutdown(sweeper.stop)
    # The soak's figures: page sessions kept, and closed ones collected.
    runtime.page_figures = lambda: {"page_clients": len(Client.instances), **sweeper.figures()}
    frame.install()
    page_access.install()
    if runtime.revalidator is not None:
        runtime.revalidator.sources.append(page_access.open_pages)

    @page(state, "/", "Heimdall Live", "read")
    async def dashboard_page(request: Request) -> None:
        dashboard.render(state, principal(request), request.query_params)

    @page(state, "/websdrs", "Receivers · Heimdall Live", "read")
    async def receivers_page(request: Request) -> None:
        await receivers.render(state, principal(request), request.query_params)

    @page(state, "/websdrs/{key}", "Receiver · Heimdall Live", "read")
    async def receiver_page(request: Request, key: str) -> None:
        await target_page.render(state, principal(request), RECEIVERS.name, key, request.query_params)

    @page(state, "/services/{key:path}", "Service · Heimdall Live", "read")  # a name may hold a "/"
    async def service_page(request: Request, key: str) -> None:
        await target_page.render(state, principal(request), SERVICES.name, key)

    @page(state, "/system", "System · Heimdall Live", "read")
    async def system_page(request: Request) -> None:
        await system.render(state, principal(request), request.query_params)

    @page(state, "/admin", "Admin · Heimdall Live", "admin")
    async def admin_page(request: Request) -> None:
        await admin.render(state, principal(request), client_address(request.scope))

    @page(state, "/targets", "Targets · Heimdall Live", "operator")
    async def targets_page(request: Request) -> None:
        await targets.render(state, principal(request))

    return state

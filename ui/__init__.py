"""NiceGUI pages. They read the shared state the hub feeds; they never fetch from a target."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from nicegui import app as nicegui_app
from nicegui import ui

from backend.auth.guard import client_address
from backend.auth.principal import Principal
from backend.auth.scopes import declared, needs
from backend.kinds import RECEIVERS, SERVICES
from backend.runtime import Runtime
from ui import admin, dashboard, frame, page_access, receivers, system, target_page, targets
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


def _principal_of(request: Request) -> Principal | None:
    """Who the guard found this request comes from (None where no guard ran: the page tests)."""
    return getattr(request.state, "principal", None)


def register(runtime: Runtime) -> LiveState:
    """The pages and their shared state (also used by the `user` tests); `state.load()` fills it."""
    state = LiveState(runtime)
    frame.install()
    page_access.install()
    if runtime.revalidator is not None:
        runtime.revalidator.sources.append(page_access.open_pages)

    def principal_of(request: Request) -> Principal | None:
        """Who the guard found this request comes from; the page being built is theirs."""
        principal = _principal_of(request)
        page_access.bind(ui.context.client, principal)
        return principal

    @ui.page("/", title="Heimdall Live")
    @needs("read")
    async def dashboard_page(request: Request) -> None:
        await state.loaded.wait()
        dashboard.render(state, principal_of(request), request.query_params)

    @ui.page("/websdrs", title="Receivers · Heimdall Live")
    @needs("read")
    async def receivers_page(request: Request) -> None:
        await state.loaded.wait()
        await receivers.render(state, principal_of(request), request.query_params)

    @ui.page("/websdrs/{key}", title="Receiver · Heimdall Live")
    @needs("read")
    async def receiver_page(request: Request, key: str) -> None:
        await state.loaded.wait()
        await target_page.render(state, principal_of(request), RECEIVERS.name, key)

    @ui.page("/services/{key:path}", title="Service · Heimdall Live")  # a name may hold a "/"
    @needs("read")
    async def service_page(request: Request, key: str) -> None:
        await state.loaded.wait()
        await target_page.render(state, principal_of(request), SERVICES.name, key)

    @ui.page("/system", title="System · Heimdall Live")
    @needs("read")
    async def system_page(request: Request) -> None:
        await state.loaded.wait()
        await system.render(state, principal_of(request), request.query_params)

    @ui.page("/admin", title="Admin · Heimdall Live")
    @needs("admin")
    async def admin_page(request: Request) -> None:
        principal = principal_of(request)
        if principal is None or not principal.may(declared(admin_page)):  # the guard refuses first; a second lock
            ui.label("Admins only.")
            return
        await admin.render(state, principal, client_address(request.scope))

    @ui.page("/targets", title="Targets · Heimdall Live")
    @needs("operator")
    async def targets_page(request: Request) -> None:
        principal = principal_of(request)
        if principal is None or not principal.may(declared(targets_page)):  # the guard refuses first; a second lock
            ui.label("Operators and admins only.")
            return
        await targets.render(state, principal)

    return state

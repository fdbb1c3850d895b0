"""Builds the gateway: hub, storage, /ws/updates, REST. Pages are added by `ui/`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from backend import __version__
from backend.api import ingest, status
from backend.bus import Bus, LocalBus
from backend.hub import Hub
from backend.runtime import Runtime
from backend.settings import Settings
from backend.status import initial_state
from backend.storage import SQLiteStore
from backend.ws.endpoint import UpdatesEndpoint, UpdatesRouter
from backend.ws.manager import ConnectionManager

DATABASE_FILE = "heimdall.db"


def build_runtime(settings: Settings, api_token: str, bus: Bus | None = None) -> Runtime:
    config = settings.config
    hub = Hub(bus or LocalBus(), initial_state(config), replay_size=config.hub.replay_buffer)
    store = SQLiteStore(settings.data_dir / DATABASE_FILE)
    manager = ConnectionManager(hub, config.websocket)
    return Runtime(settings=settings, hub=hub, store=store, manager=manager, api_token=api_token)


def build_app(runtime: Runtime) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        heartbeat = asyncio.create_task(runtime.manager.heartbeat_loop())
        try:
            yield
        finally:
            heartbeat.cancel()
            runtime.manager.close_all()
            await runtime.store.close()

    app = FastAPI(title="Heimdall Live", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    app.include_router(status.router)
    app.include_router(ingest.router)
    return app


def with_updates_endpoint(app: FastAPI, runtime: Runtime) -> UpdatesRouter:
    """The ASGI app to serve: /ws/updates in front, the FastAPI app (REST, pages) behind."""
    return UpdatesRouter(app, UpdatesEndpoint(runtime.manager))

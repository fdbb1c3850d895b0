"""The running gateway's parts, built once and shared by the routes, pages and jobs."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from backend.alerting.engine import AlertEngine
from backend.auth.principal import Authenticator
from backend.config.loading import Settings
from backend.config.schema import Config
from backend.events.hub import Hub
from backend.monitor.poller import Monitor
from backend.storage import Database, HistoryStore, RecordStore
from backend.ws.manager import ConnectionManager


@dataclass
class Runtime:
    settings: Settings
    hub: Hub
    database: Database
    records: RecordStore
    history: HistoryStore
    monitor: Monitor
    manager: ConnectionManager
    api_token: str
    auth: Authenticator
    alerts: AlertEngine
    outbox: Any = None  # backend.ingest.outbox.Outbox: stored records on their way to the event log
    instances: Any = None  # backend.cluster.instances.InstanceRegistry, with several gateways on Redis
    revalidator: Any = None  # backend.auth.revalidate.Revalidator: open pages and sockets checked again

    def event_bus_state(self) -> str:
        """`local` (one process), or `up` / `down` for the shared log on Redis."""
        connected = getattr(self.hub.bus, "connected", None)
        return "local" if connected is None else ("up" if connected else "down")
    started_monotonic: float = field(default_factory=time.monotonic)
    # Extra coroutines to run while the server runs (the demo network, say).
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    guard: Any = None  # the Guard in front of the app, once it is built (its figures)
    metrics: Any = None  # backend.metrics.collector.Metrics, made once the runtime exists
    edge: Any = None  # the connection limits of the HTTP server (backend/serving/edge.py), once serving
    # Called with the new Config after a reload took effect (the pages redraw their targets).
    config_listeners: list[Callable[[Config], None]] = field(default_factory=list)

    def uptime_s(self) -> float:
        return time.monotonic() - self.started_monotonic

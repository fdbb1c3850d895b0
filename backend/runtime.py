"""The running gateway's parts, built once by backend/app.py (the composition root) and
shared by the routes, pages and jobs. Each part is typed; those made after the runtime
(they read it) start as None."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from backend.alerting.engine import AlertEngine
from backend.auth.principal import Authenticator
from backend.config.loading import Settings
from backend.config.schema import Config
from backend.events.hub import Hub
from backend.monitor.poller import Monitor
from backend.storage import Database, HistoryStore, RecordStore
from backend.ws.manager import ConnectionManager

if TYPE_CHECKING:  # these modules read the runtime themselves
    from backend.auth.guard import Guard
    from backend.auth.oidc import OidcClient
    from backend.auth.revalidate import Revalidator
    from backend.cluster.instances import InstanceRegistry
    from backend.ingest.outbox import Outbox
    from backend.ingest.push import PushStore
    from backend.serving.edge import EdgeLimits
    from backend.statuspage.page import StatusPages


class Reloader(Protocol):
    applied: int
    refused: int

    async def reload(self, why: str = "SIGHUP", read_file: bool = True) -> bool: ...


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
    outbox: Outbox | None = None  # stored records on their way to the event log
    instances: InstanceRegistry | None = None  # with several gateways on Redis
    revalidator: Revalidator | None = None  # open pages and sockets checked again
    oidc: OidcClient | None = None  # single sign-on, when [auth.oidc] is configured
    status_pages: StatusPages | None = None  # the public status pages and their announcements
    file_config: Config | None = None  # the file's (or the demo's), before what was made in the browser
    # Applies a new configuration in place, once serving (backend/reconfigure/reloader.py,
    # a room above this one: only its shape is named here).
    reloader: Reloader | None = None
    push: PushStore | None = None  # push services' latest reports (backend/ingest/push.py)
    # The pages' own figures (ui/): sessions kept (`page_clients`), closed ones collected.
    page_figures: Callable[[], dict[str, Any]] | None = None
    feed: Any = None  # the platform's RabbitMQ feed, when [feed] has a URL (backend/feed/consumer.py)

    def parts(self) -> dict[str, str]:
        """The parts underneath, `up` or `down` (storage's with why: `down: …`): storage (the
        database, the disk), the event bus (Redis, with several gateways), the platform's
        feed (when configured). /healthz answers with them; every page shows what is down."""
        parts = {"storage": "down: " + self.database.unavailable if self.database.unavailable else "up"}
        bus = self.event_bus_state()
        if bus != "local":
            parts["event_bus"] = bus
        if self.feed is not None:
            parts["feed"] = "up" if self.feed.state.state == "connected" else "down"
        return parts

    def event_bus_state(self) -> str:
        """`local` (one process), or `up` / `down` for the shared log on Redis."""
        connected = getattr(self.hub.bus, "connected", None)
        return "local" if connected is None else ("up" if connected else "down")
    started_monotonic: float = field(default_factory=time.monotonic)
    # Extra coroutines to run while the server runs (the demo network, say).
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    guard: Guard | None = None  # in front of the app, once it is built (its figures)
    metrics: Any = None  # backend/metrics/collector.py Metrics, made once the runtime exists (a room above)
    edge: EdgeLimits | None = None  # the connection limits of the HTTP server, once serving
    # Called with the new Config after a reload took effect (the pages redraw their targets).
    config_listeners: list[Callable[[Config], None]] = field(default_factory=list)

    def uptime_s(self) -> float:
        return time.monotonic() - self.started_monotonic

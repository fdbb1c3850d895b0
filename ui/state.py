"""The one place the pages read from: fed by the hub, shared by every open tab.

Each tab subscribes to the Events below when it renders (NiceGUI unsubscribes it when
the tab goes away) and updates only what changed. No tab runs a timer for data, and
nothing here fetches from a target.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from typing import Any

from nicegui import Event, binding

from backend import __version__
from backend.events.envelope import Envelope
from backend.events.topics import (
    LOCALIZATIONS_UPDATED,
    SERVICES_HEALTH,
    SIGNALS_DETECTED,
    STATUS_CHANGED,
    WEBSDRS_STATUS,
)
from backend.kinds import GROUP_OF_TOPIC, GROUPS, RECEIVERS, SERVICES
from backend.locating.network import CoverageCache
from backend.runtime import Runtime
from backend.timefmt import iso_from_ms, iso_z
from ui.rows import counts_text, rows_of

RECENT_DETECTIONS = 50
RECENT_LOCALIZATIONS = 20
RECENT_CHANGES = 50
FIGURES_EVERY_S = 5.0
PAGE_UPDATE_EVERY_S = 0.1  # pages redraw at most this often, with every event since
PENDING_EVENTS_MAX = 10_000


@binding.bindable_dataclass
class GatewayFigures:
    """The gateway's own figures: one task updates them, every tab binds to them."""

    ws_clients: int = 0
    events_published: int = 0
    uptime_s: float = 0.0
    slow_consumers_closed: int = 0
    version: str = __version__
    event_bus: str = "local"  # local | up | down (several gateways on Redis)
    instances: str = ""  # the live gateway instances, when there are several
    gateway_problem: str = ""  # the gateway's own trouble (its network, its worker), shown on every page
    feed: str = ""  # the platform's RabbitMQ feed, in words (System page), when there is one
    storage: str = ""  # why storage is unavailable, while it is (a banner on every page)
    parts: str = ""  # the parts underneath and their state, in words (System page)


def feed_words(feed: Any, now_ms: int) -> str:
    """"connected · last heard 3 s ago · 120 messages a minute · 0 waiting in heimdall-live"."""
    state = feed.state
    if state.state == "connected":
        head = f"connected to {feed.shown_url()}"
    else:
        head = f"connecting to {feed.shown_url()} for {(now_ms - state.since_ms) // 1000} s: {state.reason or '…'}"
    heard = (f"last heard {(now_ms - state.last_heard_ms) // 1000} s ago" if state.last_heard_ms
             else "nothing heard yet")
    depth = f"{state.queue_depth} waiting in {feed.settings.queue}" if state.queue_depth is not None else ""
    return " · ".join(filter(None, [head, heard, f"{state.per_minute(time.monotonic())} messages a minute", depth]))


PART_NAMES = {"storage": "Storage", "event_bus": "Event bus", "feed": "Platform feed"}


def parts_words(parts: dict[str, str]) -> str:
    """"Storage: up · Event bus: down · Platform feed: up", as /healthz names them."""
    return " · ".join(f"{PART_NAMES.get(name, name)}: {state}" for name, state in parts.items())


class LiveState:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        hub = runtime.hub
        self.services: dict[str, dict[str, Any]] = dict(hub.latest(SERVICES_HEALTH).data)
        self.websdrs: dict[str, dict[str, Any]] = dict(hub.latest(WEBSDRS_STATUS).data)
        # Each group's table rows, built once per change for every tab, and their counts by state.
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.counts: dict[str, str] = {}
        for name in GROUPS:
            self._rebuild_rows(name)
        self.detections: deque[dict[str, Any]] = deque(maxlen=RECENT_DETECTIONS)
        self.localizations: deque[dict[str, Any]] = deque(maxlen=RECENT_LOCALIZATIONS)
        self.changes: deque[dict[str, Any]] = deque(maxlen=RECENT_CHANGES)
        self.detections_total = 0
        self._per_minute: Counter[int] = Counter()  # detections of the last 24 h, by minute received
        self.last_event_at: str | None = None
        self.figures = GatewayFigures()
        self.coverage = CoverageCache()  # the maps' coverage layers, one grid for every tab
        runtime.alerts.listeners.append(self._alerts_changed)
        runtime.alerts.outcomes.listeners.append(self._alerts_changed)
        self.loaded = asyncio.Event()  # pages wait for it: a page opened at start-up shows stored data too

        # (group name, {key: the row before}) for the rows that changed: tables send only those.
        self.rows_changed: Event[str, dict[str, dict[str, Any] | None]] = Event()
        self.detections_added: Event[list[dict[str, Any]]] = Event()  # oldest first
        self.localization_added: Event[dict[str, Any]] = Event()
        self.change_added: Event[dict[str, Any]] = Event()
        self.changes_added: Event[list[dict[str, Any]]] = Event()  # the same, together, newest first
        self.summary_changed: Event[()] = Event()
        self.config_changed: Event[Any] = Event()  # after a configuration reload
        self.alerts_changed: Event[()] = Event()  # incidents opened or resolved, notifications sent
        # Events wait here for the pages (see _on_event); bounded, for a flood far beyond
        # what a page shows anyway.
        self._pending: deque[Envelope] = deque(maxlen=PENDING_EVENTS_MAX)
        self._apply_scheduled = False
        self._last_applied = 0.0
        hub.subscribe(self._on_event)
        runtime.config_listeners.append(self._on_config)
        runtime.alerts.listeners.append(self.alerts_changed.emit)
        runtime.alerts.outcomes.listeners.append(self.alerts_changed.emit)  # a notification's outcome kept

    async def load(self) -> None:
        """What storage has from before this process started."""
        records, history = self.runtime.records, self.runtime.history
        self.detections.extend(await records.latest("detections", RECENT_DETECTIONS))
        self.localizations.extend(await records.latest("localizations", RECENT_LOCALIZATIONS))
        self.changes.extend(self.change_entry(change) for change in await history.changes(None, None, RECENT_CHANGES))
        self.detections_total = await records.count("detections")
        since = iso_z(datetime.now(UTC) - timedelta(hours=24))
        self._per_minute[int(time.time() // 60)] += await records.count("detections", since)
        self.loaded.set()

    def names(self, kind: str) -> dict[str, str]:
        """Target ids to the names operators read, from the running configuration."""
        group = GROUPS.get(kind)
        return group.names(self.runtime.settings.config) if group else {}

    def change_entry(self, change: dict[str, Any]) -> dict[str, Any]:
        """A state change as the pages show it, from the store (`ts_ms`) or a live event (`since`)."""
        at = iso_from_ms(change["ts_ms"]) if change.get("ts_ms") is not None else change.get("since")
        kind, key = change.get("kind", ""), change.get("id")
        return {**change, "at": at, "name": change.get("name") or self.names(kind).get(key or "", key)}

    def entries(self, group_name: str) -> dict[str, dict[str, Any]]:
        return {SERVICES.name: self.services, RECEIVERS.name: self.websdrs}[group_name]

    def _rebuild_rows(self, group_name: str) -> dict[str, dict[str, Any] | None]:
        """Build the group's rows from its entries; returns the changed ones as they were."""
        old = self.rows.get(group_name, {})
        new = rows_of(group_name, self.runtime.settings.config, self.entries(group_name),
                      self.runtime.alerts.quiet_reason)
        before = {key: old.get(key) for key, row in new.items() if old.get(key) != row}
        before.update({key: row for key, row in old.items() if key not in new})
        self.rows[group_name] = new
        self.counts[group_name] = counts_text(group_name, new.values())
        return before

    def _rows_from(self, group_name: str) -> None:
        before = self._rebuild_rows(group_name)
        if before:
            self.rows_changed.emit(group_name, before)

    def _on_config(self, config: Any) -> None:
        for name in GROUPS:
            self._rows_from(name)
        self.config_changed.emit(config)

    @property
    def detections_24h(self) -> int:
        self._forget_old_minutes()
        return sum(self._per_minute.values())

    @property
    def last_localization(self) -> dict[str, Any] | None:
        return self.localizations[0] if self.localizations else None

    def _forget_old_minutes(self) -> None:
        oldest = int(time.time() // 60) - 24 * 60
        for minute in [m for m in self._per_minute if m <= oldest]:
            del self._per_minute[minute]

    def _on_event(self, env: Envelope) -> None:
        """Called inside the hub's publish: only note the event. The pages hear of it
        after the publish, at most every PAGE_UPDATE_EVERY_S, with everything that came
        meanwhile: the cost of ingestion does not grow with open tabs, and a burst
        redraws each tab once."""
        self._pending.append(env)
        if env.event == SIGNALS_DETECTED:  # counted here, so a flood dropped below is still counted
            self.detections_total += 1
            self._per_minute[int(time.time() // 60)] += 1
        if not self._apply_scheduled:
            self._apply_scheduled = True
            # A lone event goes out on the next turn of the loop; during a burst, the
            # pages hear of it PAGE_UPDATE_EVERY_S after their last update.
            wait = self._last_applied + PAGE_UPDATE_EVERY_S - time.monotonic()
            asyncio.get_running_loop().call_later(max(0.0, wait), self._apply_pending)

    def _apply_pending(self) -> None:
        self._apply_scheduled = False
        self._last_applied = time.monotonic()
        pending, self._pending = self._pending, deque(maxlen=PENDING_EVENTS_MAX)
        services = websdrs = None
        detections: list[dict[str, Any]] = []
        localizations: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for env in pending:
            self.last_event_at = env.timestamp
            if env.event == SERVICES_HEALTH:
                services = self.services = dict(env.data)
            elif env.event == WEBSDRS_STATUS:
                websdrs = self.websdrs = dict(env.data)
            elif env.event == SIGNALS_DETECTED:
                self.detections.appendleft(env.data)
                detections.append(env.data)
            elif env.event == LOCALIZATIONS_UPDATED:
                self.localizations.appendleft(env.data)
                localizations.append(env.data)
            elif env.event == STATUS_CHANGED:
                change = self.change_entry(env.data)
                self.changes.appendleft(change)
                changes.append(change)
        if services is not None:
            self._rows_from(GROUP_OF_TOPIC[SERVICES_HEALTH].name)
        if websdrs is not None:
            self._rows_from(GROUP_OF_TOPIC[WEBSDRS_STATUS].name)
        if detections:
            self.detections_added.emit(detections[-RECENT_DETECTIONS:])
        for localization in localizations[-RECENT_LOCALIZATIONS:]:
            self.localization_added.emit(localization)
        for change in changes[-RECENT_CHANGES:]:
            self.change_added.emit(change)
        if changes:
            self.changes_added.emit(changes[-RECENT_CHANGES:][::-1])
        if services is not None or websdrs is not None or detections or localizations:
            self.summary_changed.emit()

    def _alerts_changed(self) -> None:
        self.figures.gateway_problem = "; ".join(self.runtime.alerts.gateway_problems.values())
        for name in GROUPS:  # a silence or a maintenance window began or ended
            self._rows_from(name)

    async def update_figures_forever(self) -> None:
        """One task for the whole process; tabs see the values through bindings."""
        while True:
            await self.update_figures()
            await asyncio.sleep(FIGURES_EVERY_S)

    async def update_figures(self) -> None:
        """The gateway's figures now (a step of update_figures_forever)."""
        runtime = self.runtime
        self.figures.ws_clients = len(runtime.manager.connections)
        self.figures.events_published = runtime.hub.events_published
        self.figures.uptime_s = round(runtime.uptime_s())
        self.figures.slow_consumers_closed = runtime.manager.stats.slow_consumers_closed
        self.figures.event_bus = runtime.event_bus_state()
        self.figures.storage = runtime.database.unavailable or ""
        self.figures.parts = parts_words(runtime.parts())
        if runtime.feed is not None:
            self.figures.feed = feed_words(runtime.feed, int(time.time() * 1000))
        if runtime.instances is not None and self.figures.event_bus == "down":
            self.figures.instances = "unknown while the event bus is down"
        elif runtime.instances is not None:
            live = await runtime.instances.live()
            mine = runtime.instances.instance
            self.figures.instances = ", ".join(
                f"{item.get('id')}{' (poller)' if item.get('poller_leader') else ''}"
                f"{' (this page)' if item.get('id') == mine else ''}" for item in live) or "none seen"

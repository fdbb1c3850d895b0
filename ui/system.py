"""System (`/system`): the gateway's own figures, alerts and notifications, every service
(searchable, filters in the URL), and the latest state changes."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from nicegui import ui

from backend.alerting.engine import GATEWAY, READINESS, SITE
from backend.kinds import GROUPS, RECEIVERS, SERVICES
from backend.timefmt import iso_from_ms
from ui import format as fmt
from ui.changes import change_list
from ui.dashboard import LINK_CELL, SERVICE_COLUMNS, TIME_CELL
from ui.frame import empty_table_slot, header
from ui.state import LiveState
from ui.target_table import group_table

CHANGES_SHOWN = 30


def duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    return (f"{days} d " if days else "") + f"{rest // 3600} h {rest % 3600 // 60} min"


def incident_subject(incident: Mapping[str, Any], names: Mapping[str, str]) -> str:
    if incident["kind"] == READINESS:
        return f"readiness at {incident['id']} MHz"
    if incident["kind"] == SITE:
        return f"probing site {incident['id']}"
    if incident["kind"] == GATEWAY:
        return f"the gateway: {incident['id']}"
    return f"{incident['kind'][:-1]} {fmt.target_name(names, incident['id'])}"


class AlertsPanel:
    """The gateway's and the sites' problems, incidents and notifications; drawn again only
    when what it shows may have changed."""

    def __init__(self, state: LiveState) -> None:
        self.state = state
        self.engine = state.runtime.alerts
        self.drawn = self.signature()

    def signature(self) -> tuple:
        engine = self.engine
        return (tuple((i.id, i.acknowledged_ms) for i in engine.state.incidents.values()),
                tuple(engine.gateway_problems.items()), tuple(engine.site_problems.items()),
                engine.notifications_recorded)

    async def on_alerts(self) -> None:
        if self.signature() != self.drawn:
            self.drawn = self.signature()
            await self.show.refresh()

    @ui.refreshable_method
    async def show(self) -> None:
        state, engine = self.state, self.engine
        for part, reason in engine.gateway_problems.items():
            ui.label(f"Gateway problem ({part}): {reason}").classes("hl-problem").props("role=alert")
        for site, reason in engine.site_problems.items():
            ui.label(f"Probing site {site}: {reason}").classes("hl-problem").props("role=alert")
        incidents = await state.runtime.database.run(engine.store.incidents, 20)
        notifications = await state.runtime.database.run(engine.store.notifications, 20)
        config = state.runtime.settings.config
        alerting = bool(config.alerts or config.readiness_alerts)
        if not incidents and not notifications:  # nothing to show: one line, not two empty tables
            ui.label("No incidents and nothing sent yet." if alerting
                     else "No alerts are configured: add one on the Targets page or as [[alerts]] in the "
                          "configuration.").classes("hl-empty")
            return
        names = state.names(RECEIVERS.name)
        incident_table = _simple_table(
            [("alert", "Alert"), ("target", "Target"), ("opened", "Down since"), ("resolved", "Resolved"),
             ("reason", "Reason")],
            [{"key": i, "alert": n["alert"], "target": incident_subject(n, names),
              "href": GROUPS[n["kind"]].page_of(n["id"]) if n["kind"] in GROUPS else "",
              "opened": iso_from_ms(n["opened_ms"]), "resolved": iso_from_ms(n["resolved_ms"]) if n["resolved_ms"]
              else None, "reason": n["reason"] or ""} for i, n in enumerate(incidents)],
            "No incidents in the kept history." if alerting
            else "No alerts are configured ([[alerts]] in the configuration).")
        incident_table.add_slot("body-cell-opened", TIME_CELL)
        incident_table.add_slot("body-cell-target", LINK_CELL)
        incident_table.add_slot("body-cell-resolved", TIME_CELL.replace("—", "open"))
        ui.label("Notifications").classes("text-lg font-semibold")
        sent_table = _simple_table(
            [("at", "When"), ("event", "What"), ("alert", "Alert or watch"), ("subject", "About"),
             ("outcome", "Outcome"), ("detail", "Detail")],
            [{**n, "key": i, "at": iso_from_ms(n["ts_ms"]), "detail": n["detail"] or ""}
             for i, n in enumerate(notifications)], "Nothing sent yet.")
        sent_table.add_slot("body-cell-at", TIME_CELL)


class SitesPanel:
    """The gateway's own site and each agent's: whether its votes count, and why not."""

    def __init__(self, state: LiveState) -> None:
        self.state = state

    @ui.refreshable_method
    async def show(self) -> None:
        book = self.state.runtime.monitor.sites
        await book.load(None)
        sites = book.states(self.state.runtime.settings.config, int(time.time() * 1000))
        if len(sites) == 1 and sites[0].state == "ok":
            ui.label("Only this gateway probes. Agents on other sites can vote too: python main.py agent "
                     "(docs/deployment.md: Probes from several sites).").classes("hl-empty")
            return
        table = _simple_table(
            [("name", "Site"), ("state", "State"), ("last", "Last report"), ("groups", "Probes"),
             ("dropped", "Rounds dropped"), ("problem", "Why its votes do not count")],
            [{"key": site.name, "name": site.name + (" (this gateway)" if site.gateway else ""),
              "state": {"ok": "counting", "stale": "stale", "problem": "set aside"}[site.state],
              "last": iso_from_ms(site.last_report_ms) if site.last_report_ms and not site.gateway else None,
              "groups": ", ".join(site.groups), "dropped": site.dropped,
              "problem": "silent two polling intervals" if site.stale else (site.problem or "")} for site in sites],
            "No site reports.")
        table.add_slot("body-cell-last", TIME_CELL)


def gateway_figures(state: LiveState) -> None:
    """The gateway's own figures, live; the event bus and the instances when there are several."""
    figures = state.figures
    with ui.row().classes("gap-4 hl-live"):
        for title, attribute, shown in (
            ("External clients", "ws_clients", str),
            ("Events published", "events_published", str),
            ("Up for", "uptime_s", duration),
            ("Slow clients dropped", "slow_consumers_closed", str),
            ("Version", "version", str),
        ):
            with ui.card().classes("hl-card"):
                ui.label(title).classes("text-sm uppercase opacity-70")
                ui.label().classes("hl-figure").bind_text_from(figures, attribute, backward=shown)
    with ui.row().classes("gap-4 hl-live items-center"):
        ui.label().bind_text_from(figures, "parts", backward=lambda text: f"Parts underneath: {text}")
        if state.runtime.instances is not None:  # several gateways on Redis
            ui.label().bind_text_from(figures, "instances", backward=lambda text: f"Gateway instances: {text}")


def services(state: LiveState, query: Mapping[str, str]) -> None:
    if SERVICES.configured(state.runtime.settings.config):
        group_table(state, SERVICES.name, SERVICE_COLUMNS, query, "services",
                    "No service matches this search and these filters.")
    else:  # one line, not an empty table (services added later appear after a reload of the page)
        ui.label("No services are configured: add one on the Targets page or as [[services]] in the "
                 "configuration.").classes("hl-empty")


def heading(text: str) -> None:
    ui.html(f'<h2 class="text-2xl font-semibold">{text}</h2>', sanitize=False)


async def render(state: LiveState, principal: Any, query: Mapping[str, str]) -> None:
    """The page: its parts, in order, and what redraws them."""
    header("/system", principal, state.figures)
    alerts, sites = AlertsPanel(state), SitesPanel(state)
    with ui.column().classes("w-full p-4 gap-4"):
        heading("Gateway")
        gateway_figures(state)
        heading("Alerts")
        with ui.column().classes("w-full gap-2 hl-live"):
            await alerts.show()
        if state.runtime.feed is not None:
            heading("Platform feed")
            ui.label().classes("hl-live hl-feed").props('role=status aria-label="Platform feed"') \
                .bind_text_from(state.figures, "feed")
        heading("Probing sites")
        with ui.column().classes("w-full gap-2 hl-live"):
            await sites.show()
        heading("Services")
        services(state, query)
        heading("State changes")
        change_list(state, CHANGES_SHOWN)

    async def on_change(change: dict[str, Any]) -> None:
        if change.get("kind") == GATEWAY:
            await alerts.show.refresh()
        if change.get("kind") == SITE:
            await sites.show.refresh()

    state.change_added.subscribe(on_change)
    state.alerts_changed.subscribe(alerts.on_alerts)


def _simple_table(columns: list[tuple[str, str]], rows: list[dict[str, Any]], empty: str) -> ui.table:
    table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in columns],
                     rows=rows, row_key="key").props("dense flat wrap-cells").classes("w-full")
    empty_table_slot(table, empty)
    return table

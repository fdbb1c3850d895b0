"""System (`/system`): every service with its uptime and history, and the gateway's own figures."""

from __future__ import annotations

import time
from typing import Any

from nicegui import ui

from backend.kinds import RECEIVERS, SERVICES
from backend.timefmt import iso_from_ms
from ui import format as fmt
from ui.dashboard import STATUS_CELL, TIME_CELL, service_rows
from ui.frame import empty_table_slot, header, time_tag
from ui.state import LiveState

DAY_MS = 86_400_000


def duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    return (f"{days} d " if days else "") + f"{rest // 3600} h {rest % 3600 // 60} min"


async def render(state: LiveState, principal: Any = None) -> None:
    history = state.runtime.history
    header("/system", principal, state.figures)
    now_ms = int(time.time() * 1000)
    uptime_7d = await history.uptime(SERVICES.name, now_ms - 7 * DAY_MS)
    uptime_30d = await history.uptime(SERVICES.name, now_ms - 30 * DAY_MS)

    engine = state.runtime.alerts

    def rows(services: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**row, "uptime_7d": fmt.percent(uptime_7d.get(row["name"])),
                 "uptime_30d": fmt.percent(uptime_30d.get(row["name"])),
                 "status": " · ".join(filter(None, [row["status"], engine.quiet_reason(SERVICES.name, row["name"])]))}
                for row in service_rows(services)]

    @ui.refreshable
    async def alerts_section() -> None:
        for part, reason in engine.gateway_problems.items():
            ui.label(f"Gateway problem ({part}): {reason}").classes("hl-problem").props("role=alert")
        incidents = await state.runtime.database.run(engine.store.incidents, 20)
        notifications = await state.runtime.database.run(engine.store.notifications, 20)
        names = state.names(RECEIVERS.name)
        incident_table = _simple_table(
            [("alert", "Alert"), ("target", "Target"), ("opened", "Down since"), ("resolved", "Resolved"),
             ("reason", "Reason")],
            [{"key": i, "alert": n["alert"], "target": f"{n['kind'][:-1]} {fmt.target_name(names, n['id'])}",
              "opened": iso_from_ms(n["opened_ms"]), "resolved": iso_from_ms(n["resolved_ms"]) if n["resolved_ms"]
              else None, "reason": n["reason"] or ""} for i, n in enumerate(incidents)],
            "No incidents in the kept history." if state.runtime.settings.config.alerts
            else "No alerts are configured ([[alerts]] in the configuration).")
        incident_table.add_slot("body-cell-opened", TIME_CELL)
        incident_table.add_slot("body-cell-resolved", TIME_CELL.replace("—", "open"))
        ui.label("Notifications").classes("text-lg font-semibold")
        sent_table = _simple_table(
            [("at", "When"), ("event", "What"), ("alert", "Alert or watch"), ("subject", "About"),
             ("outcome", "Outcome"), ("detail", "Detail")],
            [{**n, "key": i, "at": iso_from_ms(n["ts_ms"]), "detail": n["detail"] or ""}
             for i, n in enumerate(notifications)], "Nothing sent yet.")
        sent_table.add_slot("body-cell-at", TIME_CELL)

    with ui.column().classes("w-full p-4 gap-4"):
        ui.html('<h2 class="text-2xl font-semibold">Gateway</h2>', sanitize=False)
        figures = state.figures
        with ui.row().classes("gap-4 hl-live"):
            for title, attribute, shown in (
                ("/ws/updates clients", "ws_clients", str),
                ("Events published", "events_published", str),
                ("Up for", "uptime_s", duration),
                ("Slow clients dropped", "slow_consumers_closed", str),
                ("Version", "version", str),
            ):
                with ui.card().classes("hl-card"):
                    ui.label(title).classes("text-sm uppercase opacity-70")
                    ui.label().classes("hl-figure").bind_text_from(figures, attribute, backward=shown)
        if state.runtime.instances is not None:  # several gateways on Redis
            with ui.row().classes("gap-4 hl-live items-center"):
                ui.label("Event bus: up").bind_visibility_from(figures, "event_bus", backward=lambda bus: bus == "up")
                ui.label("Event bus: down").bind_visibility_from(figures, "event_bus",
                                                                 backward=lambda bus: bus == "down")
                ui.label().bind_text_from(figures, "instances", backward=lambda text: f"Gateway instances: {text}")

        ui.html('<h2 class="text-2xl font-semibold">Alerts</h2>', sanitize=False)
        with ui.column().classes("w-full gap-2 hl-live"):
            await alerts_section()

        ui.html('<h2 class="text-2xl font-semibold">Services</h2>', sanitize=False)
        columns = [("name", "Service"), ("status", "Status"), ("response", "Response"), ("uptime", "Uptime 24 h"),
                   ("uptime_7d", "7 d"), ("uptime_30d", "30 d"), ("last_check", "Checked"), ("error", "Reason")]
        table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in columns],
                         rows=rows(state.services), row_key="name").props("flat wrap-cells").classes("w-full hl-live")
        table.add_slot("body-cell-status", STATUS_CELL)
        table.add_slot("body-cell-last_check", TIME_CELL)
        empty_table_slot(table, "No services are configured.")

        ui.html('<h2 class="text-2xl font-semibold">State changes</h2>', sanitize=False)
        changes = ui.column().classes("gap-1 hl-live")
        with changes:
            for change in list(state.changes)[:30]:
                change_row(change)
            if not state.changes:
                ui.label("No target has gone up or down in the kept history.").classes("hl-empty")

    def on_services(services: dict[str, Any]) -> None:
        table.rows = rows(services)
        table.update()

    def on_change(change: dict[str, Any]) -> None:
        for placeholder in [child for child in changes if "hl-empty" in child.classes]:
            placeholder.delete()
        with changes:
            row = change_row(change)
        row.move(changes, target_index=0)

    async def on_alerts() -> None:
        await alerts_section.refresh()

    async def on_gateway_change(change: dict[str, Any]) -> None:
        if change.get("kind") == "gateway":
            await alerts_section.refresh()

    state.services_changed.subscribe(on_services)
    state.change_added.subscribe(on_change)
    state.change_added.subscribe(on_gateway_change)
    state.alerts_changed.subscribe(on_alerts)


def _simple_table(columns: list[tuple[str, str]], rows: list[dict[str, Any]], empty: str) -> ui.table:
    table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in columns],
                     rows=rows, row_key="key").props("dense flat wrap-cells").classes("w-full")
    empty_table_slot(table, empty)
    return table


def change_row(change: dict[str, Any]) -> ui.row:
    with ui.row().classes("gap-3 items-center") as row:
        ui.html(f'<span class="hl-dot" style="background:{fmt.status_color(change.get("to"))}"></span>',
                sanitize=False)
        ui.label(f"{change.get('name') or change.get('id')}").classes("font-medium")
        ui.label(f"{change.get('from')} → {change.get('to')}")
        ui.html(time_tag(change.get("at")), sanitize=False).classes("opacity-80")
        if change.get("reason"):
            ui.label(change["reason"]).classes("opacity-70")
    return row

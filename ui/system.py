"""System (`/system`): every service with its uptime and history, and the gateway's own figures."""

from __future__ import annotations

import time
from typing import Any

from nicegui import ui

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
    header("/system", principal)
    now_ms = int(time.time() * 1000)
    uptime_7d = await history.uptime("services", now_ms - 7 * DAY_MS)
    uptime_30d = await history.uptime("services", now_ms - 30 * DAY_MS)

    def rows(services: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**row, "uptime_7d": fmt.percent(uptime_7d.get(row["name"])),
                 "uptime_30d": fmt.percent(uptime_30d.get(row["name"]))} for row in service_rows(services)]

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

    state.services_changed.subscribe(on_services)
    state.change_added.subscribe(on_change)


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

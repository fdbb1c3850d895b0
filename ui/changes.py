"""Recent state changes ("what changed"), newest first, each naming its target with a
link to the target's own page; new ones arrive as they happen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nicegui import ui

from backend.kinds import GROUPS
from ui import format as fmt
from ui.frame import time_tag
from ui.state import LiveState

EMPTY = "No target has gone up or down in the kept history."


def change_row(change: Mapping[str, Any]) -> ui.row:
    group = GROUPS.get(change.get("kind", ""))
    name = change.get("name") or change.get("id") or ""
    with ui.row().classes("gap-x-3 gap-y-0 items-center hl-change") as row:
        ui.html(f'<span class="hl-dot" style="background:{fmt.status_color(change.get("to"))}"></span>',
                sanitize=False)
        if group is not None and change.get("id"):
            ui.link(name, group.page_of(change["id"])).classes("hl-target-link")
        else:
            ui.label(name).classes("font-medium")
        ui.label(f"{change.get('from')} → {change.get('to')}")
        ui.html(time_tag(change.get("at")), sanitize=False).classes("opacity-80")
        if change.get("reason"):
            ui.label(change["reason"]).classes("opacity-70 break-words min-w-0")
    return row


def change_list(state: LiveState, shown: int) -> ui.column:
    """The `shown` latest changes, kept current."""
    column = ui.column().classes("gap-1 hl-live w-full")
    with column:
        for change in list(state.changes)[:shown]:
            change_row(change)
        if not state.changes:
            ui.label(EMPTY).classes("hl-empty")

    def on_change(change: Mapping[str, Any]) -> None:
        for placeholder in [child for child in column if "hl-empty" in child.classes]:
            placeholder.delete()
        with column:
            row = change_row(change)
        row.move(column, target_index=0)
        rows = list(column)
        for old in rows[shown:]:
            old.delete()

    state.change_added.subscribe(on_change)
    return column

"""Receivers (`/websdrs`): every receiver in one compact table, searchable, filterable and
sortable, the view kept in the URL (`/websdrs?q=torino&status=offline&kind=kiwisdr`).
A receiver's own page (`/websdrs/{id}`, ui/target_page.py) has its charts and history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nicegui import ui

from backend.kinds import RECEIVERS
from ui.frame import header
from ui.live_table import Column
from ui.state import LiveState
from ui.target_table import group_table

PATH = "/websdrs"

COLUMNS: list[Column] = [
    ("status", "Status", True), ("name", "Receiver", True), ("kind", "Kind", False),
    ("location", "Location", False), ("users", "Users", False), ("latency", "Response", True),
    ("readiness", "Ready", False), ("since", "Last change", False), ("reason", "Reason", True),
]


async def render(state: LiveState, principal: Any, query: Mapping[str, str]) -> None:
    header(PATH, principal, state.figures)
    with ui.column().classes("w-full p-3 gap-3 hl-live"):
        ui.html('<h2 class="text-2xl font-semibold">Receivers</h2>', sanitize=False)
        if not state.rows[RECEIVERS.name]:
            ui.label("No receivers are configured.").classes("text-lg hl-empty")
        group_table(state, RECEIVERS.name, COLUMNS, query, "receivers",
                    "No receiver matches this search and these filters.")

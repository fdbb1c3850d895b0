"""A group's table as every page shows it: its counts by state, its search and filters,
and the live table, the view kept in the URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nicegui import ui

from backend.kinds import kind_names
from ui.live_table import Column, LiveTable
from ui.rows import STATUSES, View
from ui.state import LiveState
from ui.view_bar import keep_in_url, view_bar


def group_table(state: LiveState, group: str, columns: list[Column], query: Mapping[str, str], noun: str,
                empty: str, query_prefix: str = "", limit: int | None = None) -> LiveTable:
    """A group's counts, search and filters and its live table, the view kept in the URL."""
    counts = ui.label(state.counts[group]).classes("hl-counts").props('role=status aria-label="Counts by state"')

    view = View.from_query(query, query_prefix).known(STATUSES.get(group, ()), kind_names(group))
    if limit is not None:
        view = replace(view, limit=limit)

    view_bar(view, lambda **fields: table.set_view(replace(table.view, **fields)),
             list(STATUSES.get(group, ())), kind_names(group), noun)
    table = LiveTable(lambda: state.rows[group], columns, view, empty,
                      on_view=lambda new: keep_in_url(new, query_prefix), label=noun)

    def on_rows(changed_group: str, before: Mapping[str, Any]) -> None:
        if changed_group != group:
            return
        if counts.text != state.counts[group]:
            counts.set_text(state.counts[group])
        table.rows_changed(before)

    state.rows_changed.subscribe(on_rows)
    return table

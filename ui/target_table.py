"""A group's table as every page shows it: its counts by state, its search and filters,
and the live table, the view kept in the URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nicegui import ui

from backend.kinds import kind_names
from ui.live_table import Column, LiveTable
from ui.rows import STATUSES, View, counts_text
from ui.state import LiveState
from ui.view_bar import keep_in_url, view_bar


def counts_in_view(state: LiveState, group: str, view: View) -> str:
    """The counts by state of what the search and filters leave, and of all beside them;
    with neither, the group's own counts."""
    if not (view.q or view.status or view.kind):
        return state.counts[group]
    rows = state.rows[group].values()
    matching = [row for row in rows if view.matches(row)]
    found = f"{len(matching)} match: {counts_text(group, matching)}" if matching else "none matches"
    return f"{found} (of {len(state.rows[group])}: {state.counts[group]})"


def group_table(state: LiveState, group: str, columns: list[Column], query: Mapping[str, str], noun: str,
                empty: str, query_prefix: str = "", limit: int | None = None) -> LiveTable:
    """A group's counts (of what the view shows), search and filters and its live table,
    the view kept in the URL."""
    view = View.from_query(query, query_prefix).known(STATUSES.get(group, ()), kind_names(group))
    if limit is not None:
        view = replace(view, limit=limit)
    counts = ui.label(counts_in_view(state, group, view)).classes("hl-counts").props(
        'role=status aria-label="Counts by state"')

    def show_counts() -> None:
        text = counts_in_view(state, group, table.view)
        if counts.text != text:
            counts.set_text(text)

    def on_view(new: View) -> None:
        keep_in_url(new, query_prefix)
        show_counts()

    view_bar(view, lambda **fields: table.set_view(replace(table.view, **fields)),
             list(STATUSES.get(group, ())), kind_names(group), noun)
    table = LiveTable(lambda: state.rows[group], columns, view, empty, on_view=on_view, label=noun)

    def on_rows(changed_group: str, before: Mapping[str, Any]) -> None:
        if changed_group != group:
            return
        show_counts()
        table.rows_changed(before)

    state.rows_changed.subscribe(on_rows)
    return table

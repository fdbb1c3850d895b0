"""The search and filters above a table, kept in the page's URL so a link reproduces the view."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from nicegui import ui

from ui.rows import View

ALL = ""


def keep_in_url(view: View, prefix: str = "") -> None:
    """Put this view in the address bar's URL (no reload, no history entry), leaving the
    other tables' views on the page (other prefixes) as they are."""
    names = [prefix + name for name in View.FIELDS]
    ui.run_javascript(
        "const u = new URL(location.href);"
        f"for (const n of {json.dumps(names)}) u.searchParams.delete(n);"
        f"for (const [n, v] of Object.entries({json.dumps(view.query(prefix))})) u.searchParams.set(n, v);"
        "history.replaceState(history.state, '', u.pathname + u.search + u.hash);")


def frequency_in(query: Mapping[str, str], default: float) -> float:
    """The page's frequency from its URL (`?freq=145.5`; `0` for none), else `default`; what
    does not read as a frequency is `default` (the dashboard's coverage, a receiver's readiness)."""
    try:
        value = float(str(query.get("freq", ""))[:20])
    except ValueError:
        return default
    return value if 0 <= value <= 1e6 else default


def keep_param_in_url(name: str, value: str) -> None:
    """One more parameter of the page's view in its URL (the dashboard's coverage frequency)."""
    ui.run_javascript(f"const u = new URL(location.href); u.searchParams.set({json.dumps(name)}, {json.dumps(value)});"
                      "history.replaceState(history.state, '', u.pathname + u.search + u.hash);")


def view_bar(view: View, change: Callable[..., None], statuses: list[str], kinds: list[str], noun: str) -> None:
    """A search box, a status filter and (with several kinds) a kind filter, starting
    from `view`; `change(q=…)` (or status=…, kind=…) is called with what the operator set."""
    with ui.row().classes("items-center gap-3 w-full"):
        ui.input(placeholder=f"Search {noun} by name, place, reason…", value=view.q) \
            .props('dense outlined clearable type=search aria-label="Search" debounce=250') \
            .classes("grow min-w-[12rem] max-w-[28rem]") \
            .on_value_change(lambda event: change(q=(event.value or "").strip()[:100]))
        status_options = {ALL: "every status", "problems": "problems only", **{s: s for s in statuses}}
        ui.select(status_options, value=view.status if view.status in status_options else ALL) \
            .props('dense outlined aria-label="Status"').classes("min-w-[9rem]") \
            .on_value_change(lambda event: change(status=event.value or ALL))
        if len(kinds) > 1:
            kind_options = {ALL: "every kind", **{k: k for k in kinds}}
            ui.select(kind_options, value=view.kind if view.kind in kind_options else ALL) \
                .props('dense outlined aria-label="Kind"').classes("min-w-[9rem]") \
                .on_value_change(lambda event: change(kind=event.value or ALL))

"""A table of targets that sends a tab only what changed on its screen.

The browser holds the rows on screen (the view's first `limit` rows); the server holds the
view (search, filters, sort) and picks the rows. A polling round costs a tab nothing when
none of its rows changed, a few bytes per changed cell when some did, and the rows on
screen when the order changed. NiceGUI's own table resends every row on every update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from nicegui import ui

from ui import format as fmt
from ui.rows import PAGE_ROWS, View, shown

# (name, heading, shown on a phone too)
Column = tuple[str, str, bool]


class LiveTable(ui.element, component="live_table.js"):
    def __init__(self, rows: Callable[[], Mapping[str, Mapping[str, Any]]], columns: list[Column], view: View,
                 empty: str, on_view: Callable[[View], None] | None = None, label: str = "") -> None:
        super().__init__()
        self._rows = rows
        self.view = view
        self._on_view = on_view
        self._sent: dict[str, dict[str, Any]] = {}  # what the browser has, by key
        self._order: list[str] = []
        self._total = 0
        self._props["columns"] = [{"name": name, "label": heading, "phone": phone} for name, heading, phone in columns]
        self._props["colors"] = fmt.STATUS_COLORS
        self._props["empty"] = empty
        self._props["label"] = label
        self._props["step"] = PAGE_ROWS
        order, total = view.pick(rows())
        self._remember(order, total)
        self.on("sort", lambda event: self.set_view(self.view.with_sort(_first(event.args))))
        self.on("more", lambda _: self.set_view(replace(self.view, limit=self.view.limit + PAGE_ROWS)))

    def _remember(self, order: list[str], total: int) -> None:
        rows = self._rows()
        self._sent = {key: shown(rows[key]) for key in order}
        self._order, self._total = order, total
        # Kept in the props too, so that a full redraw shows the same; but not sent now (the
        # props are observed: setting them through NiceGUI would send the element whole).
        dict.update(self._props, rows=[self._sent[key] for key in order], total=total, sort=self.view.sort,
                    desc=self.view.desc)

    def set_view(self, view: View) -> None:
        """A new search, filter, sort or length: pick the rows again and send the difference."""
        self.view = view
        self.redraw()
        if self._on_view is not None:
            self._on_view(view)

    def redraw(self) -> None:
        order, total = self.view.pick(self._rows())
        self._send(order, total)

    def rows_changed(self, before: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Rows changed (their earlier versions given): re-pick only if one may move."""
        rows = self._rows()
        if any(self.view.could_move(old, rows.get(key)) for key, old in before.items()):
            self.redraw()
        elif any(key in self._sent for key in before):
            self._send(self._order, self._total)

    def _send(self, order: list[str], total: int) -> None:
        rows = self._rows()
        patch = []
        for key in order:
            now, was = shown(rows[key]), self._sent.get(key)
            if was is None:
                patch.append(now)
            elif now != was:
                patch.append({"key": key, **{field: value for field, value in now.items() if was.get(field) != value}})
        moved = order != self._order
        sorted_by = (self.view.sort, self.view.desc)
        if not patch and not moved and total == self._total and sorted_by == (self._props["sort"], self._props["desc"]):
            return
        self._remember(order, total)
        self.run_method("patch", {"rows": patch, "order": order if moved else None, "total": total,
                                  "sort": self.view.sort, "desc": self.view.desc})


def _first(args: Any) -> str:
    """NiceGUI passes one emitted value as itself, several as a list."""
    value = args[0] if isinstance(args, list) and args else args
    return value if isinstance(value, str) else ""

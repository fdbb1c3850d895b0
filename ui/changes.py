"""Recent state changes ("what changed"), newest first, each naming its target with a
link to the target's own page. New ones go to the browser alone (a few hundred bytes
each), not the list again."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from nicegui import ui

from backend.kinds import GROUPS
from ui import format as fmt
from ui.state import LiveState

EMPTY = "No target has gone up or down in the kept history."
_numbers = itertools.count()  # a key for each change shown, across tabs


def shown_change(change: Mapping[str, Any]) -> dict[str, Any]:
    group = GROUPS.get(change.get("kind", ""))
    key = change.get("id")
    return {"n": next(_numbers), "name": change.get("name") or key or "",
            "href": group.page_of(key) if group is not None and key else "",
            "from": change.get("from"), "to": change.get("to"), "at": change.get("at") or "",
            "aspect": "readiness " if change.get("aspect") == "readiness" else "",
            "reason": change.get("reason") or ""}


class ChangeList(ui.element, component="change_list.js"):
    def __init__(self, changes: list[Mapping[str, Any]], shown: int) -> None:
        super().__init__()
        self._props.update(changes=[shown_change(c) for c in changes[:shown]], colors=fmt.STATUS_COLORS,
                           shown=shown, empty=EMPTY)

    def add(self, changes: list[Mapping[str, Any]]) -> None:
        entries = [shown_change(c) for c in changes]
        kept = (entries + list(self._props["changes"]))[:self._props["shown"]]
        dict.__setitem__(self._props, "changes", kept)  # kept for a full redraw, not sent again now
        self.run_method("add", entries)


def change_list(state: LiveState, shown: int) -> ChangeList:
    """The `shown` latest changes, kept current."""
    element = ChangeList(list(state.changes), shown).classes("hl-live w-full")
    state.changes_added.subscribe(element.add)
    return element

"""Targets as the pages' tables show them, and the views operators ask for.

Plain functions and a plain class, no NiceGUI: a row is built once per change for the
whole process (LiveState), and each open table picks its view of the rows (a search, a
status, a kind, a sort) without formatting anything again. A view is also a URL query,
so that a link reproduces what a colleague on call is looking at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from backend.kinds import GROUPS, kind_of
from backend.kinds.base import TargetGroup
from backend.kinds.status import is_down, is_up
from ui import format as fmt

# Fields a table row shows. Everything else in a row (its sort values) stays on the server.
SHOWN = ("key", "href", "name", "status", "severity", "quiet", "sites", "kind", "location", "users", "latency",
         "uptime", "since", "reason", "readiness")

# Problems first: no answer, then half an answer, then not checked yet, then fine.
SEVERITY = {"down": 0, "degraded": 1, "unknown": 2, "up": 3}
SEVERITY_NAMES = {number: name for name, number in SEVERITY.items()}

# The statuses each group uses, in the order the counts read.
STATUSES = {
    "websdrs": ("online", "degraded", "offline", "unknown"),
    "services": ("healthy", "degraded", "unhealthy", "unreachable", "unknown"),
}

SORTS = ("problems", "name", "status", "kind", "location", "users", "latency", "uptime", "since")
PAGE_ROWS = 50  # the first screen of a wall display; "Show more" adds as many again
MAX_QUERY_CHARS = 100


def severity(status: str | None) -> int:
    if is_down(status):
        return SEVERITY["down"]
    if status == "degraded":
        return SEVERITY["degraded"]
    return SEVERITY["up"] if is_up(status) else SEVERITY["unknown"]


def sites_disagree(entry: Mapping[str, Any]) -> str:
    """"down from 1 of 3 sites" when the sites whose votes counted do not agree, else ""."""
    counted = [seen for seen in (entry.get("sites") or {}).values() if seen.get("counted")]
    down = sum(1 for seen in counted if is_down(seen.get("status")))
    return f"down from {down} of {len(counted)} sites" if 0 < down < len(counted) else ""


def _users(details: dict[str, Any]) -> tuple[str, float | None]:
    text = fmt.users(details)
    used, most = details.get("users"), details.get("users_max")
    load = used / most if isinstance(used, (int, float)) and isinstance(most, (int, float)) and most else None
    return text, load


def row_of(group: TargetGroup, target: Any, entry: Mapping[str, Any] | None,
           quiet: str | None = None) -> dict[str, Any]:
    """One target's row: what the table shows, and `_`-named values to sort by; `quiet`
    says why its alerts are held (a silence, maintenance), if they are."""
    entry = entry or {}
    key = group.key_of(target)
    status = entry.get("status") or "unknown"
    kind = kind_of(group.name, target)
    details = entry.get("details") or {}
    position = group.position_of(target)
    users, load = _users(details) if group.keeps_details else ("", None)
    response = entry.get("response_time_ms")
    return {
        "key": key,
        "href": group.page_of(key),
        "name": group.name_of_target(target),
        "status": status,
        "severity": SEVERITY_NAMES[severity(status)],
        "quiet": quiet or "",
        "sites": sites_disagree(entry),
        "kind": kind.name,
        # The place the receiver names itself ("Torino, Italy"), else where it is configured.
        "location": (details.get("location") if isinstance(details.get("location"), str) else "")
        or (f"{position[0]:.2f}, {position[1]:.2f}" if position else kind.location(target)),
        "users": users,
        "latency": fmt.ms(response),
        "uptime": fmt.percent(entry.get("uptime_24h")),
        "since": entry.get("since") or "",
        "reason": entry.get(group.reason_field) or "",
        "readiness": (entry.get("readiness") or {}).get("state", ""),
        "_severity": severity(status),
        "_latency": response,
        "_users": load,
        "_uptime": entry.get("uptime_24h"),
    }


def rows_of(group_name: str, config: Any, entries: Mapping[str, Mapping[str, Any]],
            quiet: Callable[[str, str], str | None] = lambda group, key: None) -> dict[str, dict[str, Any]]:
    """Every configured target's row, in configuration order."""
    group = GROUPS[group_name]
    return {key: row_of(group, t, entries.get(key), quiet(group_name, key))
            for t in group.configured(config) for key in (group.key_of(t),)}


def shown(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in SHOWN}


def counts_text(group_name: str, rows: Iterable[Mapping[str, Any]]) -> str:
    """"912 online · 3 degraded · 85 offline": every status there is, in the group's order."""
    counts = Counter(row["status"] for row in rows)
    order = STATUSES.get(group_name, ()) + tuple(sorted(set(counts) - set(STATUSES.get(group_name, ()))))
    return " · ".join(f"{counts[status]} {status}" for status in order if counts.get(status)) or "none configured"


@dataclass(frozen=True)
class View:
    """What one table shows: a search, a status, a kind, a sort, how many rows."""

    q: str = ""
    status: str = ""  # one status, "problems" (anything not up) or "" for all
    kind: str = ""
    sort: str = "problems"
    desc: bool = False
    limit: int = PAGE_ROWS

    FIELDS: ClassVar[tuple[str, ...]] = ("q", "status", "kind", "sort", "desc")  # its URL query's names

    @classmethod
    def from_query(cls, query: Mapping[str, str], prefix: str = "") -> View:
        """From a URL's query; what is unknown or too long is dropped, never an error."""
        def get(name: str) -> str:
            return str(query.get(prefix + name) or "")[:MAX_QUERY_CHARS].strip()

        sort = get("sort")
        return cls(q=get("q"), status=get("status"), kind=get("kind"),
                   sort=sort if sort in SORTS else "problems", desc=get("desc") in ("1", "true"))

    def query(self, prefix: str = "") -> dict[str, str]:
        """The URL query that reproduces this view (defaults left out)."""
        values = {"q": self.q, "status": self.status, "kind": self.kind,
                  "sort": "" if self.sort == "problems" else self.sort, "desc": "1" if self.desc else ""}
        return {prefix + name: value for name, value in values.items() if value}

    def known(self, statuses: Iterable[str], kinds: Iterable[str]) -> View:
        """The view with a status or a kind that is not one of these (a mistyped link) left
        out, so that the filters shown are the filters applied."""
        status = self.status if self.status in ("", "problems", *statuses) else ""
        return replace(self, status=status, kind=self.kind if self.kind in kinds else "")

    def with_sort(self, column: str) -> View:
        """A click on a column's heading: sort by it, or turn the order round."""
        if column not in SORTS:
            return self
        return replace(self, sort=column, desc=not self.desc if column == self.sort else False)

    def matches(self, row: Mapping[str, Any]) -> bool:
        if self.status == "problems":
            if row["_severity"] == SEVERITY["up"]:
                return False
        elif self.status and row["status"] != self.status:
            return False
        if self.kind and row["kind"] != self.kind:
            return False
        if self.q:
            words = self.q.lower().split()
            text = f"{row['name']} {row['key']} {row['kind']} {row['status']} {row['location']} {row['reason']}".lower()
            return all(word in text for word in words)
        return True

    def sort_key(self, row: Mapping[str, Any]) -> tuple:
        name = row["name"].lower()
        if self.sort in ("problems", "status"):
            return (row["_severity"], row["status"], name)
        if self.sort in ("latency", "users", "uptime"):
            value = row["_" + self.sort]
            return (value is None, value if value is not None else 0.0, name)  # the unknown last
        if self.sort == "since":
            return (row["since"] == "", row["since"], name)
        return (str(row[self.sort]).lower(), name)

    def pick(self, rows: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], int]:
        """The keys shown, in order, and how many rows match in all."""
        matching = [row for row in rows.values() if self.matches(row)]
        matching.sort(key=self.sort_key, reverse=self.desc)
        return [row["key"] for row in matching[:self.limit]], len(matching)

    def could_move(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
        """Whether a row's change may change which rows are shown or their order; when
        not, only the row itself is sent again, if it is on screen."""
        if old is None or new is None:
            return True
        if self.matches(old) != self.matches(new):
            return True
        return self.matches(new) and self.sort_key(old) != self.sort_key(new)


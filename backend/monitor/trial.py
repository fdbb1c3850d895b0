"""A target probed once before it is saved (the "test" button, POST /api/v1/targets/test):
the same check its kind runs every round, and, for a receiver whose kind is not given,
the kind told from its answer (each receiver kind's check tried in turn; the first that
recognises the answer wins)."""

from __future__ import annotations

from typing import Any

from backend.kinds import GROUPS, KINDS, CheckSpec, detection_order
from backend.kinds.probing import probe_client
from backend.kinds.rounds import check  # the guard every round uses: a probe with a bug is a failed check
from backend.kinds.status import is_down
from backend.safety.destinations import DestinationPolicy


async def probe_once(section: str, entry: dict[str, Any], timeout_s: float, degraded_after_ms: float,
                     policy: DestinationPolicy | None = None) -> dict[str, Any]:
    """{kind, detected, status, response_time_ms, error, details} of one check now, its
    connections confined by `policy` (what is tried at run time always is)."""
    group = GROUPS[section]
    # Not given: each kind of the group in the detection order (a service: its plain HTTP check).
    tried = [entry["kind"]] if entry.get("kind") else detection_order(section)
    result, kind = None, tried[0]
    async with probe_client(4) as client:
        for kind in tried:
            if KINDS[(section, kind)].reported:  # nothing to connect to: it reports (backend/kinds/push.py)
                return {"kind": kind, "detected": False, "status": group.down, "response_time_ms": None,
                        "error": f"a {kind} service is not probed: it reports itself (POST /api/v1/push/NAME)",
                        "details": {}}
            where = entry.get(KINDS[(section, kind)].where_field)
            if not where:
                return {"kind": kind, "detected": False, "status": group.down, "response_time_ms": None,
                        "error": f"a {kind} target needs {KINDS[(section, kind)].where_field}", "details": {}}
            result = await check(client, CheckSpec(f"{section}/{kind}", str(where), timeout_s, degraded_after_ms,
                                                         policy))
            if not is_down(result.status):
                break
    return {"kind": kind, "detected": not entry.get("kind") and result is not None and not is_down(result.status),
            "status": result.status, "response_time_ms": result.response_time_ms, "error": result.error,
            "details": result.details or {}}

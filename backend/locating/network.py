"""The network's readiness on one frequency: each configured receiver judged from its
latest status entry. One function for the API, the coverage and the readiness alerts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.kinds import RECEIVERS, kind_of
from backend.kinds.readiness import READY, of_entry


def readiness_at(config, entries: Mapping[str, Mapping[str, Any]], freq_mhz: float) -> dict[str, dict[str, Any]]:
    """{receiver id: {"state", "reasons"}} for every configured receiver."""
    return {w.id: of_entry(kind_of(RECEIVERS.name, w).readiness, entries.get(w.id) or RECEIVERS.unknown(w), freq_mhz)
            for w in config.websdrs}


def ready_count(judged: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(1 for r in judged.values() if r["state"] == READY)

"""The network's readiness on one frequency: each configured receiver judged from its
latest status entry. One function for the API, the coverage and the readiness alerts."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from backend.kinds import RECEIVERS, receiver_readiness
from backend.kinds.readiness import READY
from backend.locating.geometry import coverage_grid


def readiness_at(config, entries: Mapping[str, Mapping[str, Any]], freq_mhz: float) -> dict[str, dict[str, Any]]:
    """{receiver id: {"state", "reasons"}} for every configured receiver."""
    return {w.id: receiver_readiness(w, entries.get(w.id) or RECEIVERS.unknown(w), freq_mhz)
            for w in config.websdrs}


def ready_count(judged: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(1 for r in judged.values() if r["state"] == READY)


def ready_positions(config, judged: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """Where the ready receivers are (as configured)."""
    return {w.id: (w.latitude, w.longitude) for w in config.websdrs if judged.get(w.id, {}).get("state") == READY}


class CoverageCache:
    """The coverage grid per frequency, shared by every open map: computed again only when
    the set of ready receivers (or their places) changed, in a worker thread (about 0.2 s
    for 1,000 receivers: not on the event loop). At most `size` frequencies are kept."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        # freq -> (the entries judged last, what the grid was made from, the grid being made)
        self._kept: OrderedDict[tuple[float, float, int], tuple[Any, tuple, asyncio.Future]] = OrderedDict()

    async def grid(self, config, entries: Mapping[str, Mapping[str, Any]], freq_mhz: float, sigma_t_us: float,
                   cells: int) -> dict[str, Any]:
        slot = (freq_mhz, sigma_t_us, cells)
        kept = self._kept.get(slot)
        if kept is not None and kept[0] is entries:  # this round judged already
            return await asyncio.shield(kept[2])
        judged = readiness_at(config, entries, freq_mhz)
        positions = ready_positions(config, judged)
        made_from = tuple(sorted(positions.items()))
        if kept is not None and kept[1] == made_from:
            self._kept[slot] = (entries, made_from, kept[2])
            return await asyncio.shield(kept[2])
        future = asyncio.ensure_future(asyncio.to_thread(_grid, positions, freq_mhz, sigma_t_us, cells, len(judged)))
        self._kept[slot] = (entries, made_from, future)
        self._kept.move_to_end(slot)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return await asyncio.shield(future)


def _grid(positions: dict[str, tuple[float, float]], freq_mhz: float, sigma_t_us: float, cells: int,
          judged: int) -> dict[str, Any]:
    return {**coverage_grid(positions, sigma_t_us * 1e-6, cells), "freq_mhz": freq_mhz, "ready": len(positions),
            "judged": judged}

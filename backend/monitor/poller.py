"""Probe rounds: every target of a kind checked concurrently, statuses debounced, the
round kept in history, then the full map published on the hub (and each change of
state as a `status:changed` event)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from backend.hub import Hub
from backend.monitor.debounce import Debouncer, is_down
from backend.monitor.worker import CheckSpec, ProbeWorker
from backend.probes import ProbeResult
from backend.settings import Config
from backend.storage import CheckRecord, HistoryStore, StateChange
from backend.timefmt import iso_from_ms
from backend.topics import SERVICES_HEALTH, STATUS_CHANGED, WEBSDRS_STATUS

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Target:
    kind: str  # "services" or "websdrs"
    key: str  # service name or receiver id
    name: str
    spec: CheckSpec


def service_entry(previous: dict[str, Any], result: ProbeResult, status: str, checked: str, since: str | None,
                  uptime: float | None) -> dict[str, Any]:
    return {**previous, "status": status, "response_time_ms": result.response_time_ms, "last_check": checked,
            "error": result.error, "since": since, "uptime_24h": uptime}


def websdr_entry(previous: dict[str, Any], result: ProbeResult, status: str, checked: str, since: str | None,
                 uptime: float | None) -> dict[str, Any]:
    # Keep what the receiver last told about itself while it does not answer.
    details = result.details if result.details else previous.get("details") or {}
    return {**previous, "status": status, "response_time_ms": result.response_time_ms, "last_check": checked,
            "error_message": result.error, "since": since, "uptime_24h": uptime, "details": details}


KINDS = {
    "services": (SERVICES_HEALTH, service_entry),
    "websdrs": (WEBSDRS_STATUS, websdr_entry),
}


class Monitor:
    def __init__(self, config: Config, hub: Hub, history: HistoryStore) -> None:
        self._config = config
        self._hub = hub
        self._history = history
        polling = config.polling
        self._targets = {
            "services": [
                Target("services", s.name, s.name,
                       CheckSpec("service", s.url, polling.timeout_s, polling.degraded_threshold_ms))
                for s in config.services
            ],
            "websdrs": [
                Target("websdrs", w.id, w.name, CheckSpec(w.kind, w.url, polling.timeout_s))
                for w in config.websdrs
            ],
        }
        self._entries = {kind: dict(hub.latest(topic).data) for kind, (topic, _) in KINDS.items()}
        self._debouncers = {
            (kind, key): Debouncer(entry["status"], polling.down_after, polling.up_after)
            for kind, entries in self._entries.items() for key, entry in entries.items()
        }
        self._worker = ProbeWorker()

    def has_targets(self, kind: str) -> bool:
        return bool(self._targets[kind])

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        self._worker.stop()

    async def poll_services(self) -> None:
        await self.poll("services")

    async def poll_websdrs(self) -> None:
        await self.poll("websdrs")

    async def poll(self, kind: str) -> None:
        """One round over every target of `kind`."""
        targets = self._targets[kind]
        # Slowest first: a target that timed out last time starts its wait at once, beside
        # the quick ones, instead of after them. The round then lasts about one timeout.
        order = sorted(range(len(targets)), key=lambda i: self._expected_ms(kind, targets[i].key), reverse=True)
        started = await self._worker.run([targets[i].spec for i in order], self._config.polling.max_concurrency)
        results: list[ProbeResult] = [None] * len(targets)  # type: ignore[list-item]
        for position, index in enumerate(order):
            results[index] = started[position]
        now_ms = int(time.time() * 1000)
        checked = iso_from_ms(now_ms)
        checks, changes, events = [], [], []
        pending: dict[str, tuple[ProbeResult, str, str | None]] = {}
        for target, result in zip(targets, results):
            debouncer = self._debouncers.setdefault((kind, target.key), Debouncer(
                "unknown", self._config.polling.down_after, self._config.polling.up_after))
            before = debouncer.status
            changed = debouncer.observe(result.status)
            since = checked if changed else (self._entries[kind].get(target.key) or {}).get("since") or checked
            pending[target.key] = (result, debouncer.status, since)
            checks.append(CheckRecord(kind, target.key, now_ms, result.status, not is_down(result.status),
                                      result.response_time_ms, result.error))
            if changed:
                changes.append(StateChange(kind, target.key, now_ms, before, debouncer.status, result.error))
                events.append({"kind": kind, "id": target.key, "name": target.name, "from": before,
                               "to": debouncer.status, "since": checked, "reason": result.error})
        # Uptime includes this round: store first, then read.
        await self._history.record_round(checks, changes)
        uptimes = await self._history.uptime(kind, now_ms - DAY_MS)
        topic, make_entry = KINDS[kind]
        entries = {}
        for target in targets:
            result, status, since = pending[target.key]
            entries[target.key] = make_entry(self._entries[kind].get(target.key) or {}, result, status, checked,
                                             since, uptimes.get(target.key))
        await self._history.save_last({(kind, key): entry for key, entry in entries.items()})
        self._entries[kind] = {**self._entries[kind], **entries}
        await self._hub.publish(topic, self._entries[kind])
        for event in events:
            await self._hub.publish(STATUS_CHANGED, event)

    def _expected_ms(self, kind: str, key: str) -> float:
        entry = self._entries[kind].get(key) or {}
        if entry.get("last_check") is None:
            return 0.0
        took = entry.get("response_time_ms")
        return float("inf") if took is None else took

    async def prune(self) -> None:
        removed = await self._history.prune(int(time.time() * 1000), self._config.history.retention_s())
        log.info("history pruned: %s", removed)

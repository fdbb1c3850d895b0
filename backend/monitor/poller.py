"""Probe rounds: every target of a kind checked concurrently, statuses debounced, the
round kept in history, then the full map published on the hub (and each change of
state as a `status:changed` event)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

import httpx

from backend.hub import Hub
from backend.monitor.debounce import Debouncer, is_down
from backend.probes import RECEIVER_PROBES, ProbeResult, service
from backend.settings import Config
from backend.storage import CheckRecord, HistoryStore, StateChange
from backend.timefmt import iso_from_ms
from backend.topics import SERVICES_HEALTH, STATUS_CHANGED, WEBSDRS_STATUS

log = logging.getLogger(__name__)

T = TypeVar("T")
LAUNCH_BATCH = 25  # probes started per turn of the event loop: keeps its ticks short
DAY_MS = 86_400_000


async def run_bounded(jobs: list[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run every job, at most `limit` at a time; results in the order of `jobs`."""
    semaphore = asyncio.Semaphore(limit)

    async def guarded(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    tasks = []
    for index, job in enumerate(jobs):
        tasks.append(asyncio.create_task(guarded(job)))
        if index % LAUNCH_BATCH == LAUNCH_BATCH - 1:
            await asyncio.sleep(0)
    return await asyncio.gather(*tasks)


@dataclass(frozen=True)
class Target:
    kind: str  # "services" or "websdrs"
    key: str  # service name or receiver id
    name: str
    check: Callable[[httpx.AsyncClient], Awaitable[ProbeResult]]


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
                Target("services", s.name, s.name, functools.partial(
                    _check_service, url=s.url, timeout_s=polling.timeout_s,
                    degraded_after_ms=polling.degraded_threshold_ms))
                for s in config.services
            ],
            "websdrs": [
                Target("websdrs", w.id, w.name, functools.partial(
                    _check_receiver, probe=RECEIVER_PROBES[w.kind], url=w.url, timeout_s=polling.timeout_s))
                for w in config.websdrs
            ],
        }
        self._entries = {kind: dict(hub.latest(topic).data) for kind, (topic, _) in KINDS.items()}
        self._debouncers = {
            (kind, key): Debouncer(entry["status"], polling.down_after, polling.up_after)
            for kind, entries in self._entries.items() for key, entry in entries.items()
        }
        self._client: httpx.AsyncClient | None = None
        self.rounds = 0

    def has_targets(self, kind: str) -> bool:
        return bool(self._targets[kind])

    async def start(self) -> None:
        concurrency = self._config.polling.max_concurrency
        self._client = httpx.AsyncClient(
            # No keep-alive: each check opens its own connection, as a new visitor would.
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=0),
            trust_env=False,
            headers={"User-Agent": "HeimdallLive-monitor"},
        )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def poll_services(self) -> None:
        await self.poll("services")

    async def poll_websdrs(self) -> None:
        await self.poll("websdrs")

    async def poll(self, kind: str) -> None:
        """One round over every target of `kind`."""
        assert self._client is not None, "Monitor.start() first"
        client = self._client
        targets = self._targets[kind]
        results = await run_bounded([functools.partial(t.check, client) for t in targets],
                                    self._config.polling.max_concurrency)
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
        self.rounds += 1

    async def prune(self) -> None:
        removed = await self._history.prune(int(time.time() * 1000), self._config.history.retention_s())
        log.info("history pruned: %s", removed)


async def _check_service(client: httpx.AsyncClient, url: str, timeout_s: float, degraded_after_ms: float) -> ProbeResult:
    return await _never_raise(service.probe(client, url, timeout_s, degraded_after_ms), "unreachable")


async def _check_receiver(client: httpx.AsyncClient, probe, url: str, timeout_s: float) -> ProbeResult:
    return await _never_raise(probe(client, url, timeout_s), "offline")


async def _never_raise(check: Awaitable[ProbeResult], down: str) -> ProbeResult:
    """A probe with a bug is a failed check with the reason, never a failed round."""
    try:
        return await check
    except Exception as exc:
        log.exception("probe failed")
        return ProbeResult(down, None, f"probe error: {type(exc).__name__}")

"""Probe rounds: every target of a group checked concurrently, statuses debounced, the
round kept in history, then the full map published on the hub (and each change of
state as a `status:changed` event)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, Awaitable, Callable

from backend.cluster.leader import LocalLease
from backend.config.schema import Config
from backend.events.bus import StaleLeader
from backend.events.hub import Hub
from backend.events.topics import STATUS_CHANGED
from backend.kinds import (
    CHECKS,
    GROUPS,
    RECEIVERS,
    initial_state,
    push,
    targets_of,
    with_position_check,
)
from backend.kinds.fields import kept_figures, rises
from backend.kinds.probing import ProbeResult, describe_failure, probe_client
from backend.kinds.readiness import of_entry, readiness_change
from backend.kinds.status import is_down
from backend.monitor.debounce import Debouncer
from backend.monitor.worker import ProbeWorker, WorkerFailed, WorkerStopped
from backend.sites.book import SiteBook
from backend.sites.quorum import Vote, site_problem
from backend.storage import CheckRecord, HistoryStore, RecordStore, StateChange
from backend.storage.history import SnrMeasurement
from backend.timefmt import iso_from_ms

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


class Monitor:
    def __init__(self, config: Config, hub: Hub, history: HistoryStore, records: RecordStore | None = None,
                 lease: Any = None, worker: ProbeWorker | None = None, sites: SiteBook | None = None) -> None:
        self._config = config
        # Only the holder of the poller lease probes (backend/cluster/leader.py); one process always holds.
        self.lease = lease if lease is not None else LocalLease()
        self.lease.on_acquired.append(self._adopt_shared_state)
        self._hub = hub
        self._history = history
        self._records = records
        self._targets = targets_of(config)
        self._entries = {group.name: dict(hub.latest(group.topic).data) for group in GROUPS.values()}
        self._debouncers: dict[tuple[str, str], Debouncer] = {}
        self._worker = worker or ProbeWorker()  # where probes run (a test passes one of its own)
        self.problem: str | None = None  # the gateway's own trouble running rounds, if any
        # Told after each round with (group, the entries checked, the group's whole map): the
        # alert engine takes its judgements from here, not from diffing published snapshots.
        self.round_listeners: list[Callable[[str, dict[str, Any], dict[str, Any]], None]] = []
        # What the other sites saw (backend/sites): each target's verdict takes their votes.
        self.sites = sites
        # Push services' latest reports (backend/ingest/push.py), read once a round; and since
        # when each has been waited for (its deadline runs from then until a first report).
        self.push_reports: Callable[[], Awaitable[dict[str, dict[str, Any]]]] | None = None
        self._waiting_since: dict[str, int] = {}

    def _adopt_shared_state(self) -> None:
        """Just became the poller: carry on from what the previous one published."""
        self._entries = {group.name: dict(self._hub.latest(group.topic).data) for group in GROUPS.values()}
        self._debouncers = {}
        if self.sites is not None:
            self.sites.forget_announced()

    async def _publish(self, topic: str, data: Any) -> None:
        await self._hub.publish(topic, data, self.lease.fence)

    async def reconfigure(self, config: Config) -> None:
        """Take a new configuration in place: targets added, removed or changed; the next
        round uses it. Both state topics are published at once without the removed ones
        and with the added ones as `unknown`, so every client sees the new set."""
        self._config = config
        self._targets = targets_of(config)
        state = initial_state(config, {(group_name, key): entry for group_name, entries in self._entries.items()
                                       for key, entry in entries.items()})
        kept = {(target.group, target.key) for targets in self._targets.values() for target in targets}
        self._debouncers = {key: debouncer for key, debouncer in self._debouncers.items() if key in kept}
        for group in GROUPS.values():
            self._entries[group.name] = state[group.topic]
            if self.lease.held:  # the poller speaks for the targets; another instance's view may be stale
                await self._publish(group.topic, self._entries[group.name])

    def _debouncer(self, group_name: str, key: str) -> Debouncer:
        found = self._debouncers.get((group_name, key))
        if found is None:
            status = (self._entries[group_name].get(key) or {}).get("status", "unknown")
            found = self._debouncers[(group_name, key)] = Debouncer(status)
        found.down_after, found.up_after = self._config.polling.down_after, self._config.polling.up_after
        return found

    def has_targets(self, group_name: str) -> bool:
        return bool(self._targets[group_name])

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        self._worker.stop()

    async def poll(self, group_name: str) -> None:
        """One round over every target of a group (`services`, `websdrs`), if this process is the poller."""
        if not self.lease.held:
            return
        try:
            await self._round(group_name)
        except StaleLeader as stale:  # lost the lease while probing: the new poller's results count
            log.warning("round of %s discarded: %s", group_name, stale)

    async def _reported(self, targets: list, now_ms: int) -> dict[str, ProbeResult | None]:
        """The push services' checks of this round, from their latest reports."""
        reports = await self.push_reports() if self.push_reports is not None else {}
        return {t.key: push.judge(reports.get(t.key), t.deadline_s or 60, now_ms,
                                  self._waiting_since.setdefault(t.key, now_ms)) for t in targets}

    async def _round(self, group_name: str) -> None:
        targets = self._targets[group_name]
        reported = [t for t in targets if CHECKS[t.spec.probe].reported]
        if reported:  # judged from their reports; one not due yet stays as it is (unknown)
            judged = await self._reported(reported, int(time.time() * 1000))
            targets = [t for t in targets if not CHECKS[t.spec.probe].reported or judged[t.key] is not None]
        # Slowest first: a target that timed out last time starts its wait at once, beside
        # the quick ones, instead of after them. The round then lasts about one timeout.
        order = sorted((i for i, t in enumerate(targets) if not CHECKS[t.spec.probe].reported),
                       key=lambda i: self._expected_ms(group_name, targets[i].key), reverse=True)
        try:
            started = await self._worker.run([targets[i].spec for i in order], self._config.polling.max_concurrency) \
                if order else []
        except WorkerStopped:
            return  # shutting down: nothing to publish
        except WorkerFailed as failure:
            # No target is marked down for it: the round did not happen. Said once, as the
            # gateway's own problem (pages, alerts, metrics read it from status:changed).
            await self._gateway_problem(str(failure))
            return
        await self._gateway_problem(None)
        results: list[ProbeResult] = [None] * len(targets)  # type: ignore[list-item]
        for position, index in enumerate(order):
            results[index] = started[position]
        for index, target in enumerate(targets):
            if results[index] is None:
                results[index] = judged[target.key]
        now_ms = int(time.time() * 1000)
        checked = iso_from_ms(now_ms)
        results, views = await self._with_sites(group_name, targets, results, now_ms)
        checks, changes, events = [], [], []
        pending: dict[str, tuple[ProbeResult, str, str | None]] = {}
        for target, result in zip(targets, results):
            debouncer = self._debouncer(group_name, target.key)
            before = debouncer.status
            changed = debouncer.observe(result.status)
            since = checked if changed else (self._entries[group_name].get(target.key) or {}).get("since") or checked
            pending[target.key] = (result, debouncer.status, since)
            previous_details = (self._entries[group_name].get(target.key) or {}).get("details") or {}
            figures = kept_figures({**(result.details or {}), **rises(previous_details, result.details or {})})
            checks.append(CheckRecord(group_name, target.key, now_ms, result.status, not is_down(result.status),
                                      result.response_time_ms, result.error, *figures))
            if changed:
                changes.append(StateChange(group_name, target.key, now_ms, before, debouncer.status, result.error))
                events.append({"kind": group_name, "id": target.key, "name": target.name, "aspect": "status", "from": before,
                               "to": debouncer.status, "since": checked, "reason": result.error})
        # Uptime includes this round: store first, then read.
        await self._history.record_round(checks, changes)
        uptimes = await self._history.uptime(group_name, now_ms - DAY_MS)
        group = GROUPS[group_name]
        # The configuration may have been reloaded while the round ran: only targets that
        # are still configured are kept.
        current = {target.key for target in self._targets[group_name]}
        entries = {}
        for target in targets:
            if target.key not in current:
                continue
            result, status, since = pending[target.key]
            details = with_position_check(result.details, target.position) if result.details else None
            entries[target.key] = group.entry(self._entries[group_name].get(target.key) or {}, result, status, checked,
                                              since, uptimes.get(target.key), details)
            entries[target.key]["sites"] = views.get(target.key) or {}
            if group.keeps_details:  # receivers: whether it can take part now, at any frequency it covers
                readiness = of_entry(CHECKS[target.spec.probe].readiness, entries[target.key], None, target.bands)
                entries[target.key]["readiness"] = readiness
                moved = readiness_change(self._entries[group_name].get(target.key), readiness)
                if moved is not None:
                    events.append({"kind": group_name, "id": target.key, "name": target.name, "aspect": "readiness",
                                   "from": moved, "to": readiness["state"], "since": checked,
                                   "reason": "; ".join(readiness["reasons"]) or None})
        await self._history.save_last({(group_name, key): entry for key, entry in entries.items()})
        previous = self._entries[group_name]
        self._entries[group_name] = {t.key: entries.get(t.key) or previous[t.key] for t in self._targets[group_name]
                               if t.key in entries or t.key in previous}
        await self._publish(group.topic, self._entries[group_name])
        for listener in self.round_listeners:
            listener(group_name, entries, self._entries[group_name])
        for event in events:
            if event["id"] in current:
                await self._publish(STATUS_CHANGED, event)
        await self._announce_sites(now_ms)

    async def _with_sites(self, group_name: str, targets: list, results: list[ProbeResult],
                          now_ms: int) -> tuple[list[ProbeResult], dict[str, dict]]:
        """Each result as the sites' quorum has it (backend/sites/quorum.py), and each
        target's view from every site. With no agent reporting, the gateway's own result
        stands as it is."""
        if self.sites is None:
            return results, {}
        await self.sites.load(group_name)
        # The gateway's own round failing as a whole is set aside only when other sites
        # voted; alone, the alert engine's suspect-round rule says it, as it always has.
        others = self.sites.agents_counted(self._config, group_name, now_ms)
        self.sites.own_problem[group_name] = site_problem([(r.status, r.error) for r in results], None) if others else None
        judged, views = [], {}
        for target, result in zip(targets, results):
            own = Vote(result.status, now_ms, result.error, result.response_time_ms)
            verdict, views[target.key] = self.sites.judge(self._config, group_name, target.key, own, target.quorum, now_ms,
                                                          others)
            if verdict.voters > 1 and (verdict.status != result.status or verdict.reason != result.error):
                # The network's view replaces the gateway's own: its status, and why (the
                # response time stays the gateway's own measurement, or none).
                result = dataclasses.replace(result, status=verdict.status, error=verdict.reason)
            judged.append(result)
        return judged, views

    async def _announce_sites(self, now_ms: int | None = None) -> None:
        if self.sites is None:
            return
        for event in self.sites.changes(self._config, now_ms or int(time.time() * 1000)):
            await self._publish(STATUS_CHANGED, event)

    async def watch_sites(self) -> None:
        """Between rounds: a site that stops reporting is stale within its two intervals
        (the scheduler calls this every quarter of the shortest interval)."""
        if not self.lease.held or self.sites is None:
            return
        await self.sites.load(None)
        try:
            await self._announce_sites()
        except StaleLeader:
            pass

    async def _gateway_problem(self, reason: str | None) -> None:
        if (reason is not None) == (self.problem is not None):
            return
        self.problem = reason
        await self._publish(STATUS_CHANGED, {
            "kind": "gateway", "id": "probe-worker", "name": "probe worker", "from": "down" if reason is None else "up",
            "to": "up" if reason is None else "down", "since": iso_from_ms(int(time.time() * 1000)), "reason": reason})

    def _expected_ms(self, group_name: str, key: str) -> float:
        entry = self._entries[group_name].get(key) or {}
        if entry.get("last_check") is None:
            return 0.0
        took = entry.get("response_time_ms")
        return float("inf") if took is None else took

    async def prune_records(self) -> None:
        """Detections and localizations older than `[records] retention_days` go."""
        if self._records is None:
            return
        cutoff = iso_from_ms(int(time.time() * 1000 - self._config.records.retention_days * DAY_MS))
        removed = await self._records.prune(cutoff)
        log.info("records pruned: %s", removed)

    async def fetch_own_histories(self) -> int:
        """What receivers keep of their own past (KiwiSDR's /snr: a week of hourly SNR
        measurements), from each answering receiver whose kind keeps one, into the history.
        Hourly, on the poller only. A receiver that cannot be read now is tried next hour;
        measurements already kept are skipped. Returns how many new ones were kept."""
        if not self.lease.held:
            return 0
        wanted = [t for t in self._targets[RECEIVERS.name] if CHECKS[t.spec.probe].own_history is not None
                  and not is_down((self._entries[RECEIVERS.name].get(t.key) or {}).get("status") or "offline")]
        if not wanted:
            return 0
        limit = asyncio.Semaphore(self._config.polling.max_concurrency)
        added = 0

        async def one(client, target) -> None:
            nonlocal added
            async with limit:
                try:
                    found = await CHECKS[target.spec.probe].own_history(client, target.spec.url, target.spec.timeout_s)
                except Exception as exc:  # whatever one receiver sends, the others are read
                    log.info("own history of receiver %s not read: %s", target.key,
                             describe_failure(exc, target.spec.timeout_s))
                    return
            added += await self._history.record_snr(RECEIVERS.name, target.key,
                                                    [SnrMeasurement(**m) for m in found])

        async with probe_client(self._config.polling.max_concurrency) as client:
            await asyncio.gather(*(one(client, target) for target in wanted))
        log.info("own histories of %d receivers read: %d new measurements", len(wanted), added)
        return added

    async def prune(self) -> None:
        removed = await self._history.prune(int(time.time() * 1000), self._config.history.retention_s())
        log.info("history pruned: %s", removed)

"""Prometheus metrics (prometheus_client) of one gateway: a collector that reads the
running state at scrape time, and the few counters and histograms that need every event
(fed by a hub subscriber that only counts: no work on the publish path worth a queue)."""

from __future__ import annotations

import re
import time
from typing import Any, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from backend.events.envelope import Envelope
from backend.kinds import GROUP_OF_TOPIC, GROUPS
from backend.kinds.status import is_down
from backend.runtime import Runtime

BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def reason_label(reason: str | None) -> str:
    """A failure reason with its numbers taken out, so that labels stay few:
    "timeout after 5 s" and "slow: 1234 ms (threshold 1000 ms)" each become one series."""
    return re.sub(r"\d+(\.\d+)?", "N", reason or "unknown")[:80]


class Metrics:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.registry = CollectorRegistry(auto_describe=True)
        # Each site's checks (the gateway's own site and every agent's), as the poller's rounds carry them.
        self._duration = Histogram("heimdall_probe_duration_seconds", "Response time of each check, by site",
                                   ["kind", "id", "site"], buckets=BUCKETS_S, registry=self.registry)
        self._failures = Counter("heimdall_probe_failures", "Failed checks by reason, by site",
                                 ["kind", "id", "site", "reason"], registry=self.registry)
        self._published = Counter("heimdall_events_published", "Events published on the hub", ["topic"],
                                  registry=self.registry)
        self.ingested = Counter("heimdall_ingested", "Objects posted to the ingestion API", ["kind", "status"],
                                registry=self.registry)
        self._seen: dict[tuple[str, str, str], str] = {}
        self.registry.register(_StateCollector(runtime))
        runtime.hub.subscribe(self._on_event)

    def _on_event(self, env: Envelope) -> None:
        self._published.labels(env.event).inc()
        group = GROUP_OF_TOPIC.get(env.event)
        if group is None:
            return
        kind = group.name
        for key, entry in env.data.items():
            for site, seen in (entry.get("sites") or {}).items():
                checked = seen.get("last_check")
                if not checked or self._seen.get((kind, key, site)) == checked:
                    continue  # a site's vote stays in the entries until its next one
                self._seen[(kind, key, site)] = checked
                if seen.get("response_time_ms") is not None:
                    self._duration.labels(kind, key, site).observe(seen["response_time_ms"] / 1000)
                if is_down(seen.get("status")):
                    self._failures.labels(kind, key, site, reason_label(seen.get("reason"))).inc()


class _StateCollector:
    """What is read from the running gateway when Prometheus scrapes."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def describe(self) -> Iterable[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        runtime = self._runtime
        up = GaugeMetricFamily("heimdall_target_up", "1 when the target is up (degraded counts as up), 0 when down",
                               labels=["kind", "id"])
        for group in GROUPS.values():
            for key, entry in runtime.hub.latest(group.topic).data.items():
                if entry.get("status") not in (None, "unknown"):
                    up.add_metric([group.name, key], 0.0 if is_down(entry["status"]) else 1.0)
        yield up
        yield GaugeMetricFamily("heimdall_ws_connections", "Open /ws/updates connections",
                                value=len(runtime.manager.connections))
        slow = CounterMetricFamily("heimdall_slow_consumers_closed", "/ws/updates clients closed for not reading")
        slow.add_metric([], runtime.manager.stats.slow_consumers_closed)
        yield slow
        sent = CounterMetricFamily("heimdall_notifications", "Notifications by alert and outcome",
                                   labels=["alert", "outcome"])
        for (alert, outcome), count in runtime.alerts.delivery.outcomes.items():
            sent.add_metric([alert, outcome], count)
        yield sent
        yield GaugeMetricFamily("heimdall_open_incidents", "Incidents open now",
                                value=runtime.alerts.open_incident_count())
        problems = GaugeMetricFamily("heimdall_gateway_problem", "1 while a part of the gateway itself is down",
                                     labels=["part"])
        for part in ("probe-worker", "network-services", "network-websdrs"):
            problems.add_metric([part], 1.0 if part in runtime.alerts.gateway_problems else 0.0)
        yield problems
        states = runtime.monitor.sites.states(runtime.settings.config, int(time.time() * 1000))
        yield GaugeMetricFamily("heimdall_agents", "Probe agents' sites reporting now (not stale)",
                                value=sum(1 for s in states if not s.gateway and not s.stale))
        counted = GaugeMetricFamily("heimdall_site_counted", "1 while a site's votes count (not stale, not set aside)",
                                    labels=["site"])
        for state in states:
            counted.add_metric([state.name], 1.0 if state.state == "ok" else 0.0)
        yield counted
        feed = runtime.feed
        if feed is not None:  # the platform's RabbitMQ feed (backend/feed)
            yield GaugeMetricFamily("heimdall_feed_up", "1 while the platform's feed is connected",
                                    value=1.0 if feed.state.state == "connected" else 0.0)
            messages = CounterMetricFamily("heimdall_feed_messages", "The feed's messages by event and outcome "
                                           "(accepted, duplicate, rejected, retried)", labels=["event", "outcome"])
            for (event, outcome), count in feed.state.messages.items():
                messages.add_metric([event, outcome], count)
            yield messages

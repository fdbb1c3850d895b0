"""The feed joined to the gateway's parts: where what a message becomes goes (the same
ingestion path as a POST, the push reports, the probing sites, the hub), the watcher
that raises FEED PROBLEM after `[feed] alert_after_s`, and our answers on the bus."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from backend.feed.answers import Answers
from backend.feed.consumer import HANDLED_KEPT_MS, Feed, FeedState, Sinks
from backend.feed.handled import HandledStore
from backend.feed.platform import PLATFORM_SITE
from backend.ingest.accept import accept
from backend.kinds import RECEIVERS
from backend.sites.quorum import Vote
from backend.sites.store import SiteReport

WATCH_EVERY_S = 1.0


def feed_of(runtime: Any) -> Feed:
    """The feed of `runtime.settings.feed_url`, its sinks wired to the runtime's parts."""
    database = runtime.database
    handled = HandledStore(database, HANDLED_KEPT_MS)

    async def store(kind: str, record: dict[str, Any]) -> None:
        await accept(runtime.records, runtime.outbox, runtime.metrics.ingested, kind, record)

    async def push(name: str, report: dict[str, Any], received_ms: int) -> None:
        await database.run(runtime.push.keep, name, report, received_ms, "feed")

    async def site_view(views: dict[str, dict[str, Any]], received_ms: int) -> None:
        votes = {key: Vote(view["status"], received_ms, view["reason"]) for key, view in views.items()}
        report = SiteReport(PLATFORM_SITE, RECEIVERS.name, received_ms, received_ms, None, 0,
                            "the Heimdall platform (websdrs:health on its bus)")
        await database.run(runtime.monitor.sites.store.report, report, votes)

    async def pass_through(document: dict[str, Any], identity: str) -> None:
        await runtime.hub.publish(document["event"], document.get("data") or {}, once=identity)

    sinks = Sinks(store, push, site_view, pass_through, lambda identity: database.run(handled.seen, identity),
                  lambda identity, at: database.run(handled.mark, identity, at))
    feed = Feed(runtime.settings.feed_url, runtime.settings.config.feed, lambda: runtime.settings.config, sinks)
    if runtime.settings.config.feed.publish:
        answers = Answers(runtime.settings.config.feed.exchange, feed.open_channel,
                          lambda: runtime.monitor.lease.held)
        runtime.hub.subscribe(answers.on_event)
        runtime.alerts.lifecycle.incident_listeners.append(answers.on_incident)
        feed.answers = answers
    return feed


def down_for(state: FeedState, now_ms: int, alert_after_s: float) -> str | None:
    """The reason to tell, once the feed has been down `alert_after_s`; None while it works
    (or has not been down that long)."""
    if state.state == "connected" or now_ms - state.since_ms < alert_after_s * 1000:
        return None
    return f"not connected for {(now_ms - state.since_ms) / 1000:.0f} s: {state.reason or 'connecting'}"


async def watch(runtime: Any) -> None:
    """FEED PROBLEM after `alert_after_s` down, FEED RESOLVED once it works again."""
    feed, engine = runtime.feed, runtime.alerts
    while True:
        await asyncio.sleep(WATCH_EVERY_S)
        reason = down_for(feed.state, int(time.time() * 1000), runtime.settings.config.feed.alert_after_s)
        if reason is not None and engine.feed_trouble is None:
            await engine.feed_problem(reason)
        elif reason is None and feed.state.state == "connected":
            await engine.feed_problem(None)

"""Read-only REST: liveness, service and receiver status, gateway figures, event replay."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request

from backend import __version__
from backend.api.requests import runtime_of
from backend.auth.scopes import ScopedRouter
from backend.events.hub import Since
from backend.events.topics import ALL_TOPICS, SERVICES_HEALTH, WEBSDRS_STATUS, WILDCARD
from backend.kinds import RECEIVERS, SERVICES
from backend.kinds.status import overall_status
from backend.runtime import Runtime
from backend.safety.redact import redact_url
from backend.timefmt import utc_now_iso

router = ScopedRouter()

# No answer is larger than this, whatever `limit` says: a page ends early and says `more`.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


@router.get("/healthz", scope="public", tags=["health"])
async def healthz(request: Request) -> dict[str, Any]:
    """Liveness: the process answers (always 200: a degraded gateway is not to be
    restarted). `status` is `degraded` while a part underneath is down, each named in
    `parts`: storage (the database, the disk), the event bus (Redis), the platform's feed.
    Renders no page, checks no target and asks nothing of them: what they said last."""
    parts = runtime_of(request).parts()
    degraded = any(state != "up" for state in parts.values())
    return {"status": "degraded" if degraded else "ok", "parts": parts}


@router.get("/api/v1/system/status", scope="read", tags=["status"])
async def system_status(request: Request) -> dict[str, Any]:
    runtime = runtime_of(request)
    services = [{**s, "maintenance": runtime.alerts.quiet_reason(SERVICES.name, key)}
                for key, s in runtime.hub.latest(SERVICES_HEALTH).data.items()]
    return {
        "overall_status": overall_status([s["status"] for s in services]),
        "services": services,
        "timestamp": utc_now_iso(),
    }


@router.get("/api/v1/websdrs", scope="read", tags=["status"])
async def websdrs(request: Request) -> list[dict[str, Any]]:
    """Every configured receiver with its latest status."""
    runtime = runtime_of(request)
    health = runtime.hub.latest(WEBSDRS_STATUS).data
    answer = []
    for websdr in runtime.settings.config.websdrs:
        status = health.get(websdr.id) or RECEIVERS.unknown(websdr)
        answer.append({**websdr.model_dump(), "url": redact_url(websdr.url),
                       **{k: v for k, v in status.items() if k != "websdr_id"},
                       "maintenance": runtime.alerts.quiet_reason(RECEIVERS.name, websdr.id)})
    return answer


@router.get("/api/v1/websdrs/health", scope="read", tags=["status"])
async def websdrs_health(request: Request) -> dict[str, Any]:
    """A map keyed by receiver id: status, response_time_ms, last_check, error_message."""
    return runtime_of(request).hub.latest(WEBSDRS_STATUS).data


@router.get("/api/v1/gateway/stats", scope="read", tags=["status"])
async def gateway_stats(request: Request) -> dict[str, Any]:
    """The gateway's own figures."""
    runtime = runtime_of(request)
    stats = runtime.manager.stats
    return {
        "version": __version__,
        "epoch": runtime.hub.epoch,
        "uptime_s": round(runtime.uptime_s(), 1),
        "last_seq": runtime.hub.last_seq,
        "events_published": runtime.hub.events_published,
        "ws_clients": len(runtime.manager.connections),
        "instance_id": getattr(runtime.monitor.lease, "instance", None),  # null: one process, no cluster
        "poller_leader": runtime.monitor.lease.held,
        "event_bus": runtime.event_bus_state(),
        "instances": await runtime.instances.live() if runtime.instances is not None else [],
        "ws_connections_total": stats.connections_total,
        "ws_slow_consumers_closed": stats.slow_consumers_closed,
        "ws_rate_limited_closed": stats.rate_limited_closed,
        "ws_oversized_closed": stats.oversized_closed,
        "ws_binary_closed": stats.binary_closed,
        "ws_client_errors": stats.client_errors,
        "config_reloads": {"applied": runtime.reloader.applied, "refused": runtime.reloader.refused}
        if runtime.reloader is not None else {"applied": 0, "refused": 0},
        "feed": feed_figures(runtime),
        "process": process_figures(runtime),
        **guard_figures(runtime),
    }


def process_figures(runtime: Runtime) -> dict[str, Any]:
    """What a leak would show first (bench/soak.py watches them): memory, descriptors,
    asyncio tasks, page sessions kept by the pages and the passes that collect closed ones."""
    import asyncio
    import os
    import resource

    try:
        descriptors: int | None = len(os.listdir("/proc/self/fd"))
    except OSError:
        descriptors = None
    try:
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rss_bytes": rss, "open_descriptors": descriptors, "asyncio_tasks": len(asyncio.all_tasks()),
            "ws_clients": len(runtime.manager.connections),
            **(runtime.page_figures() if runtime.page_figures is not None else {"page_clients": None})}


def feed_figures(runtime: Runtime) -> dict[str, Any] | None:
    """The platform's feed (backend/feed), when there is one: its state and why, when it was
    last heard, messages a minute, its queue's depth, counts; the broker's URL redacted."""
    feed = runtime.feed
    if feed is None:
        return None
    answers = feed.answers
    return {"url": feed.shown_url(), "queue": feed.settings.queue, **feed.state.as_dict(int(time.time() * 1000)),
            "answers": {"published": answers.published, "dropped": answers.dropped} if answers else None}


def guard_figures(runtime: Runtime) -> dict[str, int]:
    guard = runtime.guard
    if guard is None:
        return {}
    return {"origin_refused": guard.stats.origin_refused, "auth_refused": guard.stats.auth_refused,
            "throttled": guard.stats.throttled, "server_errors": guard.stats.server_errors,
            "sign_ins_busy": runtime.auth.passwords.refused,  # answered 503: the password lane was full
            **(runtime.edge.figures() if runtime.edge is not None else {})}


@router.get("/api/v1/events", scope="read", tags=["events"])
async def events(
    request: Request,
    after: Annotated[int | None, Query(ge=0, description="seq of the last event you have; needs `epoch`")] = None,
    epoch: Annotated[str | None, Query(description="epoch of that seq (from a previous answer)")] = None,
    topics: Annotated[str, Query(description="comma-separated topics, or *")] = WILDCARD,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """The replay buffer, for clients that poll instead of holding a WebSocket.

    recovered true: `events` are every event of `topics` after `after`, in order (`more`
    says a further page waits: a page holds at most `limit` events and about 4 MiB). recovered false (no `after`, another epoch, or `after`
    has left the buffer): `events` are the latest value of each state topic instead.
    Poll again with after=`next_after`.
    """
    hub = runtime_of(request).hub
    wanted = frozenset(t.strip() for t in topics.split(",") if t.strip())
    unknown = sorted(t for t in wanted if t != WILDCARD and t not in ALL_TOPICS)
    if not wanted or unknown:
        raise HTTPException(422, f"unknown topic {unknown[0]!r}" if unknown else "topics must name at least one topic")
    if after is not None and epoch is None:
        raise HTTPException(422, "epoch is required with after: pass the epoch of a previous answer")
    last_seq = hub.last_seq
    replay = hub.replay(wanted, Since(epoch, after) if after is not None and epoch else None, limit=limit,
                        max_bytes=MAX_ANSWER_BYTES)
    next_after = replay.events[-1].seq if replay.more else last_seq
    return {
        "epoch": hub.epoch,
        "recovered": replay.recovered,
        "more": replay.more,
        "next_after": next_after,
        "events": [env.as_dict() for env in replay.events],
    }

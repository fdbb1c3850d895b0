"""Probes from several sites: what an agent fetches and posts (the `agent` scope, for
its own site alone), and every site's state for people (`read`).

An agent token names one site (`python main.py token create NAME --scope agent --site
SITE`); the site comes from the token, never from the body, so an agent cannot speak
for another site. Results are kept in the shared store (backend/sites/store.py), where
the poller counts them at its next round, whichever gateway received them."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from backend.alerting.rules import covers
from backend.api.bodies import parse_body
from backend.api.errors import StrictJSONResponse, error
from backend.api.requests import runtime_of
from backend.auth.scopes import ScopedRouter
from backend.kinds import CHECKS, targets_of
from backend.kinds.status import SERVICE_STATUSES, WEBSDR_STATUSES
from backend.safety.redact import redact_text
from backend.sites.quorum import Vote, site_problem
from backend.sites.store import SiteReport

router = ScopedRouter(tags=["sites"])

MAX_RESULTS_BYTES = 4 * 1024 * 1024  # a round of 10,000 targets with long reasons fits
MAX_AGE_S = 86_400  # a buffered round older than a day is refused: its votes could never count
MAX_AHEAD_S = 30  # a clock further ahead of the gateway's is refused; a round less ahead counts as received now
MAX_REASON_CHARS = 300
STATUSES = {"services": SERVICE_STATUSES, "websdrs": WEBSDR_STATUSES}


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, Field(min_length=1, max_length=128, description="the service's name or the receiver's id")]
    status: Annotated[str, Field(max_length=32, description="in the group's words: online/offline..., healthy/...")]
    response_time_ms: Annotated[float, Field(ge=0, le=3_600_000, allow_inf_nan=False)] | None = None
    error: Annotated[str, Field(max_length=500)] | None = None


class Round(BaseModel):
    """One probe round of one group, from one site."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "group": "websdrs", "checked_at": "2026-12-03T08:00:00Z", "references_ok": True, "dropped": 0,
        "agent": "heimdall-agent 1.0", "results": [{"key": "torino", "status": "online", "response_time_ms": 84.2}]}})
    group: Literal["services", "websdrs"]
    checked_at: datetime
    results: Annotated[list[Result], Field(max_length=10_000)]
    references_ok: bool | None = Field(None, description="whether the site reached its reference endpoints; null: none")
    dropped: Annotated[int, Field(ge=0, le=10**9, description="rounds dropped from a full buffer since the last post")] = 0
    agent: Annotated[str, Field(max_length=200)] | None = None


def site_targets(config: Any, site: str) -> dict[str, list]:
    """The targets a site probes: those its `[[sites.agents]]` entry names, else all; never
    a push service (nothing to probe: it reports itself)."""
    chosen = next((agent for agent in config.sites.agents if agent.name == site), None)
    every = {group: [t for t in targets if not CHECKS[t.spec.probe].reported]
             for group, targets in targets_of(config).items()}
    if chosen is None:
        return every
    return {group: [t for t in targets if covers(chosen.targets, group, t.key)] for group, targets in every.items()}


@router.get("/api/v1/agent/targets", scope="agent")
async def agent_targets(request: Request) -> dict[str, Any]:
    """What this agent's site probes, and how often (the `agent` scope). Target addresses
    are given whole, as configured: an agent token is trusted with them."""
    runtime = runtime_of(request)
    config, site = runtime.settings.config, request.state.principal.site
    if not site:
        return error(403, "this needs an agent token (token create NAME --scope agent --site SITE)")
    polling = config.polling
    return {
        "site": site, "gateway_site": config.sites.gateway_site,
        "polling": {"services_interval_s": polling.services_interval_s, "websdrs_interval_s": polling.websdrs_interval_s,
                    "timeout_s": polling.timeout_s, "max_concurrency": polling.max_concurrency},
        "connectivity": {"references": list(config.connectivity.references), "timeout_s": config.connectivity.timeout_s},
        "targets": {group: [{"key": t.key, "probe": t.spec.probe, "url": t.spec.url, "timeout_s": t.spec.timeout_s,
                             "degraded_after_ms": t.spec.degraded_after_ms,
                             # made at run time: the agent probes it under the same [targets] policy
                             "confined": {"refuse": list(t.spec.policy.refuse), "allow": list(t.spec.policy.allow)}
                             if t.spec.policy else None} for t in targets]
                    for group, targets in site_targets(config, site).items()},
    }


@router.post("/api/v1/agent/results", scope="agent", status_code=202,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/Round"}}}}, "x-statuses": [400, 409, 413]})
async def agent_results(request: Request) -> dict[str, Any]:
    """One probe round from this agent's site (the `agent` scope). Kept at once; the
    poller counts its votes at its next round. Results for targets the site does not
    probe are left out and counted in `ignored`."""
    runtime = runtime_of(request)
    config, site = runtime.settings.config, request.state.principal.site
    if not site:
        return error(403, "this needs an agent token (token create NAME --scope agent --site SITE)")
    if site == config.sites.gateway_site:
        return error(409, f"site {site!r} is the gateway's own; give the agent another site")
    body = await parse_body(request, Round, MAX_RESULTS_BYTES, "a round")
    if isinstance(body, StrictJSONResponse):
        return body
    if body.checked_at.tzinfo is None:
        return error(422, "checked_at: give a time zone, e.g. 2026-12-03T08:00:00Z", field="checked_at")
    now_ms = int(time.time() * 1000)
    round_ms = int(body.checked_at.astimezone(timezone.utc).timestamp() * 1000)
    if not now_ms - MAX_AGE_S * 1000 <= round_ms <= now_ms + MAX_AHEAD_S * 1000:
        return error(422, f"checked_at: more than a day old, or more than {MAX_AHEAD_S} s ahead of the gateway's "
                          f"clock", field="checked_at")
    # Never later than it arrived: a round dated ahead must not outrank the site's next ones.
    round_ms = min(round_ms, now_ms)
    words = STATUSES[body.group]
    wrong = next((r for r in body.results if r.status not in words), None)
    if wrong is not None:
        return error(422, f"results: {wrong.key}: status {wrong.status!r} is not one of {', '.join(words)}",
                     field="results")
    mine = {t.key for t in site_targets(config, site)[body.group]}
    # An agent's reason reaches viewers: redacted (URLs' secrets) and bounded, as the gateway's own.
    kept = {r.key: Vote(r.status, round_ms, redact_text(r.error)[:MAX_REASON_CHARS] if r.error else r.error,
                        r.response_time_ms) for r in body.results if r.key in mine}
    problem = site_problem([(r.status, r.error) for r in body.results if r.key in mine], body.references_ok)
    report = SiteReport(site, body.group, now_ms, round_ms, problem, body.dropped, body.agent)
    await runtime.database.run(runtime.monitor.sites.store.report, report, kept)
    return {"site": site, "group": body.group, "accepted": len(kept), "ignored": len(body.results) - len(kept),
            "problem": problem}


@router.get("/api/v1/sites", scope="read")
async def sites(request: Request) -> list[dict[str, Any]]:
    """Every site that probes: the gateway's own first, then each agent's, with whether
    it is stale (silent two polling intervals) or set aside (its round failed as a whole)."""
    runtime = runtime_of(request)
    book = runtime.monitor.sites
    await book.load(None)
    return [state.public() for state in book.states(runtime.settings.config, int(time.time() * 1000))]

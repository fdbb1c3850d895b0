"""One round of checks, wherever it runs: in the gateway's probe worker process
(backend/monitor/worker.py), in a probe agent at another site (backend/sites/agent.py)
and in a trial before a target is saved (backend/monitor/trial.py). Each check is its
kind's own probe, guarded: a probe with a bug is a failed check with the reason, never a
failed round; a target made at run time is checked under its destination policy."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from typing import Awaitable, Callable, TypeVar

from backend.kinds import CHECKS, GROUPS, CheckSpec
from backend.kinds.probing import ProbeClient, ProbeResult, probe_client
from backend.safety.destinations import confined
from backend.safety.redact import redact_text, redact_url

log = logging.getLogger(__name__)

T = TypeVar("T")


async def run_bounded(jobs: list[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run every job, at most `limit` at a time; results in the order of `jobs`."""
    semaphore = asyncio.Semaphore(limit)

    async def guarded(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return await asyncio.gather(*(guarded(job) for job in jobs))


async def check(client: ProbeClient, spec: CheckSpec) -> ProbeResult:
    """One check by its kind's own probe (backend/kinds); a probe with a bug is a failed
    check with the reason, never a failed round. A reason that quotes a URL (an HTTP
    library's message, say) quotes it redacted."""
    kind = CHECKS[spec.probe]
    try:
        with confined(spec.policy):  # a target made at run time connects only where [targets] allows
            result = await kind.check(client, spec)
    except Exception as exc:
        log.error("probe of %s failed: %s", redact_url(spec.url), type(exc).__name__)
        return ProbeResult(GROUPS[kind.group].down, None, f"probe error: {type(exc).__name__}")
    if result.error and "://" in result.error:
        return dataclasses.replace(result, error=redact_text(result.error))
    return result


async def probe_all(specs: list[CheckSpec], max_concurrency: int) -> list[ProbeResult]:
    async with probe_client(max_concurrency) as client:
        return await run_bounded([functools.partial(check, client, spec) for spec in specs], max_concurrency)



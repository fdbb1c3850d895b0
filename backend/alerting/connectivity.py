"""Is the gateway's own network working? A TCP connect to reference endpoints that should
always answer (`[connectivity] references`); asked only when a whole round failed in a
way that implicates the gateway (rules.suspect_round)."""

from __future__ import annotations

import asyncio

from backend.kinds.tcp import connect


async def _reaches(reference: str, timeout_s: float) -> bool:
    try:
        await connect(reference, timeout_s)
    except (OSError, TimeoutError, ValueError):
        return False
    return True


async def network_works(references: list[str], timeout_s: float) -> bool | None:
    """True when any reference answers, False when none does, None when none is configured."""
    if not references:
        return None
    results = await asyncio.gather(*(_reaches(r, timeout_s) for r in references))
    return any(results)

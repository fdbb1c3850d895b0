"""Open pages and /ws/updates sockets checked again while they stay open.

A page or a socket is let in once, when it connects; a session that ends, a password
that changes, an account removed or downgraded, or a token revoked must take its rights
away from what is already open too. Every `interval_s` the holders of open things (the
WebSocket manager, the pages) list each one's principal with what to do when it lost
rights; the store is asked once for all distinct credentials, and each one that now gives
nothing, or fewer scopes, is told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from backend.auth.principal import Authenticator, Principal

log = logging.getLogger("heimdall.auth")

RECHECK_S = 2.0  # with the guard's 5 s cache never involved, rights go within this (the README says 5 s)

Holder = tuple[Principal, Callable[[Principal | None], None]]


def lost_rights(before: Principal, now: Principal | None) -> bool:
    return now is None or not before.scopes <= now.scopes


class Revalidator:
    def __init__(self, auth: Authenticator, interval_s: float = RECHECK_S) -> None:
        self._auth = auth
        self.interval_s = interval_s
        self.sources: list[Callable[[], Iterable[Holder]]] = []
        self.revoked = 0

    async def check_once(self) -> int:
        """One pass; the number of holders told."""
        holders = [holder for source in self.sources for holder in source()]
        if not holders:
            return 0
        now = await self._auth.recheck([principal for principal, _ in holders])
        told = 0
        for principal, lost in holders:
            current = now.get(principal.credential, principal)
            if lost_rights(principal, current):
                self._auth.forget_credential(principal)
                lost(current)
                told += 1
        self.revoked += told
        return told

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.check_once()
            except Exception as exc:  # the database away a moment: the next pass asks again
                log.warning("could not check open pages and sockets again: %s", exc)

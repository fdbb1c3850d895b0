"""Who polls: one poller for all gateway processes.

`LocalLease` (one process) always holds. `RedisLease` is a lock in Redis with a time to
live, renewed while held: only the holder probes. A process that dies stops renewing and
another takes the lock within one TTL and one attempt interval (TTL = half the shortest
polling interval, so a new leader polls within two intervals). Each acquisition takes a
new fencing token (an INCR in the same script), and the event log refuses events that
carry an older token (backend/events/redis_bus.py): the results of a leader that stalled past
its TTL are discarded, never mixed with the new leader's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from typing import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LEASE, FENCE = "heimdall:poller", "heimdall:poller:fence"

# KEYS: lease, fence. ARGV: this instance, ttl ms. The new fencing token, or nil.
ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
"""
# KEYS: lease. ARGV: this instance, ttl ms. 1 while still held.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


def instance_id() -> str:
    """This process among the gateways: host, pid and a random part (pids repeat in containers)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


def lease_ttl_s(services_interval_s: float, websdrs_interval_s: float) -> float:
    return max(0.5, min(services_interval_s, websdrs_interval_s) / 2)


class LocalLease:
    """One process: always the poller; no fencing token."""

    held = True
    fence: str | None = None

    def __init__(self) -> None:
        self.on_acquired: list[Callable[[], None]] = []

    async def run(self) -> None:
        return None

    def retime(self, config) -> None:
        return None


class RedisLease:
    def __init__(self, url: str, instance: str, ttl_s: float) -> None:
        self._redis = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=max(0.5, ttl_s / 2),
                                              socket_connect_timeout=max(0.5, ttl_s / 2))
        self._acquire = self._redis.register_script(ACQUIRE)
        self._renew = self._redis.register_script(RENEW)
        self.instance = instance
        self.ttl_s = ttl_s
        self._held = False
        # It was the poller when Redis went away: no lease can be proved by anyone then, and
        # this one speaks for the gateway's own problems until Redis answers again.
        self.lost_to_redis = False
        self._proved_at = 0.0  # monotonic time just before the last acquire or renewal that succeeded
        self._clock = time.monotonic
        self.fence: str | None = None
        self.on_acquired: list[Callable[[], None]] = []  # e.g. the monitor takes the shared state

    @property
    def held(self) -> bool:
        """Held, and proved within the TTL. A process frozen past its TTL (SIGSTOP, a VM
        paused, a long GC pause) wakes not holding it, before its lease task has run
        again: the overdue round it wakes into neither probes, nor writes, nor notifies.
        Its fencing token still guards the event log behind this."""
        return self._held and self._clock() - self._proved_at < self.ttl_s

    def retime(self, config) -> None:
        """A reload changed the polling intervals: the TTL follows from the next renewal."""
        self.ttl_s = lease_ttl_s(config.polling.services_interval_s, config.polling.websdrs_interval_s)

    async def run(self) -> None:
        """Try to take or renew the lease every third of its TTL, for ever."""
        try:
            while True:
                await self._step()
                await asyncio.sleep(self.ttl_s / 3)
        finally:
            if self._held:  # a clean stop hands over at once instead of after the TTL
                try:
                    await self._redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                           "return redis.call('DEL', KEYS[1]) end return 0", 1, LEASE, self.instance)
                except (RedisError, OSError):
                    pass
            await self._redis.aclose()

    async def _step(self) -> None:
        ttl_ms = int(self.ttl_s * 1000)
        asked_at = self._clock()  # the lease runs from before the command: never longer here than in Redis
        try:
            if self._held:
                if not await self._renew(keys=[LEASE], args=[self.instance, ttl_ms]):
                    self._lose("another instance holds the poller lease")
                else:
                    self._proved_at = asked_at
                return
            token = await self._acquire(keys=[LEASE, FENCE], args=[self.instance, ttl_ms])
            self.lost_to_redis = False  # Redis answers: the lease says who speaks
            if token:
                self.fence, self._held, self._proved_at = str(token), True, asked_at
                log.warning("this instance (%s) is now the poller (fencing token %s)", self.instance, token)
                for listener in self.on_acquired:
                    listener()
        except (RedisError, OSError) as exc:
            if self._held:  # cannot prove the lease: stop polling rather than risk two pollers
                self._lose(f"Redis unreachable ({exc})")
                self.lost_to_redis = True

    def _lose(self, why: str) -> None:
        self._held, self.fence = False, None
        log.warning("this instance (%s) stopped polling: %s", self.instance, why)

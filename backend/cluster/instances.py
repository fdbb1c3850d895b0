"""Which gateway instances are alive, when several run on one Redis.

Each instance writes a short description of itself under its own key with an expiry,
every ANNOUNCE_EVERY_S; an instance that dies (even by `kill -9`) disappears when its
key expires, GONE_AFTER_S later. Redis 7.0 (Debian 12) has no expiry per hash field,
hence a key each.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "heimdall:instance:"
ANNOUNCE_EVERY_S = 2.0
GONE_AFTER_S = 6
MAX_LISTED = 100  # a bound on what one answer carries


class InstanceRegistry:
    def __init__(self, url: str, instance: str, describe: Callable[[], dict[str, Any]]) -> None:
        # Short timeouts: the stats answer and the System page wait for `live`.
        self._redis = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=1, socket_connect_timeout=1)
        self.instance = instance
        self._describe = describe

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._redis.set(PREFIX + self.instance, json.dumps({"id": self.instance, **self._describe()}),
                                          ex=GONE_AFTER_S)
                except (RedisError, OSError):
                    pass  # the event bus is down; the page says so (RedisBus.connected)
                await asyncio.sleep(ANNOUNCE_EVERY_S)
        finally:
            try:
                await self._redis.delete(PREFIX + self.instance)  # a clean stop leaves at once
            except (RedisError, OSError):
                pass
            await self._redis.aclose()

    async def live(self) -> list[dict[str, Any]]:
        """Every instance that announced itself lately, by id; empty when Redis is down."""
        try:
            keys = [key async for key in self._redis.scan_iter(match=PREFIX + "*", count=100)][:MAX_LISTED]
            values = await self._redis.mget(keys) if keys else []
        except (RedisError, OSError):
            return []
        found = []
        for value in values:
            try:
                found.append(json.loads(value))
            except (TypeError, ValueError):
                continue
        return sorted(found, key=lambda item: str(item.get("id")))

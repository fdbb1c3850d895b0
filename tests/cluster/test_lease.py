"""The poller lease (backend/cluster/leader.py) on a real Redis, with an injected clock:
a process frozen past its TTL wakes not holding the lease, before its lease task has run
again (issue 33: a poller resumed after SIGSTOP probed every target again at once)."""

from __future__ import annotations

import shutil

import pytest

from backend.cluster.leader import RedisLease
from tests.redis_server import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_lease_not_proved_within_its_ttl_is_not_held(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path / "redis").start()
    clock = Clock()
    first, second = RedisLease(server.url, "first", 2.0), RedisLease(server.url, "second", 2.0)
    first._clock = second._clock = clock
    try:
        await first._step()
        assert first.held and first.fence == "1"
        clock.now += 1.9
        assert first.held  # within its TTL since it was proved
        clock.now += 0.2
        assert not first.held  # frozen past its TTL: not held, with no trip to Redis
        server_client = first._redis
        await server_client.delete("heimdall:poller")  # its key expired in Redis meanwhile
        await second._step()
        assert second.held and second.fence == "2"
        await first._step()  # its lease task runs again: the renewal fails, it lets go
        assert not first.held and first.fence is None
        clock.now += 1.0
        await second._step()  # renewed: proved again from now
        clock.now += 1.5
        assert second.held
    finally:
        for lease in (first, second):
            await lease._redis.aclose()
        server.stop()

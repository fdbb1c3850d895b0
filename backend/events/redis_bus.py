"""The event log on Redis: several gateway processes, one sequence, one epoch.

Every event is appended to one Redis Stream by a Lua script that, in one atomic step,
takes the next sequence number (INCR), creates the epoch if there is none, appends
the entry with the seq as its stream ID (trimmed to about the replay size). Every instance reads the stream in
order and feeds its own hub, so all of them agree on seq and epoch, and a client can
resume on any instance.

The epoch lives in Redis beside the counter: it changes only when both are lost
(Redis restarted without persistence). A reader that finds a new epoch starts the
stream over, and its hub forgets its buffer, so clients get `recovered: false` rather
than a silent gap.

The latest event of each state topic is also kept beside the log (a hash per topic,
written by the same script), so an instance that joins after the stream was trimmed
past the last status round still starts from the current state.

Key names (prefix `heimdall:`): `epoch` (string), `seq` (counter), `log` (the stream),
`once:<key>` (an event's idempotency key, for ONCE_TTL_S), `latest:<topic>` (hash).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from backend.cluster.leader import FENCE
from backend.events.bus import Bus, BusUnavailable, Deliver, StaleLeader
from backend.events.envelope import Envelope, encode
from backend.events.topics import STATE_TOPICS
from backend.timefmt import utc_now_iso

log = logging.getLogger(__name__)

PREFIX = "heimdall:"
EPOCH, SEQ, LOG, ONCE, LATEST = (PREFIX + name for name in ("epoch", "seq", "log", "once:", "latest:"))
READ_BLOCK_MS = 1000  # a reader wakes at least this often to check the epoch
READ_COUNT = 1000
RETRY_S = 1.0  # between attempts while Redis is unreachable
SOCKET_TIMEOUT_S = 3.0

ONCE_TTL_S = 3600  # how long an event's idempotency key is remembered (see Bus.publish)

# KEYS: epoch, seq, log, the poller's fencing token, the idempotency key, the topic's
# latest-value hash. ARGV: event, data (JSON), timestamp, max length, a new epoch in
# case there is none, the publisher's fencing token ('' for events that are not the
# poller's), whether the event has an idempotency key ('1' or ''), its TTL, whether
# the event is of a state topic ('1' or ''). False: a stale poller's event; {0, ''}:
# the log has this key's event already.
APPEND = """
if ARGV[6] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[6] then
  return false
end
if ARGV[7] ~= '' and not redis.call('SET', KEYS[5], '1', 'NX', 'EX', ARGV[8]) then
  return {0, ''}
end
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[5]
  redis.call('SET', KEYS[1], epoch)
end
local seq = redis.call('INCR', KEYS[2])
local id = seq .. '-0'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], id, 'event', ARGV[1], 'data', ARGV[2], 'ts', ARGV[3],
           'epoch', epoch)
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[6], 'seq', seq, 'event', ARGV[1], 'data', ARGV[2], 'ts', ARGV[3], 'epoch', epoch)
end
return {seq, epoch}
"""


def envelope_of(entry_id: str, fields: dict[str, str]) -> Envelope:
    """A stream entry as the hub's envelope (the same bytes on every instance)."""
    seq = int(entry_id.split("-", 1)[0])
    return Envelope.make(fields["event"], json.loads(fields["data"]), fields["ts"], seq, fields["epoch"])


class RedisBus(Bus):
    def __init__(self, url: str, replay_size: int) -> None:
        # A reader blocks READ_BLOCK_MS at most, so an answer later than SOCKET_TIMEOUT_S means
        # Redis is gone or frozen: said within seconds (issue 33), not after a long timeout.
        self._redis = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=SOCKET_TIMEOUT_S,
                                              socket_connect_timeout=SOCKET_TIMEOUT_S, health_check_interval=10)
        self._replay_size = replay_size
        self._append = self._redis.register_script(APPEND)
        self._deliver: list[Deliver] = []
        self._restart: list[Callable[[], None]] = []  # hubs' functions to call when the epoch changes
        self._last_seq = 0
        self._reader: asyncio.Task | None = None
        self.epoch = ""
        self.connected = False

    def attach(self, deliver: Deliver, restart: Callable[[], None] | None = None) -> None:
        self._deliver.append(deliver)
        if restart is not None:
            self._restart.append(restart)

    def last_seq(self) -> int:
        return self._last_seq

    async def start(self) -> None:
        """Join the log: the epoch, then what the stream still holds, before serving.
        Redis down at start: the instance serves what it has and keeps trying."""
        try:
            await self._join()
        except (RedisError, OSError) as exc:
            log.warning("event bus down at start (Redis: %s); retrying every %g s", exc, RETRY_S)
        self._reader = asyncio.get_running_loop().create_task(self._read_forever())

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self._redis.aclose()

    async def publish(self, event: str, data: Any, fence: str | None = None, once: str | None = None) -> Envelope | None:
        timestamp = utc_now_iso()
        try:
            answer = await self._append(keys=[EPOCH, SEQ, LOG, FENCE, ONCE + (once or ""), LATEST + event],
                                        args=[event, encode(data), timestamp, self._replay_size,
                                              secrets.token_hex(8), fence or "", "1" if once else "", ONCE_TTL_S,
                                              "1" if event in STATE_TOPICS else ""])
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"Redis: {exc}") from None
        if not answer:
            raise StaleLeader(f"{event}: fencing token {fence} is no longer the poller's")
        seq, epoch = answer
        if int(seq) == 0:
            return None  # another gateway published it already
        # Delivered to this process's hub by the reader, in seq order with everyone else's.
        return Envelope.make(event, data, timestamp, int(seq), epoch)

    async def latest_states(self) -> list[Envelope]:
        """The latest event of each state topic in this epoch; [] when Redis is unreachable."""
        found = []
        try:
            for topic in sorted(STATE_TOPICS):
                fields = await self._redis.hgetall(LATEST + topic)
                if fields and fields.get("epoch") == self.epoch:
                    found.append(envelope_of(f"{fields['seq']}-0", fields))
        except (RedisError, OSError) as exc:
            log.warning("could not read the latest states from Redis: %s", exc)
        return found

    async def _join(self) -> None:
        epoch = await self._redis.get(EPOCH)
        if epoch is None:
            candidate = secrets.token_hex(8)
            await self._redis.set(EPOCH, candidate, nx=True)
            epoch = await self._redis.get(EPOCH)
        if epoch != self.epoch:
            self._new_epoch(epoch)
        await self._catch_up()
        self.connected = True

    def _new_epoch(self, epoch: str) -> None:
        if self.epoch:
            log.warning("the event log on Redis was lost (new epoch %s): clients will resume with recovered: false",
                        epoch)
        self.epoch = epoch
        self._last_seq = 0
        for restart in self._restart:
            restart()

    async def _catch_up(self) -> None:
        """Everything in the stream after what this process has, oldest first."""
        while True:
            entries = await self._redis.xrange(LOG, min=f"({self._last_seq}-0" if self._last_seq else "-",
                                               count=READ_COUNT)
            if not entries:
                return
            self._feed(entries)

    def _feed(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        for entry_id, fields in entries:
            if fields.get("epoch") != self.epoch:
                continue  # an entry of an older epoch left in the stream: never mixed in
            env = envelope_of(entry_id, fields)
            if env.seq <= self._last_seq:
                continue
            self._last_seq = env.seq
            for deliver in self._deliver:
                deliver(env)

    async def _read_forever(self) -> None:
        while True:
            try:
                if not self.connected:  # back: join again (a new epoch? what was missed?) before reading on
                    await self._join()
                    log.warning("event bus back (Redis)")
                answer = await self._redis.xread({LOG: f"{self._last_seq}-0"}, count=READ_COUNT, block=READ_BLOCK_MS)
                if answer:
                    for _, entries in answer:
                        self._feed(entries)
                elif await self._redis.get(EPOCH) != self.epoch:
                    await self._join()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("event bus down (Redis: %s); retrying every %g s", exc, RETRY_S)
                self.connected = False
                # Retried at the top: a join that failed while Redis was still frozen is tried
                # again, never left with a working log marked down (issue 33: it stayed "down").
                await asyncio.sleep(RETRY_S)

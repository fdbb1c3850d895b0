"""Delivering notifications through their providers (backend/alerting/providers), off
every other path.

A notification is queued (never awaited by whoever raises it) and sent by a few worker
tasks, each URL on its own: a provider is blocking, so each attempt runs in a thread of a
dedicated pool under a timeout, and a failed attempt is retried with backoff (1, 2,
4 ... s). An endpoint that hangs holds one thread and one worker for at most the
timeout; the others go on. Every attempt's outcome is kept (`record`: backend/alerting/outcomes.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from backend.alerting import providers
from backend.safety.destinations import DestinationPolicy

if TYPE_CHECKING:
    from backend.alerting.kept import KeptQueue

log = logging.getLogger(__name__)

WORKERS = 4
QUEUE_LIMIT = 10_000  # notifications waiting; beyond this the oldest are dropped (and counted)


@dataclass(frozen=True)
class Notification:
    alert: str  # the alert or watch it comes from
    subject: str  # "services:inference", "watch beacon-2m", "gateway"
    event: str  # DOWN, RESOLVED, REMINDER, WATCH, GATEWAY, TEST
    title: str
    body: str
    urls: tuple[str, ...]


Record = Callable[[Notification, str, str | None], Awaitable[None]]
# A notification's row in the database's queue (backend/alerting/kept.py): known, still
# being written, or none (no queue, or the database could not keep it).
Row = int | Awaitable[int | None] | None


@dataclass
class Queued:
    notification: Notification
    row: Row


@dataclass(frozen=True)
class Attempt:
    """What became of a notification at one URL (the URL shown redacted)."""

    url: str
    delivered: bool
    reason: str | None


class Delivery:
    def __init__(self, timeout_s: float, retries: int, record: Record | None,
                 send: Callable[..., tuple[bool, str | None]] = providers.send,
                 policy_for: Callable[[str], DestinationPolicy | None] = lambda alert: None,
                 kept: "KeptQueue | None" = None) -> None:
        self.timeout_s, self.retries = timeout_s, retries
        self.kept = kept  # the database's copy of what is queued: a crash does not lose it
        self.policy_for = policy_for  # an alert's destination policy: confined when made at run time
        self.record = record  # where each outcome is kept (Outcomes.keep, given at construction)
        self._send = send
        self._queue: asyncio.Queue[Queued] | None = None
        self._pool = ThreadPoolExecutor(max_workers=WORKERS * 2, thread_name_prefix="notify")
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (alert, "sent"|"failed"|"dropped")
        self._tasks: list[asyncio.Task] = []
        self.pending = 0  # submitted and not yet sent or given up: 0 means everything is out
        self._sending: list[Queued] = []  # being sent now, by the workers
        self._all_out: asyncio.Event | None = None  # set while nothing is pending
        self._chores: set[asyncio.Task] = set()  # notifications given up, being recorded (kept referenced)


    def submit(self, notification: Notification, row: Row = None) -> None:
        """Queue a notification; returns at once. `row`: its row in the database's queue
        when it has one already (a group's, a claimed one); else it is kept now."""
        if self._queue is None:
            self._queue = asyncio.Queue()
        if row is None and self.kept is not None:
            row = asyncio.ensure_future(self.kept.keep(notification))
        if self._queue.qsize() >= QUEUE_LIMIT:
            dropped = self._queue.get_nowait()
            self.pending -= 1
            self.give_up(dropped.notification, dropped.row, f"more than {QUEUE_LIMIT} notifications waiting")
        self._queue.put_nowait(Queued(notification, row))
        self.pending += 1
        if self._all_out is not None:
            self._all_out.clear()

    async def run(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(WORKERS)]
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for task in self._tasks:
                task.cancel()
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def _keep(self, notification: Notification, outcome: str, detail: str | None) -> None:
        if self.record is not None:
            try:
                await self.record(notification, outcome, detail)
            except Exception:
                log.exception("could not keep the outcome of a notification")

    async def _worker(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            self._sending.append(item)
            try:
                for url in item.notification.urls:
                    await self._deliver(item.notification, url)
                if self.kept is not None:  # out (or given up, and kept so): no longer queued
                    await self._forget(item)
            finally:
                self._sending.remove(item)
                self.pending -= 1
                if self.pending == 0 and self._all_out is not None:
                    self._all_out.set()

    async def _forget(self, item: Queued) -> None:
        assert self.kept is not None
        await self.kept.forget(await row_of(item))

    def give_up(self, notification: Notification, row: Row, why: str) -> None:
        """Not to be sent: kept as dropped, with why, in the history, and out of the
        database's queue (so that no later claim sends it either)."""
        task = asyncio.ensure_future(self._given_up(Queued(notification, row), why))
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _given_up(self, item: Queued, why: str) -> None:
        self.outcomes[(item.notification.alert, "dropped")] += 1
        await self._keep(item.notification, "dropped", why)
        if self.kept is not None:
            await self._forget(item)

    async def finish(self, within_s: float) -> int:
        """A planned stop: what is queued goes on out for up to `within_s`. What is not out
        by then stays in the database's queue for the next start (or the next poller) to
        send, told late; without that queue it is kept as dropped, with why, in the
        history. Logged either way. Answers how many were not sent. The workers still run."""
        if self.pending:
            self._all_out = asyncio.Event()
            try:
                async with asyncio.timeout(within_s):
                    await self._all_out.wait()
            except TimeoutError:
                pass
        left = list(self._sending)
        while self._queue is not None and not self._queue.empty():
            left.append(self._queue.get_nowait())
        lost = [item for item in left if await row_of(item) is None]  # not in the database's queue
        for item in lost:
            await self._given_up(item, f"the gateway stopped before it was sent ({within_s:g} s given)")
        if self.kept is not None:
            await self.kept.give_up_holds()
        if left:
            log.warning("stopping: %d notification(s) not sent within %g s, %d left queued for the next start: %s",
                        len(left), within_s, len(left) - len(lost),
                        ", ".join(f"{q.notification.alert}/{q.notification.event} {q.notification.subject}"[:120]
                                  for q in left[:5]))
        return len(left)

    async def try_now(self, notification: Notification) -> list[Attempt]:
        """Send now, through every URL at once, each tried as often as any notification is,
        and answer what became of it at each (a test: the one who asked is waiting)."""
        delivered = await asyncio.gather(*(self._deliver(notification, url) for url in notification.urls))
        return [Attempt(providers.shown(url), ok, reason) for url, (ok, reason) in zip(notification.urls, delivered)]

    async def _attempt(self, notification: Notification, url: str) -> tuple[bool, str | None]:
        try:
            return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
                self._pool, self._send, url, notification.title, notification.body, self.timeout_s,
                self.policy_for(notification.alert)), self.timeout_s + 1)
        except asyncio.TimeoutError:
            return False, f"no answer within {self.timeout_s:g} s"

    async def _deliver(self, notification: Notification, url: str) -> tuple[bool, str | None]:
        """Every attempt at one URL, with backoff; the outcome kept and returned."""
        reason: str | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(2 ** (attempt - 1))
            started = time.monotonic()
            ok, reason = await self._attempt(notification, url)
            if ok:
                self.outcomes[(notification.alert, "sent")] += 1
                await self._keep(notification, "sent", f"attempt {attempt + 1}, "
                                                         f"{(time.monotonic() - started) * 1000:.0f} ms")
                return True, None
        self.outcomes[(notification.alert, "failed")] += 1
        log.warning("notification %s/%s failed after %d attempts: %s", notification.alert, notification.event,
                    self.retries + 1, reason)
        tried = f"{self.retries + 1} attempt{'s' if self.retries else ''}: {reason}"
        await self._keep(notification, "failed", tried)
        return False, tried


async def row_of(item: Queued) -> int | None:
    if item.row is None or isinstance(item.row, int):
        return item.row
    return await item.row

"""Configuration reload without a restart: on SIGHUP, and when the file changes.

Targets are added, removed or changed in place, and polling and history settings take
effect at once; /ws/updates clients and open pages stay connected and see the new set
of targets in the next state events. A new file that does not load keeps the running
configuration and logs one line per problem. `[websocket]` and `[hub]` are read at
start only (their buffers and limits belong to live connections): a change there is
logged as waiting for a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.config.loading import load_config
from backend.config.managed import ManagedStore, merged
from backend.config.schema import ConfigError
from backend.monitor.scheduler import schedule_monitor
from backend.runtime import Runtime
from backend.storage.database import unavailable_reason

log = logging.getLogger(__name__)

RESTART_ONLY = ("websocket", "hub", "feed")  # the feed's connection and topics are made at start
WATCH_EVERY_S = 5.0


class ConfigReloader:
    def __init__(self, runtime: Runtime, scheduler: AsyncIOScheduler) -> None:
        self._runtime = runtime
        self._scheduler = scheduler
        self._lock = asyncio.Lock()
        self._seen = self._signature()
        self._managed = ManagedStore(runtime.database)
        self._managed_seen: tuple[int, int] | None = None
        self.applied = 0  # reloads taken (GET /api/v1/gateway/stats; tests wait on them)
        self.refused = 0  # new files refused: the running configuration stayed

    @property
    def path(self) -> Path:
        return self._runtime.settings.config_path

    def _signature(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    async def _managed_signature(self) -> tuple[int, int] | None:
        """The browser's entries' signature, or None while storage is unavailable (the
        watch goes on: it must outlive a database restart)."""
        try:
            return await self._runtime.database.run(self._managed.signature)
        except Exception as exc:
            if unavailable_reason(exc) is None:
                raise
            return None

    async def watch(self) -> None:
        """Reload when the file's modification time or size changes (a stat every few
        seconds), or when an entry made in the browser changed (here or on another gateway
        on the same database)."""
        self._managed_seen = await self._managed_signature()
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            managed = await self._managed_signature()
            if managed is None:
                continue  # storage away: the browser's entries cannot have changed meanwhile
            if managed != self._managed_seen:
                await self.reload("targets changed in the browser", read_file=False)
                continue
            if self._runtime.settings.demo:
                continue
            signature = self._signature()
            if signature is None and self._seen is not None:  # said once, until it is back
                log.warning("config file %s is gone (deleted or moved); the running configuration stays until it "
                            "is back", self.path)
                self._seen = None
            elif signature is not None and signature != self._seen:
                await self.reload("the file changed")

    async def reload(self, why: str = "SIGHUP", read_file: bool = True) -> bool:
        """Load the file again (unless only entries made in the browser changed) and apply
        it with those entries; False when it was kept as it was."""
        async with self._lock:
            self._seen = self._signature()
            self._managed_seen = await self._runtime.database.run(self._managed.signature)
            settings = self._runtime.settings
            if settings.demo or not read_file:
                file_config = self._runtime.file_config or settings.config  # the file is not read again
            else:
                try:
                    file_config = await asyncio.to_thread(load_config, self.path, dict(os.environ))
                except ConfigError as exc:
                    for line in str(exc).splitlines():
                        log.error("config reload (%s) refused, keeping the running configuration: %s", why, line)
                    self.refused += 1
                    return False
            config, problems = merged(file_config, await self._runtime.database.run(self._managed.rows))
            for problem in problems:
                log.error("config reload (%s): %s", why, problem)
            self._runtime.file_config = file_config
            old = settings.config
            waiting = [name for name in RESTART_ONLY if getattr(old, name) != getattr(config, name)]
            if waiting:
                log.warning("config reload: [%s] changed and takes effect at the next restart", "], [".join(waiting))
                config = config.model_copy(update={name: getattr(old, name) for name in RESTART_ONLY})
            self._runtime.settings = dataclasses.replace(settings, config=config)
            await self._runtime.monitor.reconfigure(config)
            schedule_monitor(self._scheduler, self._runtime.monitor, config)
            for listener in self._runtime.config_listeners:
                try:
                    listener(config)
                except Exception:
                    log.exception("a config reload listener failed")
            # A file's reload is confirmed in the log (shown by default); a browser edit is in
            # the audit log already and is no warning.
            log.log(logging.INFO if not read_file else logging.WARNING, "config reloaded (%s): %d services, "
                    "%d receivers", why, len(config.services), len(config.websdrs))
            self.applied += 1
            return True

"""Gathers a public status page's data from the running gateway (the latest states, the
day roll-ups, state changes, announcements) and keeps each rendering a minute, so a
crowd of readers costs one render a minute a page (and the answers say `max-age=60`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from backend.config.schema import Config, StatusPageSettings
from backend.events.hub import Hub
from backend.kinds import GROUPS, RECEIVERS, SERVICES
from backend.statuspage.announcements import AnnouncementStore
from backend.statuspage.render import DAYS, PageView, TargetView, outages, render_feed, render_page, state_of
from backend.storage import Database, HistoryStore

CACHE_S = 60
# The feed is built once for every reader and the base URL put in as it is served: the
# cache is keyed by what the page is (two entries a configured slug, bounded in bytes by
# the configuration), and nothing a request chooses, like its Host, makes a new entry.
BASE_URL_MARK = "heimdall-live-base-url-mark"
DAY_MS = 86_400_000
CHANGES_PER_TARGET = 200


class StatusPages:
    def __init__(self, config: Callable[[], Config], hub: Hub, history: HistoryStore, database: Database,
                 clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._hub = hub
        self._history = history
        self._db = database
        self.announcements = AnnouncementStore(database)
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, str]] = {}  # ("page" | "feed", slug)
        self.renders = 0  # how many times a page or feed was built (tests read it)

    def settings(self, slug: str) -> StatusPageSettings | None:
        return next((page for page in self._config().status_pages if page.slug == slug), None)

    def forget(self) -> None:
        """An announcement changed: the pages show it at once, not a minute later."""
        self._cache.clear()

    async def _cached(self, key: tuple[str, str], build) -> str:
        now = self._clock()
        kept = self._cache.get(key)
        if kept is not None and now - kept[0] < CACHE_S:
            return kept[1]
        text = await build()
        self.renders += 1
        self._cache[key] = (now, text)
        return text

    async def page(self, slug: str) -> str | None:
        settings = self.settings(slug)
        if settings is None:
            return None
        return await self._cached(("page", slug), lambda: self._page(settings))

    async def feed(self, slug: str, base_url: str) -> str | None:
        settings = self.settings(slug)
        if settings is None:
            return None
        text = await self._cached(("feed", slug), lambda: self._feed(settings, BASE_URL_MARK))
        return text.replace(BASE_URL_MARK, escape(base_url, {'"': "&quot;"}))

    async def overall(self, slug: str) -> str | None:
        settings = self.settings(slug)
        if settings is None:
            return None
        return (await self._view(settings, with_history=False))[0].overall

    async def _page(self, settings: StatusPageSettings) -> str:
        view, _, _ = await self._view(settings)
        return render_page(view)

    async def _feed(self, settings: StatusPageSettings, base_url: str) -> str:
        view, changes, names = await self._view(settings)
        return render_feed(view, base_url, changes, names)

    def _listed(self, settings: StatusPageSettings) -> list[tuple[str, str, str]]:
        """(group, key, name) of each listed target, as the page orders them."""
        config = self._config()
        names = {group: GROUPS[group].names(config) for group in GROUPS}
        return ([(SERVICES.name, key, names[SERVICES.name].get(key, key)) for key in settings.services]
                + [(RECEIVERS.name, key, names[RECEIVERS.name].get(key, key)) for key in settings.websdrs])

    async def _view(self, settings: StatusPageSettings, with_history: bool = True):
        now_ms = int(self._clock() * 1000)
        first_day = (now_ms // DAY_MS - (DAYS - 1)) * DAY_MS
        listed = self._listed(settings)
        names = {(group, key): name for group, key, name in listed}
        targets: dict[str, list[TargetView]] = {SERVICES.name: [], RECEIVERS.name: []}
        changes: list[dict[str, Any]] = []
        for group, key, name in listed:
            entry = self._hub.latest(GROUPS[group].topic).data.get(key) or {}
            days: list[float | None] = [None] * DAYS
            up = checks = 0
            if with_history:
                for bucket in await self._history.buckets(group, key, "day", first_day, now_ms + 1):
                    index = (bucket["start_ms"] - first_day) // DAY_MS
                    if 0 <= index < DAYS and bucket["checks"]:
                        days[index] = bucket["uptime_pct"]
                        up, checks = up + bucket["up"], checks + bucket["checks"]
                changes += [c for c in await self._history.changes(group, key, CHANGES_PER_TARGET)
                            if c["ts_ms"] >= first_day]
            targets[group].append(TargetView(name, state_of(entry.get("status")), entry.get("response_time_ms"),
                                             days, round(100 * up / checks, 2) if checks else None))
        announcements: tuple[list, list] = ([], [])
        if with_history:
            announcements = await self._db.run(self._announcements_of, settings.slug)
        view = PageView(settings.slug, settings.title, settings.description, settings.show_latency, now_ms,
                        [("Services", targets[SERVICES.name]), ("Receivers", targets[RECEIVERS.name])],
                        announcements[0], announcements[1], outages(changes, names))
        return view, changes, names

    def _announcements_of(self, slug: str) -> tuple[list[dict], list[dict]]:
        return self.announcements.listed(False, slug), self.announcements.listed(True, slug, 20)

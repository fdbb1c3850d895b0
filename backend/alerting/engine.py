"""The alert engine, with its own queue (it never runs inside a publish or a round): the
poller hands it each round (`take_round`), which it turns into judgements for the one
incident lifecycle (backend/alerting/lifecycle.py); from the hub it takes detections and
localizations for the watch-lists, the probing sites' changes, and the gateway's own
troubles, told as one notification of their own instead of every target going down.

Thresholds count checks (each target's `check_status` in the state events, one per
round), independently of the display's flap suppression. Incidents and what was sent
are kept in the database, so a restart sends no second DOWN, and a target that came
back while the gateway was stopped gets its RESOLVED once it is seen up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from backend.alerting import rules, watches
from backend.alerting.connectivity import network_works
from backend.alerting.delivery import Attempt, Delivery, Notification
from backend.alerting.grouping import Grouper, host_of
from backend.alerting.kept import told_late
from backend.alerting.lifecycle import Judgement, Lifecycle, Policy
from backend.alerting.notify_test import TEST_BODY, TEST_TITLE, urls_of
from backend.alerting.outcomes import Outcomes
from backend.alerting.store import AlertState, AlertStore, Incident, Quieting
from backend.config.schema import Config
from backend.events.envelope import Envelope
from backend.events.hub import Hub
from backend.events.topics import (
    ALERTS_FIRED,
    LOCALIZATIONS_UPDATED,
    SIGNALS_DETECTED,
    STATUS_CHANGED,
)
from backend.kinds import GROUP_OF_TOPIC, GROUPS, RECEIVERS
from backend.kinds.status import is_down
from backend.locating.network import readiness_at, ready_count
from backend.safety.sparse_log import SparseLog
from backend.storage.database import Database, unavailable_reason
from backend.timefmt import iso_from_ms, parse_iso_ms

log = logging.getLogger(__name__)

GATEWAY = "gateway"
PROBE_WORKER = "probe-worker"  # the gateway's problem the poller reports when its worker dies (monitor/poller.py)
SITE = "site"  # status:changed of a probing site (backend/sites): stale, or its votes set aside
READINESS = "readiness"  # the incidents' kind for [[readiness_alerts]]; their key is the frequency
FEED = "feed"  # the incidents' kind (and key) of the platform's RabbitMQ feed (backend/feed)
HANDLED = frozenset({*GROUP_OF_TOPIC, STATUS_CHANGED, SIGNALS_DETECTED, LOCALIZATIONS_UPDATED})
QUEUE_LIMIT = 10_000  # events waiting for the engine; beyond this they are dropped and counted


@dataclass(frozen=True)
class Round:
    """A round handed over by the poller (Monitor.round_listeners)."""

    group: str
    checked: dict[str, dict[str, Any]]
    everything: dict[str, dict[str, Any]]


class AlertEngine:
    def __init__(self, config: Config, hub: Hub, database: Database, delivery: Delivery, base_url: str,
                 clock: Callable[[], float] = time.time, active: Callable[[], bool] = lambda: True,
                 outcomes: Outcomes | None = None) -> None:
        self.config = config
        # With several gateways every instance hears every event; only the poller alerts,
        # so a DOWN or a watch match is announced once, not once per instance.
        self._active = active
        self._hub = hub
        self._db = database
        self.store = AlertStore(database)
        self.delivery = delivery
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.events_dropped = 0
        self.rounds_evaluated = 0  # rounds whose checks the alert rules have seen (tests wait on it)
        # Incidents, silences and maintenance windows as the shared store has them: read
        # again at every round on every instance, so a silence made anywhere takes effect
        # on the poller within one polling interval and every instance shows the same.
        self.state = AlertState()
        self._cooldown = watches.Cooldown()
        self._short_since: dict[str, int | None] = {}  # readiness rule: since when too few are ready
        self.gateway_problems: dict[str, str] = {}  # what of the gateway itself is down, and why
        self.site_problems: dict[str, str] = {}  # probing sites stale or set aside, and why
        self.feed_trouble: str | None = None  # why the platform's feed is down, once it is told
        self.parts_told: dict[str, str] = {}  # parts underneath whose problem this gateway told
        self._quiet = SparseLog(log, 60)
        # Where delivery keeps each attempt's outcome (given at construction; the engine is not
        # in that path): the engine only reads how many there were.
        self.outcomes = outcomes if outcomes is not None else Outcomes(self.store, database, clock)
        self.listeners: list[Callable[[], None]] = []  # told when incidents or notifications change (pages)
        # Every source's incidents go through the one lifecycle (backend/alerting/lifecycle.py).
        # What fails together is told together; kept in the database while it waits.
        self.grouper = Grouper(delivery.submit, delivery.kept.keep if delivery.kept is not None else None)
        self.lifecycle = Lifecycle(self.store, database, lambda: self.state, self.grouper, self._changed)
        hub.subscribe(self._enqueue)

    def _enqueue(self, env: Envelope) -> None:
        # Every instance keeps its view of the alert state; only the poller sends (handle).
        if env.event not in HANDLED:
            return
        try:
            self._queue.put_nowait(env)
        except asyncio.QueueFull:  # the engine is stuck: never the publisher's problem
            self.events_dropped += 1

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def start(self) -> None:
        await self.refresh()

    async def refresh(self) -> None:
        """Read the alert state again from the store (one trip to the database thread)."""
        state = await self._db.run(self.store.state, self.now_ms())
        if state != self.state:
            self.state = state
            self._changed()

    def take_over(self) -> None:
        """This instance just became the poller: read again the incidents and silences the
        last one kept (shared on PostgreSQL), so a target already down is not announced
        twice and is resolved when it comes back. Streaks start afresh: the thresholds
        count rounds this instance has seen."""
        self.lifecycle.forget_streaks()
        self._short_since.clear()
        asyncio.get_running_loop().create_task(self.refresh())

    def reconfigure(self, config: Config) -> None:
        self.config = config

    def send_kept(self, row: int, notification: Notification, queued_ms: int) -> None:
        """A notification a gateway gone left queued (backend/alerting/kept.py): sent to its
        alert's URLs as configured now, told late; kept as dropped if its alert is gone."""
        urls = urls_of(self.config, notification.alert)
        if not urls:
            self.delivery.give_up(notification, row, "its alert is no longer configured")
            return
        self.delivery.submit(dataclasses.replace(notification, body=told_late(notification.body, queued_ms),
                                                 urls=tuple(urls)), row)

    async def finish(self) -> int:
        """A planned stop (no more rounds come): what waits for its group goes out now
        with what is queued, for up to `[delivery] stop_wait_s`. How many were not sent."""
        self.grouper.flush()
        return await self.delivery.finish(self.config.delivery.stop_wait_s)

    def take_round(self, group: str, checked: dict[str, dict[str, Any]],
                   everything: dict[str, dict[str, Any]]) -> None:
        """The poller hands each round here: the entries it checked, and the group's whole
        map. Judged from the engine's own queue, never inside the round."""
        try:
            self._queue.put_nowait(Round(group, checked, everything))
        except asyncio.QueueFull:
            self.events_dropped += 1

    async def run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, Round):
                    await self.judge_round(item.group, item.checked, item.everything)
                else:
                    await self.handle(item)
            except Exception as exc:
                reason = unavailable_reason(exc)
                if reason is None:
                    log.exception("alert engine failed on %s", item)
                else:  # its store away: rounds are not judged meanwhile (no target moves either)
                    self._quiet.warning("alert engine waits: storage unavailable (%s)", reason)

    async def judge_round(self, group: str, checked: dict[str, dict[str, Any]],
                          everything: dict[str, dict[str, Any]]) -> None:
        """A round of checks: each target's judgement to the lifecycle; the receivers'
        readiness on the configured frequencies; the gateway's reach."""
        await self.refresh()
        if not self._active():
            return
        await self._gateway_fine(PROBE_WORKER, "probe worker")  # a round came: the worker works
        if await self._round(group, checked):
            await self._gateway_fine(f"network-{group}", f"the gateway's reach to its {group}")
        if group == RECEIVERS.name:
            await self._readiness_round(everything)

    async def handle(self, env: Envelope) -> None:
        if env.event in GROUP_OF_TOPIC:
            await self.refresh()  # every instance shows the shared alert state; the poller judged the round
        elif env.event == STATUS_CHANGED and env.data.get("kind") == GATEWAY:
            await self._gateway(env.data)
        elif env.event == STATUS_CHANGED and env.data.get("kind") == SITE:
            await self._site(env.data)
        elif not self._active():
            return
        elif env.event == SIGNALS_DETECTED:
            await self._watch(env.data, watches.matches_detection, "detection")
        elif env.event == LOCALIZATIONS_UPDATED:
            await self._watch(env.data, watches.matches_localization, "localization")

    # -- targets ------------------------------------------------------------------------

    async def _round(self, kind: str, entries: dict[str, dict[str, Any]]) -> bool:
        """The round's targets judged; False when the round was the gateway's own problem."""
        fresh = {key: entry for key, entry in entries.items() if entry.get("check_status")}
        if not fresh:
            return True
        reason_key = GROUPS[kind].reason_field
        suspect = rules.suspect_round([(e["check_status"], e.get(reason_key)) for e in fresh.values()])
        problem = f"network-{kind}"
        if suspect is not None:
            # Every target failed in a way that implicates the gateway's own reach. Unless a
            # reference endpoint answers (the network works after all), the round does not
            # count towards any alert; the gateway's problem is reported instead.
            connectivity = self.config.connectivity
            works = await network_works(connectivity.references, connectivity.timeout_s)
            if works:
                suspect = None
            elif problem not in self.gateway_problems:
                checked = " and no reference endpoint answers" if works is False else ""
                await self._gateway({"kind": GATEWAY, "id": problem, "name": f"the gateway's reach to its {kind}",
                                     "from": "up", "to": "down", "since": iso_from_ms(self.now_ms()),
                                     "reason": f"all {len(fresh)} {kind} failed ({suspect}){checked}: "
                                               f"probably the gateway's own network; their alerts wait"},
                                    publish=True)
        if suspect is not None:
            self.rounds_evaluated += 1
            return False
        if problem in self.gateway_problems:
            await self._gateway({"kind": GATEWAY, "id": problem, "name": f"the gateway's reach to its {kind}",
                                 "from": "down", "to": "up", "since": iso_from_ms(self.now_ms()), "reason": None},
                                publish=True)
        now_ms = self.now_ms()
        for key, entry in fresh.items():
            judgement = self._target_judgement(kind, key, entry, entry.get(reason_key))
            quiet = self.quiet_reason(kind, key) is not None
            for alert in self.config.alerts:
                if rules.covers(alert.targets, kind, key):
                    await self.lifecycle.judge(Policy.of(alert), judgement, now_ms, quiet)
        self.lifecycle.end_round()
        self.rounds_evaluated += 1  # after its notifications are queued
        return True

    def _target_judgement(self, kind: str, key: str, entry: dict[str, Any], reason: str | None) -> Judgement:
        """A target's check as the lifecycle takes it, with the group's words."""
        group = GROUPS[kind]
        name, noun = group.name_of(self.config, key), group.noun
        state = entry.get("check_status")
        page = f"\n{self._base_url}{group.page_of(key)}"
        where = group.location_of(self.config, key)

        def words(action: str, incident: Incident, now_ms: int) -> tuple[str, str]:
            since = iso_from_ms(incident.opened_ms)
            if action == "RESOLVED":
                return (f"RESOLVED: {noun} {name} is {state} again",
                        f"The {noun} {name} ({kind}:{key}) is {state} again, after being down since {since}.{page}")
            return (f"{'DOWN' if action == 'DOWN' else 'STILL DOWN'}: {noun} {name} is {state}",
                    f"The {noun} {name} ({kind}:{key}) is {state}: {reason or 'no reason given'}. "
                    f"Down since {since}.{page}")
        checked = entry.get("last_check")
        return Judgement(kind, key, is_down(state), reason, words, f"{kind}:{key}",
                         at_ms=parse_iso_ms(checked) if checked else None, label=f"{noun} {name}",
                         host=host_of(where) if where else None)

    # -- readiness: enough receivers to locate on a frequency ------------------------------

    async def _readiness_round(self, entries: dict[str, dict[str, Any]]) -> None:
        if f"network-{RECEIVERS.name}" in self.gateway_problems:
            return  # the gateway cannot reach them: its own problem, already told
        now_ms = self.now_ms()
        for rule in self.config.readiness_alerts:
            judged = readiness_at(self.config, entries, rule.freq_mhz)
            ready = ready_count(judged)
            key = f"{rule.freq_mhz:g}"
            is_open = (rule.name, READINESS, key) in self.state.incidents
            short, self._short_since[rule.name] = rules.readiness_short(
                rule, ready, self._short_since.get(rule.name), is_open, now_ms)
            reason = f"{ready} of {len(judged)} receivers ready at {key} MHz, {rule.min_ready} needed"
            words = self._readiness_words(rule, ready, judged, key, reason, self._short_since[rule.name])
            await self.lifecycle.judge(Policy.once(rule), Judgement(READINESS, key, short, reason, words,
                                                                    f"readiness {key} MHz"), now_ms)

    def _readiness_words(self, rule, ready: int, judged: dict[str, dict[str, Any]], key: str, reason: str,
                         since: int | None):
        link = f"\n{self._base_url}/websdrs?sort=readiness"

        def words(action: str, incident: Incident, now_ms: int) -> tuple[str, str]:
            if action == "RESOLVED":
                return (f"RESOLVED: {ready} receivers ready at {key} MHz again",
                        f"{reason}; short since {iso_from_ms(incident.opened_ms)}.{link}")
            return (f"NOT ENOUGH READY: {ready} of {len(judged)} receivers at {key} MHz ({rule.min_ready} needed)",
                    f"{reason}, since {iso_from_ms(since or now_ms)}.\n{why_not(judged)}{link}")
        return words

    # -- the gateway's own trouble ---------------------------------------------------------

    async def _gateway(self, change: dict[str, Any], publish: bool = False) -> None:
        """The gateway's own problem: kept here (the one place pages, metrics and the API
        read it) and, on the poller, judged by the one lifecycle for every alert (one
        incident each, kept, so a restart or a new poller does not tell it twice); when this
        engine found it (its reach in a round) it is published for clients and the other
        gateways, and hearing that event back changes nothing."""
        key = change.get("id", "gateway")
        if publish:
            await self._hub.publish(STATUS_CHANGED, change)
        failing = change.get("to") == "down"
        if failing:
            if key in self.gateway_problems:
                return  # heard already
            self.gateway_problems[key] = change.get("reason") or "unknown"
        elif self.gateway_problems.pop(key, None) is None and not self._gateway_incident_open(key):
            return
        self._changed()
        if not self._active():
            return
        name, reason = change.get("name", key), change.get("reason")

        def words(action: str, incident: Incident, now_ms: int) -> tuple[str, str]:
            if action == "RESOLVED":
                return (f"GATEWAY RESOLVED: {name}", f"The gateway's {name} is working again.\n{self._base_url}/system")
            return (f"GATEWAY PROBLEM: {name}",
                    f"{reason}\nTarget alerts are held while this lasts.\n{self._base_url}/system")
        judgement = Judgement(GATEWAY, key, failing, reason, words, "gateway", event="GATEWAY")
        for alert in self.config.alerts:  # to everyone who gets alerts; told when it ends, whatever send_resolved
            policy = Policy(alert.name, tuple(alert.urls))
            await self.lifecycle.judge(policy, judgement, self.now_ms())

    def _gateway_incident_open(self, key: str) -> bool:
        return any(kind == GATEWAY and subject == key for _, kind, subject in self.state.incidents)

    async def _gateway_fine(self, key: str, name: str) -> None:
        """A round shows this part of the gateway works: an incident a restart or a previous
        poller left open for it is resolved (the problem is not known here any more)."""
        if key not in self.gateway_problems and self._gateway_incident_open(key):
            await self._gateway({"kind": GATEWAY, "id": key, "name": name, "from": "down", "to": "up",
                                 "since": iso_from_ms(self.now_ms()), "reason": None}, publish=True)

    # -- the probing sites -------------------------------------------------------------------

    async def _site(self, change: dict[str, Any]) -> None:
        """A site gone stale or set aside is the site's problem, told once (an incident per
        alert in the shared store, so neither a restart nor a new poller tells it twice),
        to the alerts that name `sites:*` or the site, or else to every alert, like the
        gateway's own problems; and RESOLVED once when it counts again."""
        site, problem = str(change.get("id")), change.get("to") != "ok"
        if problem:
            self.site_problems[site] = change.get("reason") or change.get("to") or "problem"
        else:
            self.site_problems.pop(site, None)
        self._changed()
        if not self._active():
            return
        named = [a for a in self.config.alerts if any(p.startswith("sites:") for p in a.targets)]
        routed = [a for a in named if rules.covers(a.targets, "sites", site)] if named else self.config.alerts
        reason = change.get("reason")

        def words(action: str, incident: Incident, now_ms: int) -> tuple[str, str]:
            if action == "RESOLVED":
                return (f"SITE RESOLVED: {site} reports again",
                        f"Site {site} reports again and its votes count, since {iso_from_ms(now_ms)}."
                        f"\n{self._base_url}/system")
            what = "is stale" if change.get("to") == "stale" else "has its votes set aside"
            return (f"SITE PROBLEM: {site} {what}",
                    f"Site {site}: {reason}.\nTargets are judged by the other sites meanwhile.\n{self._base_url}/system")
        judgement = Judgement(SITE, site, problem, reason, words, f"site {site}", event="SITE")
        for alert in routed:
            await self.lifecycle.judge(Policy.once(alert), judgement, self.now_ms())

    # -- the parts underneath: storage, the event bus --------------------------------------------

    def part_problem(self, part: str, name: str, reason: str | None, may_tell: bool) -> None:
        """A part underneath the gateway (`storage`, `event-bus`) down for its grace, or
        working again (None). Shown with the gateway's own problems at once; told once and
        resolved once, straight to every alert: not through the lifecycle, whose store may be
        the part that is down (kept in memory: a restart meanwhile tells it again).
        `may_tell`: this gateway is the poller, or was when the event bus went away (then
        no lease can be proved, and the one that held it speaks); the one that told a
        problem tells its end, whoever polls by then."""
        if reason is not None:
            self.gateway_problems[part] = reason
        elif self.gateway_problems.pop(part, None) is None and part not in self.parts_told:
            return
        self._changed()
        if reason is not None and may_tell and part not in self.parts_told:
            self.parts_told[part] = reason
            title, body = (f"GATEWAY PROBLEM: {name}", f"{reason}\nThe gateway serves on; what it cannot keep "
                                                       f"or share meanwhile is answered 503.\n{self._base_url}/system")
        elif reason is None and part in self.parts_told:  # the one that told it resolves it
            del self.parts_told[part]
            title, body = (f"GATEWAY RESOLVED: {name}", f"The gateway's {name} works again.\n{self._base_url}/system")
        else:
            return
        for alert in self.config.alerts:
            self.delivery.submit(Notification(alert.name, "gateway", "GATEWAY", title, body, tuple(alert.urls)))

    # -- the platform's feed ------------------------------------------------------------------

    async def feed_problem(self, reason: str | None) -> None:
        """The platform's feed (backend/feed) down for `[feed] alert_after_s` (a reason), or
        working again (None): told once, resolved once, like a site's problem, to the alerts
        that name `feed:*`, else to every alert."""
        told = any(kind == FEED for _, kind, _ in self.state.incidents)  # by this or an earlier poller
        if reason is None and self.feed_trouble is None and not told:
            return
        self.feed_trouble = reason
        self._changed()
        if not self._active():
            return
        named = [a for a in self.config.alerts if any(p.startswith("feed:") for p in a.targets)]
        routed = named or self.config.alerts

        def words(action: str, incident: Incident, now_ms: int) -> tuple[str, str]:
            if action == "RESOLVED":
                return ("FEED RESOLVED: the platform's events arrive again",
                        f"The platform's RabbitMQ feed is connected again, since {iso_from_ms(now_ms)}; it was "
                        f"down since {iso_from_ms(incident.opened_ms)}.\n{self._base_url}/system")
            return ("FEED PROBLEM: the platform's events do not arrive",
                    f"The platform's RabbitMQ feed is not connected: {reason}. Detections, localizations and "
                    f"push reports from the bus wait in RabbitMQ meanwhile.\n{self._base_url}/system")
        judgement = Judgement(FEED, FEED, reason is not None, reason, words, "feed", event="FEED")
        for alert in routed:
            await self.lifecycle.judge(Policy.once(alert), judgement, self.now_ms())

    # -- watch-lists -------------------------------------------------------------------------

    async def _watch(self, record: dict[str, Any], matches, what: str) -> None:
        for watch in self.config.watches:
            if not matches(watch, record) or not self._cooldown.ready(watch, self._clock()):
                continue
            await self._hub.publish(ALERTS_FIRED, {"watch": watch.name, "kind": what, "match": record})
            if what == "detection":
                title = f"HEARD: {record.get('frequency_mhz')} MHz ({watch.name})"
                body = (f"{record.get('frequency_mhz')} MHz at {record.get('snr_db')} dB SNR on "
                        f"{RECEIVERS.name_of(self.config, str(record.get('websdr_id')))}, {record.get('timestamp')}.")
            else:
                title = f"LOCATED in {watch.name}"
                body = (f"{record.get('latitude')}, {record.get('longitude')} ± {record.get('uncertainty_m')} m, "
                        f"confidence {record.get('confidence')}, {record.get('timestamp')}.")
            self.delivery.submit(Notification(watch.name, f"watch {watch.name}", "WATCH", title,
                                              f"{body}\n{self._base_url}/", tuple(watch.urls)))

    # -- operators -----------------------------------------------------------------------

    async def silence(self, kind: str, key: str, minutes: float, by: str | None, comment: str | None = None,
                      what: str = "silences", starts_ms: int | None = None) -> Quieting:
        """A silence (or, with `what="maintenance"`, a maintenance window) in the shared store."""
        starts = self.now_ms() if starts_ms is None else starts_ms
        made = await self._db.run(self.store.add_quieting, what, kind, key, starts, starts + int(minutes * 60_000),
                                  comment, by)
        await self.refresh()
        return made

    async def lift(self, what: str, quieting_id: int) -> bool:
        removed = await self._db.run(self.store.remove_quieting, what, quieting_id)
        await self.refresh()
        return removed

    async def acknowledge(self, incident_id: int, by: str | None) -> dict | None:
        acknowledged = await self._db.run(self.store.acknowledge, incident_id, self.now_ms(), by)
        await self.refresh()
        return acknowledged

    def quiet_reason(self, kind: str, key: str) -> str | None:
        """"in maintenance (name)" or "silenced until …" for the pages and the API, else None."""
        now_ms = self.now_ms()
        window = rules.in_maintenance(self.config.maintenance, kind, key,
                                      datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc))
        if window:
            return f"in maintenance ({window})"
        for made in self.state.maintenance:
            if made.covers(kind, key, now_ms):
                return f"in maintenance ({made.comment or 'until ' + iso_from_ms(made.until_ms)})"
        ends = [s.until_ms for s in self.state.silences if s.covers(kind, key, now_ms)]
        return f"silenced until {iso_from_ms(max(ends))}" if ends else None

    def open_incident_count(self) -> int:
        return len(self.state.incidents)

    @property
    def notifications_recorded(self) -> int:
        return self.outcomes.recorded

    def _changed(self) -> None:
        for listener in self.listeners:
            try:
                listener()
            except Exception:
                log.exception("an alerts listener failed")

    async def send_test(self, alert_name: str) -> list[Attempt] | None:
        """A test notification through one alert or watch, now: what became of it at each
        of its URLs (None: no such alert or watch). The admin page and the API wait for it."""
        urls = urls_of(self.config, alert_name)
        if urls is None:
            return None
        return await self.delivery.try_now(Notification(alert_name, "test", "TEST", TEST_TITLE, TEST_BODY,
                                                        tuple(urls)))


def why_not(judged: dict[str, dict[str, Any]], most: int = 10) -> str:
    """The receivers that are not ready, each with its first reason (up to `most`)."""
    lines = [f"- {key}: {r['state']}, {r['reasons'][0]}" for key, r in sorted(judged.items())
             if r["state"] != "ready" and r["reasons"]]
    more = f"\n… and {len(lines) - most} more" if len(lines) > most else ""
    return "\n".join(lines[:most]) + more

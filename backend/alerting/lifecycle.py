"""The one incident lifecycle: open → notify → remind → acknowledge → resolve, kept in the
shared store, for every source of incidents (targets, readiness, probing sites). A source
only judges, round by round: this subject is failing or not, why, and how its messages
read. The lifecycle counts the judgements (the one flap rule, `Streak`), opens and
resolves incidents by the alert's thresholds, reminds while one is open unless it was
acknowledged, keeps quiet ones (silences, maintenance) counted and unsent, and queues
each notification for delivery, grouped with what fails beside it (backend/alerting/
grouping.py). An incident is open since the first failed judgement of its streak (the
failure's time, not the alert's). Adding a source is a judgement and its words."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from backend.alerting.delivery import Notification
from backend.alerting.grouping import Grouper
from backend.alerting.rules import decide
from backend.alerting.store import AlertState, AlertStore, Incident
from backend.kinds.status import Streak
from backend.storage.database import Database

log = logging.getLogger(__name__)

# (action, the incident, now in ms) -> (title, body). Actions: DOWN, REMINDER, RESOLVED.
Words = Callable[[str, Incident, int], tuple[str, str]]


@dataclass(frozen=True)
class Judgement:
    """What a source judged of one subject this round."""

    kind: str  # the incident's kind: a group of targets, "readiness", "site"
    key: str
    failing: bool
    reason: str | None
    words: Words
    subject: str  # what the notification is about, for the kept outcome: "services:api"
    event: str | None = None  # the source's own word for every notification (SITE), else the action
    at_ms: int | None = None  # when what was judged happened (a check's time); else when it was judged
    label: str = ""  # the subject for people, in a grouped message: "receiver Genova"
    host: str | None = None  # where it is reached, for grouping; None: never grouped


@dataclass(frozen=True)
class Policy:
    """An alert rule's part in the lifecycle (the names `rules.decide` reads)."""

    alert: str
    urls: tuple[str, ...]
    failure_threshold: int = 1
    success_threshold: int = 1
    send_resolved: bool = True
    reminder_every_min: float = 0
    group_by: str = "none"  # backend/alerting/grouping.py
    group_wait_s: float = 0

    @classmethod
    def of(cls, alert: Any) -> "Policy":
        """An `[[alerts]]` rule's own thresholds, reminders and grouping."""
        return cls(alert.name, tuple(alert.urls), alert.failure_threshold, alert.success_threshold,
                   alert.send_resolved, alert.reminder_every_min, alert.group_by, alert.group_wait_s)

    @classmethod
    def once(cls, alert: Any) -> "Policy":
        """Open at the first failing judgement, resolve at the first good one, no reminders:
        for sources whose judgement already waited (readiness for its minutes, a site's
        staleness)."""
        return cls(alert.name, tuple(alert.urls), send_resolved=alert.send_resolved)


class Lifecycle:
    def __init__(self, store: AlertStore, database: Database, state: Callable[[], AlertState],
                 grouper: Grouper, changed: Callable[[], None]) -> None:
        self._store, self._db = store, database
        self._state = state  # the engine's view of the shared alert state, read again every round
        self._grouper = grouper
        self._changed = changed
        self._streaks: dict[tuple[str, str, str], Streak] = {}
        self._failing_since: dict[tuple[str, str, str], int] = {}  # the first failed judgement of a streak
        # Told (action, incident, subject) when an incident opens (DOWN) or is resolved: the
        # feed's answers on the platform's bus (backend/feed/answers.py).
        self.incident_listeners: list[Callable[[str, Incident, str], None]] = []

    def forget_streaks(self) -> None:
        """A new poller counts only the rounds it has seen."""
        self._streaks.clear()
        self._failing_since.clear()

    def _tell(self, action: str, incident: Incident, subject: str) -> None:
        for listener in list(self.incident_listeners):
            try:
                listener(action, incident, subject)
            except Exception:
                log.exception("an incident listener failed")

    def end_round(self) -> None:
        """A round of judgements is over: its grouped notifications go out."""
        self._grouper.end_round()

    async def judge(self, policy: Policy, judgement: Judgement, now_ms: int, quiet: bool = False) -> str | None:
        """Count one judgement for one alert; the action taken (DOWN, REMINDER, RESOLVED) or None."""
        index = (policy.alert, judgement.kind, judgement.key)
        streak = self._streaks.setdefault(index, Streak())
        streak.observe(judgement.failing)
        if not judgement.failing:
            self._failing_since.pop(index, None)
        elif streak.failures == 1 or index not in self._failing_since:
            self._failing_since[index] = judgement.at_ms if judgement.at_ms is not None else now_ms
        if quiet:
            return None  # checked and kept, never sent
        state = self._state()
        incident = state.incidents.get(index)
        action = decide(policy, streak, incident.opened_ms if incident else None,
                        incident.last_sent_ms if incident else None, now_ms,
                        acknowledged=bool(incident and incident.acknowledged_ms))
        if action is None:
            return None
        if action == "DOWN":
            incident = await self._db.run(self._store.open_incident, policy.alert, judgement.kind, judgement.key,
                                          now_ms, judgement.reason, self._failing_since.get(index, now_ms))
            state.incidents[index] = incident
            self._changed()
            self._tell(action, incident, judgement.subject)
        elif action == "RESOLVED":
            del state.incidents[index]
            await self._db.run(self._store.resolve, incident.id, now_ms)
            self._changed()
            self._tell(action, incident, judgement.subject)
            if not policy.send_resolved:
                return action
        else:
            incident.last_sent_ms = now_ms
            await self._db.run(self._store.sent, incident.id, now_ms)
        title, body = judgement.words(action, incident, now_ms)
        self._grouper.add(Notification(policy.alert, judgement.subject, judgement.event or action, title, body,
                                       policy.urls), judgement.label or judgement.subject, judgement.host,
                          policy.group_by, policy.group_wait_s)
        return action

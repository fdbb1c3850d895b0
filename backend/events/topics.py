"""The event topics of the hub.

State topics carry the full current value each time (a map keyed by target), so the
latest event alone is a snapshot. The other topics are a stream of new things.
"""

from fnmatch import fnmatchcase

SERVICES_HEALTH = "services:health"
WEBSDRS_STATUS = "websdrs:status"
SIGNALS_DETECTED = "signals:detected"
LOCALIZATIONS_UPDATED = "localizations:updated"
# A change worth telling (after flap suppression): a target up or down, a receiver's
# readiness (`aspect: "readiness"`), the gateway's own problem, a probe site's state.
STATUS_CHANGED = "status:changed"
ALERTS_FIRED = "alerts:fired"  # a watch-list matched a detection or a localization

STATE_TOPICS = frozenset({SERVICES_HEALTH, WEBSDRS_STATUS})
ALL_TOPICS = frozenset({SERVICES_HEALTH, WEBSDRS_STATUS, SIGNALS_DETECTED, LOCALIZATIONS_UPDATED, STATUS_CHANGED,
                        ALERTS_FIRED})
WILDCARD = "*"

# Later versions of the original Heimdall name four of these topics otherwise (its
# backend's RabbitMQ event publisher). A client may subscribe with either spelling and
# receives the events under the spelling it asked for; the data is the same.
UPSTREAM_SPELLINGS = {
    "signal:detected": SIGNALS_DETECTED,
    "localization:complete": LOCALIZATIONS_UPDATED,
    "websdrs:health": WEBSDRS_STATUS,
    "service:health": SERVICES_HEALTH,
}
SPELLINGS = ALL_TOPICS | frozenset(UPSTREAM_SPELLINGS)


def passes_through(event: str, patterns: tuple[str, ...]) -> bool:
    """An event of the Heimdall platform's own passed to /ws/updates as it came (`[feed]
    pass_through`, fnmatch patterns such as `training:*`): a stream topic named as the
    platform names it. Never one of the gateway's own names."""
    return event not in SPELLINGS and event != WILDCARD and any(fnmatchcase(event, p) for p in patterns)


def topic_of(spelling: str) -> str:
    """The topic a subscribable name stands for (itself, or the one it is an alias of)."""
    return UPSTREAM_SPELLINGS.get(spelling, spelling)


def respelled(wire: str, topic: str, spelling: str) -> str:
    """An event's encoded text (`{"event":"<topic>",...}`, see envelope.py) under another
    name for its topic; the rest of the text is the same bytes."""
    head = '{"event":"' + topic + '"'
    if spelling == topic or not wire.startswith(head):
        return wire
    return '{"event":"' + spelling + '"' + wire[len(head):]

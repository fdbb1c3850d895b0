"""The event topics of the hub.

State topics carry the full current value each time (a map keyed by target), so the
latest event alone is a snapshot. The other topics are a stream of new things.
"""

SERVICES_HEALTH = "services:health"
WEBSDRS_STATUS = "websdrs:status"
SIGNALS_DETECTED = "signals:detected"
LOCALIZATIONS_UPDATED = "localizations:updated"
STATUS_CHANGED = "status:changed"  # a monitored target went up or down (after flap suppression)
ALERTS_FIRED = "alerts:fired"  # a watch-list matched a detection or a localization

STATE_TOPICS = frozenset({SERVICES_HEALTH, WEBSDRS_STATUS})
ALL_TOPICS = frozenset({SERVICES_HEALTH, WEBSDRS_STATUS, SIGNALS_DETECTED, LOCALIZATIONS_UPDATED, STATUS_CHANGED,
                        ALERTS_FIRED})
WILDCARD = "*"

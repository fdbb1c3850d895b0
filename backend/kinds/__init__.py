"""The kinds room: every kind of target and the two groups they belong to, registered
here and nowhere else (backend/kinds/base.py says what a kind and a group are).

Adding a kind: a module beside these with its check and its `KIND`, and a line in
`_KIND_MODULES`. Every page, REST answer, /ws/updates event, alert, metric and badge then
takes it as a member of its group.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from backend.events.topics import SERVICES_HEALTH, WEBSDRS_STATUS
from backend.kinds import http_receiver, http_service, kiwisdr, openwebrx, push, tcp, websdr
from backend.kinds.base import CheckSpec, Target, TargetGroup, TargetKind, WhereField
from backend.kinds.fields import distance_km
from backend.kinds.readiness import of_entry
from backend.safety.destinations import DestinationPolicy, policy_of

_KIND_MODULES = (http_service, tcp, push, openwebrx, kiwisdr, websdr, http_receiver)

# Each kind by its group and its configured name: "http" is a kind of service and of receiver.
KINDS: dict[tuple[str, str], TargetKind] = {(m.KIND.group, m.KIND.name): m.KIND for m in _KIND_MODULES}
# The probe worker finds a check by the name in its CheckSpec.
CHECKS: dict[str, TargetKind] = {f"{kind.group}/{kind.name}": kind for kind in KINDS.values()}

# A receiver whose own reported position is further than this from where the
# configuration puts it is flagged (a placeholder or an IP-geolocation guess, mostly).
POSITION_FAR_KM = 10.0


def kind_names(group: str) -> list[str]:
    return [name for (g, name) in KINDS if g == group]


def kind_of(group: str, target: Any) -> TargetKind:
    return KINDS[(group, target.kind)]


def detection_order(group: str) -> list[str]:
    """The kinds "Test" tries, in turn, when an entry names none: each kind's own rank."""
    ranked = [k for k in KINDS.values() if k.group == group and k.detection_rank is not None]
    return [k.name for k in sorted(ranked, key=lambda k: k.detection_rank)]


def default_kind(group: str) -> str:
    """The group's kind when an entry names none."""
    return next(k.name for k in KINDS.values() if k.group == group and k.default)


def where_fields(group: str) -> list[WhereField]:
    """The location fields the group's kinds use, each once, in the kinds' order."""
    found: dict[str, WhereField] = {}
    for kind in KINDS.values():
        if kind.group == group and kind.where is not None:
            found.setdefault(kind.where.name, kind.where)
    return list(found.values())


SERVICES = TargetGroup(
    name="services", topic=SERVICES_HEALTH, noun="service", up="healthy", down="unreachable", reason_field="error",
    key_field="name", configured=lambda config: config.services, key_of=lambda s: s.name,
    name_of_target=lambda s: s.name, page_of=lambda key: f"/services/{quote(key, safe='')}",
    from_config=lambda s: {"url": KINDS[("services", s.kind)].location(s)},
    where_of=lambda s: KINDS[("services", s.kind)].where_value(s))

RECEIVERS = TargetGroup(
    name="websdrs", topic=WEBSDRS_STATUS, noun="receiver", up="online", down="offline", reason_field="error_message",
    key_field="websdr_id", configured=lambda config: config.websdrs, key_of=lambda w: w.id,
    name_of_target=lambda w: w.name, page_of=lambda key: f"/websdrs/{key}", keeps_details=True,
    position_of=lambda w: (w.latitude, w.longitude), where_of=lambda w: KINDS[("websdrs", w.kind)].where_value(w))

GROUPS: dict[str, TargetGroup] = {group.name: group for group in (SERVICES, RECEIVERS)}
GROUP_OF_TOPIC: dict[str, TargetGroup] = {group.topic: group for group in GROUPS.values()}
GroupName = Literal[tuple(GROUPS)]  # for API paths: /api/v1/history/{kind}/...


def targets_of(config: Any) -> dict[str, list[Target]]:
    """What to check, by group, from a configuration. What was made at run time is
    checked under the destination policy of `[targets]`; the file's entries are free."""
    polling, policy = config.polling, policy_of(config.targets)

    def confined(group: TargetGroup, target: Any) -> DestinationPolicy | None:
        return policy if config.made_at_run_time(group.name, group.key_of(target)) else None
    return {group.name: [
        Target(group.name, group.key_of(t), group.name_of_target(t),
               CheckSpec(f"{group.name}/{t.kind}", kind_of(group.name, t).where_value(t) or group.key_of(t),
                         polling.timeout_s, polling.degraded_threshold_ms, confined(group, t)),
               group.position_of(t), t.quorum, tuple(map(tuple, getattr(t, "frequency_ranges_mhz", None) or ())),
               getattr(t, "deadline_s", None))
        for t in group.configured(config)] for group in GROUPS.values()}


def initial_state(config: Any, last_known: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every configured target, keyed by state topic: its last known entry from before a
    restart, else status `unknown`. Targets no longer configured are left out."""
    return {group.topic: {group.key_of(t): {**(last_known.get((group.name, group.key_of(t))) or group.unknown(t)),
                                            **group.from_config(t)}
                          for t in group.configured(config)} for group in GROUPS.values()}


def with_position_check(details: dict[str, Any], configured: tuple[float, float] | None) -> dict[str, Any]:
    """Say how far the receiver's own reported position is from the configured one."""
    reported = details.get("reported_position")
    if not reported or configured is None:
        return details
    offset = round(distance_km(configured, (reported["lat"], reported["lon"])), 1)
    return {**details, "reported_offset_km": offset, "reported_far": offset > POSITION_FAR_KM}


__all__ = ["CHECKS", "GROUPS", "GROUP_OF_TOPIC", "GroupName", "KINDS", "RECEIVERS", "SERVICES", "CheckSpec", "Target",
           "TargetGroup", "TargetKind", "initial_state", "kind_names", "kind_of", "targets_of", "with_position_check"]


def receiver_readiness(receiver: Any, entry: dict[str, Any], freq_mhz: float | None) -> dict[str, Any]:
    """A configured receiver's readiness from its entry: its kind's rules, its bands as
    configured within those it reports (backend/kinds/readiness.py)."""
    return of_entry(kind_of(RECEIVERS.name, receiver).readiness, entry, freq_mhz,
                    getattr(receiver, "frequency_ranges_mhz", None))


def push_services(config: Any) -> set[str]:
    """The services judged from their own reports (kind `push`: backend/kinds/push.py)."""
    return {s.name for s in config.services if KINDS[(SERVICES.name, s.kind)].reported}

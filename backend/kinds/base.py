"""What a kind of target is, and what a group of targets is.

A **kind** (HTTP service, TCP service, OpenWebRX, KiwiSDR, websdr.org, any HTTP
server) owns how a target of it is configured and checked, and what its answers mean:
its `check` (one probe, run in the probe worker, never raising), what its configuration
must hold (`config_problem`), where it is (`location`, shown on pages), and how its
response time is named on charts.

A **group** is what the wire and the pages see: `services` and `websdrs`, each with its
state topic, its entry shape, its words for up and down, its alert wording and its page.
Every kind belongs to one group; a new kind of service is a new kind in the services
group, and every page, REST answer, alert, metric and badge takes it as it is.

Kinds and groups are registered in backend/kinds/__init__.py; nothing outside this
folder branches on their names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from backend.kinds.fields import rises
from backend.kinds.probing import ProbeClient, ProbeResult
from backend.safety.destinations import DestinationPolicy
from backend.safety.redact import redact_url


@dataclass(frozen=True)
class CheckSpec:
    """What to check, as the probe worker receives it (picklable): the kind's name, where
    (a URL, or host:port), the timeout, and the kind's own threshold, if any."""

    probe: str
    url: str
    timeout_s: float
    degraded_after_ms: float = 0.0
    # Where the probe may connect (backend/safety/destinations.py): a target made at run
    # time is confined; the file's are not (None).
    policy: DestinationPolicy | None = None


Check = Callable[[ProbeClient, CheckSpec], Awaitable[ProbeResult]]


def http_url(value: str) -> str:
    """An http:// or https:// URL with a host (the check of the `url` field)."""
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


@dataclass(frozen=True)
class WhereField:
    """The configuration field that says where a target of a kind is: its name in the
    file and the API, its label on forms, an example, and its check (raises ValueError
    with the sentence to show). The schema, the trial and /targets read it from the kind."""

    name: str
    label: str
    example: str
    check: Callable[[str], str] = http_url
    max_length: int = 2048


URL = WhereField("url", "URL", "http://host:8073/")


@dataclass(frozen=True)
class TargetKind:
    name: str  # as configured: kind = "..."
    group: str  # the group's name: "services" or "websdrs"
    check: Check
    label: str = ""  # for people: "OpenWebRX", "TCP port"
    where: WhereField | None = URL  # where a target of this kind is; None: nowhere (it reports: push)
    # Its place when "Test" tells a target's kind from its answer: lowest first; None: never
    # tried unasked (a kind its answer cannot tell apart).
    detection_rank: int | None = None
    default: bool = False  # the group's kind when an entry names none
    response_label: str = "response, ms"  # what its response time measures, on charts
    config_problem: Callable[[Any], str | None] = lambda target: None  # None: the target is fine
    # Its own reasons a receiver cannot take part in a localization (backend/kinds/readiness.py).
    readiness: Callable[[dict[str, Any]], list[tuple[str, str]]] = lambda details: []
    # What the receiver keeps of its own past, fetched hourly (KiwiSDR's /snr): a list of
    # measurements as plain dicts for backend/storage/history.py SnrMeasurement; None: nothing.
    own_history: Callable[[ProbeClient, str, float], Awaitable[list[dict[str, Any]]]] | None = None
    reported: bool = False  # judged from what it reports (backend/kinds/push.py), never probed

    @property
    def where_field(self) -> str | None:
        return self.where.name if self.where is not None else None

    def where_value(self, target: Any) -> str | None:
        """Where the target is, as configured (may hold secrets); None for a kind that is nowhere."""
        return getattr(target, self.where_field) if self.where_field else None

    def location(self, target: Any) -> str:
        """Where the target is, for pages and answers: secrets in URLs redacted."""
        where = self.where_value(target)
        return redact_url(where) if where else ("reports itself" if self.reported else "")


@dataclass(frozen=True)
class Target:
    """One configured target, as the monitor checks it."""

    group: str  # "services" or "websdrs"
    key: str  # service name or receiver id
    name: str
    spec: CheckSpec
    position: tuple[float, float] | None = None  # configured (lat, lon) of a receiver
    quorum: int | str | None = None  # its own [sites] quorum, if configured
    bands: tuple[tuple[float, float], ...] = ()  # a receiver's configured frequency_ranges_mhz
    deadline_s: float | None = None  # a push service's: down when no report came for this long


# Details a receiver reports of the moment it was read: shown only while it answers.
LIVE_DETAILS = frozenset({"users", "sdrs", "snr_db", "gps_fix", "gps_fixes_min", "adc_overloads",
                          "adc_overloads_rise", "uptime_s", "antenna_connected"})


@dataclass(frozen=True)
class TargetGroup:
    name: str  # the `kind` of status:changed, of history paths and badges
    topic: str  # its state topic
    noun: str  # "service", "receiver": alert wording
    up: str  # the status of a target that answers well
    down: str  # the status of a target that gave no answer at all
    reason_field: str  # where an entry keeps its failure reason
    key_field: str | None  # the entry's own key field, if it repeats the key
    configured: Callable[[Any], list[Any]]  # the configuration's targets of the group
    key_of: Callable[[Any], str]
    name_of_target: Callable[[Any], str]
    page_of: Callable[[str], str]  # where a target is shown, from the gateway's root
    # Fields an entry always takes from the configuration (a service's URL, redacted).
    from_config: Callable[[Any], dict[str, Any]] = field(default=lambda target: {})
    keeps_details: bool = False  # entries carry what the target told about itself
    position_of: Callable[[Any], tuple[float, float] | None] = field(default=lambda target: None)
    where_of: Callable[[Any], str | None] = field(default=lambda target: None)  # as configured: may hold secrets

    def keys(self, config: Any) -> list[str]:
        return [self.key_of(t) for t in self.configured(config)]

    def names(self, config: Any) -> dict[str, str]:
        """Keys to the names people read."""
        return {self.key_of(t): self.name_of_target(t) for t in self.configured(config)}

    def name_of(self, config: Any, key: str) -> str:
        return self.names(config).get(key, key)

    def location_of(self, config: Any, key: str) -> str | None:
        """Where a configured target is reached (its URL or address, as configured), or None."""
        for target in self.configured(config):
            if self.key_of(target) == key:
                return self.where_of(target)
        return None

    def unknown(self, target: Any) -> dict[str, Any]:
        """The entry of a target before its first check."""
        entry = {**({self.key_field: self.key_of(target)} if self.key_field else {}), "status": "unknown",
                 **self.from_config(target), "response_time_ms": None, "last_check": None, self.reason_field: None,
                 "since": None, "uptime_24h": None, "sites": {}}
        if self.keeps_details:
            entry["details"] = {}
        return entry

    def entry(self, previous: dict[str, Any], result: ProbeResult, status: str, checked: str, since: str | None,
              uptime: float | None, details: dict[str, Any] | None) -> dict[str, Any]:
        """A target's entry after a check (`status` debounced, `check_status` as checked)."""
        entry = {**previous, "status": status, "response_time_ms": result.response_time_ms, "last_check": checked,
                 self.reason_field: result.error, "check_status": result.status, "since": since,
                 "uptime_24h": uptime}
        if self.keeps_details:
            if details:
                entry["details"], entry["details_at"] = details, checked
                details.update(rises(previous.get("details") or {}, details))
            else:
                # No answer: keep what the target told about itself (its software, bands,
                # position), but not what it told of that moment (listeners, SNR, GPS).
                kept = previous.get("details") or {}
                entry["details"] = {k: v for k, v in kept.items() if k not in LIVE_DETAILS}
                entry["details_at"] = previous.get("details_at")
        return entry

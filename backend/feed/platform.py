"""The Heimdall platform's events, as its services publish them on the `heimdall.events`
topic exchange, read into what this gateway keeps: plain functions, no broker.

The shapes are the platform's own (fulgidus/heimdall, `services/backend/src/events/
publisher.py` on `develop`): a JSON body `{"event", "timestamp" (ISO, naive UTC),
"data": {...}}`, published with kombu's JSON serializer. What each event becomes:

- `signal:detected` (`frequency_hz`, `signal_strength_db`, `station_id`, more) → a
  detection: frequency_mhz = frequency_hz / 1e6, snr_db = signal_strength_db, websdr_id
  = the receiver whose `id` or `platform_id` is `station_id`; every other field kept;
- `localization:complete` (`latitude`, `longitude`, `accuracy_meters`, more) → a
  localization, uncertainty_m = accuracy_meters (confidence, when not sent, is unknown: 0);
- `service:health` (`service`, `status` healthy | unhealthy | degraded,
  `response_time_ms`, `error`) → a push report for the `push` service of that name;
- `system:comprehensive_health` (`components`: name → the same fields) → a push report
  for each component configured as a `push` service;
- `websdrs:health` (`health_status`: platform id → `{status: online | offline, …}`) →
  the platform's own view of each receiver, a probing site named `platform`;
- an event matching `[feed] pass_through` → passed to `/ws/updates` as it came.

A message that cannot be read is rejected with its reason (never an exception)."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from backend.ingest.models import Detection, Localization
from backend.timefmt import iso_z

MAX_MESSAGE_BYTES = 1024 * 1024
PUSH_STATUSES = ("healthy", "unhealthy", "degraded")
PLATFORM_SITE = "platform"  # the platform's view of the receivers, one site of the quorum

DETECTION, LOCALIZATION, PUSH, SITE_VIEW, PASS_THROUGH = "detection", "localization", "push", "site", "pass"
# The platform's events this module maps onto ours (read_message); others only pass through.
DETECTED, LOCALIZED, SERVICE_HEALTH, SYSTEM_HEALTH, WEBSDRS_HEALTH = (
    "signal:detected", "localization:complete", "service:health", "system:comprehensive_health", "websdrs:health")
MAPPED_EVENTS = (DETECTED, LOCALIZED, SERVICE_HEALTH, SYSTEM_HEALTH, WEBSDRS_HEALTH)


class Rejected(ValueError):
    """Why a message cannot be used; its first words are its reason's kind (for counting)."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.kind = kind  # "not JSON", "no event", "wrong fields", "unknown receiver", "too large", "unknown event"


@dataclass
class Reading:
    """What one message became: its event name, its identity (for redeliveries) and the
    actions to take, in order."""

    event: str
    identity: str
    actions: list[tuple[str, Any]] = field(default_factory=list)


def identity_of(body: bytes, message_id: str | None) -> str:
    """A message's identity: the AMQP `message_id` when the publisher set one (kombu does
    not), else a hash of its body (the platform's bodies carry their own timestamp)."""
    if message_id:
        return "amqp-" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
    return "amqp-" + hashlib.sha256(body).hexdigest()[:40]


def envelope_of(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_MESSAGE_BYTES:
        raise Rejected(f"message of {len(body)} bytes, over {MAX_MESSAGE_BYTES}", "too large")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Rejected("not JSON", "not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("event"), str) or not document["event"]:
        raise Rejected("no 'event' name", "no event")
    if not isinstance(document.get("data", {}), dict):
        raise Rejected("'data' is not an object", "wrong fields")
    return document


def platform_time(text: Any) -> str:
    """The platform's naive-UTC ISO time (datetime.utcnow().isoformat()) as ISO with Z."""
    if not isinstance(text, str):
        raise Rejected("'timestamp' is not an ISO date-time", "wrong fields")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(f"'timestamp' {text[:40]!r} is not an ISO date-time", "wrong fields") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return iso_z(moment)


def _number(data: dict[str, Any], name: str) -> float:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Rejected(f"data.{name} must be a number", "wrong fields")
    return float(value)


def receiver_of(config: Any, station_id: Any) -> str:
    """The receiver a platform station id names: its `id`, or its `platform_id`."""
    if isinstance(station_id, bool) or not isinstance(station_id, (str, int)):
        raise Rejected("data.station_id must be a string", "wrong fields")
    wanted = str(station_id)
    for receiver in config.websdrs:
        if wanted in (receiver.id, receiver.platform_id):
            return receiver.id
    raise Rejected(f"unknown receiver {wanted[:64]!r} (no [[websdrs]] id or platform_id)", "unknown receiver")


def _validated(model: Any, item: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(item).stored_form(server_id=item["id"])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Rejected(f"{where}: {first['msg']}"[:200], "wrong fields") from None


def detection_from(data: dict[str, Any], at: str, identity: str, config: Any) -> dict[str, Any]:
    rest = {k: v for k, v in data.items() if k not in ("frequency_hz", "signal_strength_db", "station_id", "id")}
    item = {**rest, "id": identity,
            "timestamp": platform_time(data["timestamp"]) if isinstance(data.get("timestamp"), str) else at,
            "frequency_mhz": _number(data, "frequency_hz") / 1e6, "snr_db": _number(data, "signal_strength_db"),
            "websdr_id": receiver_of(config, data.get("station_id"))}
    return _validated(Detection, item)


def localization_from(data: dict[str, Any], at: str, identity: str) -> dict[str, Any]:
    rest = {k: v for k, v in data.items() if k not in ("accuracy_meters", "id")}
    item = {"confidence": 0.0, **rest, "id": identity, "uncertainty_m": _number(data, "accuracy_meters"),
            "timestamp": platform_time(data["timestamp"]) if isinstance(data.get("timestamp"), str) else at}
    return _validated(Localization, item)


def push_report(fields: Any, at: str) -> dict[str, Any]:
    """A push report from the platform's health fields (or a POST to /api/v1/push)."""
    if not isinstance(fields, dict):
        raise Rejected("a health report must be an object", "wrong fields")
    status = fields.get("status")
    if status not in PUSH_STATUSES:
        raise Rejected(f"status must be one of {', '.join(PUSH_STATUSES)}", "wrong fields")
    latency = fields.get("response_time_ms")
    if latency is not None and (isinstance(latency, bool) or not isinstance(latency, (int, float))
                                or not math.isfinite(latency) or latency < 0):
        raise Rejected("response_time_ms must be a number of at least 0", "wrong fields")
    error = fields.get("error")
    if error is not None and not isinstance(error, str):
        raise Rejected("error must be a string", "wrong fields")
    return {"status": status, "response_time_ms": latency, "error": (error or None) and error[:300], "at": at}


def read_message(body: bytes, message_id: str | None, config: Any, pass_through: list[str],
                 push_services: set[str]) -> Reading:
    """One message from the exchange, read; Rejected with the reason when it cannot be."""
    document = envelope_of(body)
    event, data = document["event"], document.get("data") or {}
    at = platform_time(document.get("timestamp"))
    reading = Reading(event, identity_of(body, message_id))
    if event == DETECTED:
        reading.actions.append((DETECTION, detection_from(data, at, reading.identity, config)))
    elif event == LOCALIZED:
        reading.actions.append((LOCALIZATION, localization_from(data, at, reading.identity)))
    elif event == SERVICE_HEALTH:
        name = data.get("service")
        if not isinstance(name, str) or not name:
            raise Rejected("data.service must name a service", "wrong fields")
        if name in push_services:
            reading.actions.append((PUSH, (name, push_report(data, at))))
    elif event == SYSTEM_HEALTH:
        components = data.get("components")
        if not isinstance(components, dict):
            raise Rejected("data.components must be an object", "wrong fields")
        for name, fields in components.items():
            if name in push_services:
                reading.actions.append((PUSH, (name, push_report(fields, at))))
    elif event == WEBSDRS_HEALTH:
        reading.actions.append((SITE_VIEW, site_view(data, at, config)))
    if any(fnmatch.fnmatchcase(event, pattern) for pattern in pass_through):
        reading.actions.append((PASS_THROUGH, document))
    if not reading.actions and event not in (SERVICE_HEALTH, SYSTEM_HEALTH):  # a health report of no push service: fine
        raise Rejected(f"no use for event {event[:64]!r} (not mapped, not in pass_through)", "unknown event")
    return reading


def site_view(data: dict[str, Any], at: str, config: Any) -> dict[str, dict[str, Any]]:
    """The platform's view of each receiver it reports, keyed by our receiver id; stations
    this gateway does not know are left out (the platform may watch more)."""
    health = data.get("health_status")
    if not isinstance(health, dict):
        raise Rejected("data.health_status must be an object", "wrong fields")
    seen: dict[str, dict[str, Any]] = {}
    for station, report in health.items():
        if not isinstance(report, dict) or report.get("status") not in ("online", "offline"):
            raise Rejected(f"health_status[{str(station)[:32]!r}].status must be online or offline", "wrong fields")
        try:
            key = receiver_of(config, station)
        except Rejected:
            continue
        seen[key] = {"status": report["status"], "at": at,
                     "reason": None if report["status"] == "online" else "offline as the platform sees it"}
    return seen

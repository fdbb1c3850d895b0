"""Our answers on the platform's bus (`[feed] publish = true`): what the platform can act
on, published on the same topic exchange in the platform's own envelope (`{"event",
"timestamp" (ISO, naive UTC, as its publisher writes it), "data"}`):

- routing key `live.status.changed`, event `websdr:status_changed`: a receiver's (or a
  service's) status or readiness moved (our `status:changed`, after flap suppression);
- routing key `live.incident`, event `live:incident`: an incident opened or resolved.

Only the poller publishes (every gateway hears the same events; the platform hears each
once). Like the platform's own events they are not persistent: a message published
while the broker is away is counted as dropped, not kept."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable

import aio_pika

from backend.events.envelope import Envelope
from backend.events.topics import STATUS_CHANGED

log = logging.getLogger(__name__)

STATUS_KEY, INCIDENT_KEY = "live.status.changed", "live.incident"
STATUS_EVENT, INCIDENT_EVENT = "websdr:status_changed", "live:incident"


def platform_envelope(event: str, data: dict[str, Any], moment: datetime | None = None) -> bytes:
    """A body as the platform's publisher writes one (naive UTC ISO time, kombu's JSON)."""
    moment = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    return json.dumps({"event": event, "timestamp": moment.isoformat(), "data": data}).encode()


def status_answer(change: dict[str, Any]) -> dict[str, Any] | None:
    """Our status:changed as the platform reads it; None for the gateway's own parts."""
    if change.get("kind") not in ("websdrs", "services"):
        return None
    return {"kind": change["kind"], "id": change.get("id"), "name": change.get("name"),
            "aspect": change.get("aspect", "status"), "from": change.get("from"), "to": change.get("to"),
            "since": change.get("since"), "reason": change.get("reason")}


class Answers:
    """Publishes through the feed's connection while it has one."""

    def __init__(self, exchange_name: str, channel: Callable[[], Any], active: Callable[[], bool]) -> None:
        self._exchange_name = exchange_name
        self._channel = channel  # the feed's open channel, or None
        self._active = active  # this gateway is the poller
        self.published = 0
        self.dropped = 0

    def on_event(self, env: Envelope) -> None:
        """A hub subscriber: status changes go out (off the publish path)."""
        if env.event != STATUS_CHANGED:
            return
        answer = status_answer(env.data)
        if answer is not None:
            self._soon(STATUS_KEY, STATUS_EVENT, answer)

    def on_incident(self, action: str, incident: Any, subject: str) -> None:
        """The lifecycle opened (DOWN) or resolved an incident."""
        self._soon(INCIDENT_KEY, INCIDENT_EVENT, {
            "action": "opened" if action == "DOWN" else "resolved", "alert": incident.alert, "kind": incident.kind,
            "id": incident.key, "subject": subject, "reason": incident.reason,
            "opened_ms": incident.opened_ms})

    def _soon(self, key: str, event: str, data: dict[str, Any]) -> None:
        if not self._active():
            return
        asyncio.get_running_loop().create_task(self._publish(key, platform_envelope(event, data)))

    async def _publish(self, key: str, body: bytes) -> None:
        channel = self._channel()
        if channel is None:
            self.dropped += 1
            return
        try:
            exchange = await channel.get_exchange(self._exchange_name, ensure=False)
            await exchange.publish(aio_pika.Message(body, content_type="application/json",
                                                    content_encoding="utf-8"), routing_key=key)
            self.published += 1
        except Exception as exc:
            self.dropped += 1
            log.debug("an answer on the feed was dropped: %s", type(exc).__name__)

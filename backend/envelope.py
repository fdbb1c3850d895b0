"""The envelope every hub event travels in, and its one wire encoding."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


def encode(message: dict[str, Any]) -> str:
    """Compact JSON, ASCII only, so that len(text) is the frame's size in bytes."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=True)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def decode(text: str | bytes) -> Any:
    """Standard JSON only: NaN and Infinity, which Python would accept, are refused,
    since nothing could encode them again for a client. Raises ValueError."""
    return json.loads(text, parse_constant=_reject_constant)


@dataclass(frozen=True, slots=True)
class Envelope:
    event: str
    data: Any
    timestamp: str
    seq: int
    epoch: str
    wire: str = field(default="", compare=False)

    @classmethod
    def make(cls, event: str, data: Any, timestamp: str, seq: int, epoch: str) -> "Envelope":
        # Encoded once here; every WebSocket subscriber is sent this same text.
        wire = encode({"event": event, "data": data, "timestamp": timestamp, "seq": seq})
        return cls(event, data, timestamp, seq, epoch, wire)

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "data": self.data, "timestamp": self.timestamp, "seq": self.seq}

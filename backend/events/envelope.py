"""The envelope every hub event travels in, and the one JSON encoding of the gateway.

Nothing that is not standard JSON leaves the gateway: a receiver may send `1e999` or
`NaN`, which Python reads as floats, but browsers' `JSON.parse` rejects `NaN` and
`Infinity`. `encode` refuses them and `strict_json` turns them into null; REST answers,
/ws/updates frames, page state and stored entries all go through these two.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any


def strict_json(value: Any) -> Any:
    """`value` with every non-finite float (NaN, ±Infinity) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    return value


def encode(message: Any) -> str:
    """Compact standard JSON, ASCII only, so that len(text) is the frame's size in bytes.

    Non-finite numbers become null. The fast path tries the plain encoding first: it
    fails only for the rare value that holds one.
    """
    try:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except ValueError:
        return json.dumps(strict_json(message), separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def decode(text: str | bytes) -> Any:
    """Standard JSON only: NaN and Infinity, which Python would accept, are refused,
    since nothing could encode them again for a client. Raises ValueError."""
    return json.loads(text, parse_constant=_reject_constant)


def decode_lenient(text: str | bytes) -> Any:
    """JSON from a target we do not control: NaN, Infinity and overflowing numbers
    (`1e999`) are read as None instead of failing the whole document. Raises ValueError."""
    return json.loads(text, parse_constant=lambda name: None,
                      parse_float=lambda text: _finite_or_none(float(text)))


def _finite_or_none(number: float) -> float | None:
    return number if math.isfinite(number) else None


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
        # Encoded once here; every WebSocket subscriber is sent this same text. Data that
        # held a non-finite number is kept in its strict form, so pages and REST read
        # exactly what the wire carries.
        try:
            wire = json.dumps({"event": event, "data": data, "timestamp": timestamp, "seq": seq},
                              separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        except ValueError:
            data = strict_json(data)
            wire = encode({"event": event, "data": data, "timestamp": timestamp, "seq": seq})
        return cls(event, data, timestamp, seq, epoch, wire)

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "data": self.data, "timestamp": self.timestamp, "seq": self.seq}

"""Instants as the gateway writes them: ISO-8601 UTC, milliseconds, ending in Z."""

from __future__ import annotations

from datetime import datetime, timezone


def iso_z(moment: datetime) -> str:
    """A datetime as ISO-8601 UTC ending in Z (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_from_ms(ms: int) -> str:
    return iso_z(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))


def utc_now_iso() -> str:
    return iso_z(datetime.now(timezone.utc))


def parse_iso_ms(text: str) -> int:
    """ISO-8601 (Z or offset; naive is UTC) to Unix milliseconds. Raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)

"""Reading values that receivers report about themselves, without taking placeholders
for data. Pure functions shared by the receiver probes.

Where the placeholders come from:
- KiwiSDR (v1.711 `rx_server_ajax.cpp`, AJAX_STATUS): `gps=(-69.0, 90.0)` when the
  operator never set a location, `(0.000000, 0.000000)` when it was cleared, an old
  URL-encoded value `(44.395000%2C%208.956000)`, and `(null)` for a missing setting.
- OpenWebRX (`owrx/config/defaults.py`, `config_webrx.py`): `receiver_gps` defaults to
  lat 47.0, lon 19.0 until the operator sets it.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import unquote

PLACEHOLDER_LOCATIONS = frozenset({(-69.0, 90.0), (0.0, 0.0), (47.0, 19.0)})
NULL_TEXT = "(null)"  # glibc's printf of a NULL string: a setting that is missing

_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_PAIR = re.compile(r"^\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)$")
_INT = re.compile(r"-?\d+")


def key_values(text: str) -> dict[str, str]:
    """`key=value` lines (KiwiSDR's /status, OpenWebRX's old /status) to a dict; a value
    that is a missing setting (`(null)`) is left out."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if sep and _KEY.fullmatch(key) and value != NULL_TEXT:
            fields[key] = value
    return fields


def number(value: Any) -> float | None:
    """A finite JSON number, else None (booleans, strings, NaN and ±Infinity are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def integer(text: str | None) -> int | None:
    return int(text) if text is not None and _INT.fullmatch(text.strip()) else None


def decimal(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def location(lat: Any, lon: Any) -> dict[str, float] | None:
    """A reported position, or None when it is out of range or a known placeholder."""
    lat, lon = number(lat), number(lon)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if (round(lat, 6), round(lon, 6)) in PLACEHOLDER_LOCATIONS:
        return None
    return {"lat": lat, "lon": lon}


def location_text(text: str | None) -> dict[str, float] | None:
    """`(44.395, 8.956)`, also URL-encoded, to a position; placeholders and junk to None."""
    if not text:
        return None
    found = _PAIR.match(unquote(text).strip())
    return location(float(found.group(1)), float(found.group(2))) if found else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points (haversine, mean Earth radius)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def status_page_details(found: dict[str, str], software: str) -> dict[str, Any]:
    """The keys KiwiSDR's `status` and OpenWebRX's old text `status` share (OpenWebRX
    copied KiwiSDR's format), in the gateway's detail names."""
    details: dict[str, Any] = {"software": software}
    for key, name in (("name", "name"), ("sw_version", "sw_version"), ("loc", "location")):
        if found.get(key):
            details[name] = found[key]
    for key in ("users", "users_max"):
        if integer(found.get(key)) is not None:
            details[key] = integer(found[key])
    altitude = decimal(found.get("asl"))
    if altitude is not None:
        details["altitude_m"] = altitude
    reported = location_text(found.get("gps"))
    if reported:
        details["reported_position"] = reported
    return details


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        else None


# Counters whose rise between two answers matters (ADC overloads rising: a strong signal clips).
RISING_DETAILS = ("adc_overloads",)


def rises(before: dict[str, Any], now: dict[str, Any]) -> dict[str, int]:
    """How much each rising counter grew since the previous answer (`adc_overloads_rise`);
    a counter that fell (the receiver restarted) rose by 0."""
    found = {}
    for counter in RISING_DETAILS:
        old, new = before.get(counter), now.get(counter)
        if isinstance(old, int) and isinstance(new, int):
            found[f"{counter}_rise"] = max(0, new - old)
    return found


def kept_figures(details: dict[str, Any]) -> tuple[int | None, float | None, int | None, int | None, int | None]:
    """What the history keeps of a receiver's details each check, where its kind reports
    them: users, SNR over all bands in dB (KiwiSDR's `snr=all,hf`), the most users it
    takes, ADC overloads since the previous check, and GPS fixes in the last minute."""
    snr = details.get("snr_db")
    snr_all = snr.get("all") if isinstance(snr, dict) else None
    return (_count(details.get("users")),
            float(snr_all) if isinstance(snr_all, (int, float)) and math.isfinite(snr_all) else None,
            _count(details.get("users_max")), _count(details.get("adc_overloads_rise")),
            _count(details.get("gps_fixes_min")))

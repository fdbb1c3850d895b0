"""Plain helpers the pages share: colours, numbers, the shape of an uncertainty ellipse."""

from __future__ import annotations

import math
from typing import Any

GREEN, AMBER, RED, GREY = "#16a34a", "#d97706", "#dc2626", "#6b7280"

STATUS_COLORS = {
    "healthy": GREEN, "online": GREEN,
    "degraded": AMBER,
    "unhealthy": RED, "unreachable": RED, "offline": RED,
    "unknown": GREY,
    # readiness (backend/kinds/readiness.py)
    "ready": GREEN, "limited": AMBER, "unusable": RED,
}


def status_color(status: str | None) -> str:
    return STATUS_COLORS.get(status or "unknown", GREY)


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def users(details: dict[str, Any]) -> str:
    if "users" not in details:
        return "—"
    return f"{details['users']}/{details['users_max']}" if "users_max" in details else str(details["users"])


def ellipse_polygon(lat: float, lon: float, semi_major_m: float, semi_minor_m: float, orientation_deg: float,
                    points: int = 48) -> list[list[float]]:
    """An uncertainty ellipse as a lat/lon polygon; orientation of the major axis from north, clockwise."""
    meters_per_deg_lat = 111_320.0
    meters_per_deg_lon = 111_320.0 * max(math.cos(math.radians(lat)), 1e-6)
    theta = math.radians(orientation_deg)
    ring = []
    for i in range(points):
        t = 2 * math.pi * i / points
        along, across = semi_major_m * math.cos(t), semi_minor_m * math.sin(t)
        north = along * math.cos(theta) - across * math.sin(theta)
        east = along * math.sin(theta) + across * math.cos(theta)
        ring.append([lat + north / meters_per_deg_lat, lon + east / meters_per_deg_lon])
    return ring


def frequency(mhz: float | None) -> str:
    return "—" if mhz is None else f"{mhz:.4f} MHz"


def snr(db: float | None) -> str:
    return "—" if db is None else f"{db:.1f} dB"


def target_name(names: dict[str, str], key: str | None) -> str:
    """The name an operator reads for a target id; the id itself when it is not configured."""
    return names.get(key or "", key or "—")

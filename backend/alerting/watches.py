"""Watch-lists: does a detection or a localization match what someone watches for? Pure."""

from __future__ import annotations

from typing import Any

from backend.config.schema import WatchSettings
from backend.kinds.fields import distance_km, number


def matches_detection(watch: WatchSettings, detection: dict[str, Any]) -> bool:
    if watch.frequency_mhz is None:
        return False
    frequency = number(detection.get("frequency_mhz"))
    if frequency is None or abs(frequency - watch.frequency_mhz) * 1000 > watch.tolerance_khz:
        return False
    snr = number(detection.get("snr_db"))
    if watch.min_snr_db is not None and (snr is None or snr < watch.min_snr_db):
        return False
    return not watch.receivers or detection.get("websdr_id") in watch.receivers


def matches_localization(watch: WatchSettings, localization: dict[str, Any]) -> bool:
    if watch.area is None:
        return False
    lat, lon = number(localization.get("latitude")), number(localization.get("longitude"))
    if lat is None or lon is None:
        return False
    if distance_km((watch.area.latitude, watch.area.longitude), (lat, lon)) > watch.area.radius_km:
        return False
    uncertainty = number(localization.get("uncertainty_m"))
    return watch.max_uncertainty_m is None or (uncertainty is not None and uncertainty <= watch.max_uncertainty_m)


class Cooldown:
    """At most one notification per watch every `cooldown_s` (times in seconds, passed in)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def ready(self, watch: WatchSettings, now_s: float) -> bool:
        last = self._last.get(watch.name)
        if last is not None and now_s - last < watch.cooldown_s:
            return False
        self._last[watch.name] = now_s
        return True

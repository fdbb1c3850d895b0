"""The network map: receivers coloured by status and labelled by name, clustered where
they crowd (a thousand do not fit a phone's map otherwise), the latest detections at
their receiver, the latest localizations with their uncertainty; tiles from the
configured tile server, a legend, and a notice when the tiles do not load.

The receivers are one layer drawn by the browser (heimdall.js, Leaflet.markercluster,
bundled in ui/static/vendor): the page sends their places once and then only the
statuses that changed."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from nicegui import ui

from backend.config.schema import Config
from backend.kinds import RECEIVERS
from ui import format as fmt
from ui.frame import STATIC_URL

CENTER = (44.95, 8.2)
DETECTIONS_SHOWN = 10
LOCALIZATIONS_SHOWN = 10
DETECTION_COLOR, LOCALIZATION_COLOR = "#7c3aed", "#2563eb"

CLUSTER = f"{STATIC_URL}/vendor/leaflet.markercluster"
LABELLED_UP_TO = 40  # receivers named on the map itself; beyond, on hover (labels would cover each other)

LEGEND = [
    (fmt.GREEN, "online"), (fmt.AMBER, "degraded"), (fmt.RED, "offline"), (fmt.GREY, "not checked yet"),
]


class NetworkMap:
    def __init__(self, config: Config, websdrs: dict[str, dict[str, Any]]) -> None:
        tiles = config.map
        # What the coverage layer says comes first, in view with the map (the frequency is
        # in the field above it).
        with ui.row().classes("gap-3 items-center text-sm hl-legend hl-coverage-legend") \
                .props('aria-label="Coverage legend"') as self.coverage_legend:
            self.coverage_note = ui.label().classes("hl-coverage-note")
            for _, color, label in COVERAGE_CLASSES:
                ui.html(f'<span class="hl-swatch" style="background:{color}"></span>{label}', sanitize=False)
            ui.html('<span class="hl-swatch hl-swatch-none"></span>no fix', sanitize=False)
        # The map's own maxZoom: clustering needs one, and without a tile layer none is set.
        self.map = ui.leaflet(center=CENTER, zoom=8, options={"maxZoom": tiles.max_zoom}, additional_resources=[
            f"{CLUSTER}/MarkerCluster.css", f"{CLUSTER}/MarkerCluster.Default.css",
            f"{CLUSTER}/leaflet.markercluster.js"]).classes("w-full h-[24rem] hl-live")
        self.map.remove_layer(self.map.layers[0])  # NiceGUI's default OpenStreetMap layer
        if tiles.tile_url:
            self.map.tile_layer(url_template=tiles.tile_url,
                                options={"attribution": tiles.attribution, "maxZoom": tiles.max_zoom})
        notice = ui.label("Map tiles unavailable: the tile server does not answer from this browser. "
                          "Receivers, detections and localizations are still drawn.") \
            .classes("hl-tiles-notice").props("role=status hidden")
        if not tiles.tile_url:
            notice.set_text("No tile server configured ([map] tile_url): positions only.")
            notice.props(remove="hidden")
        # Layer methods sent before the browser's map exists are lost: hold them until then.
        self._pending: list[tuple[Any, str, tuple]] = []
        self._pending_js: list[str] = []
        self.map.on("init", self._on_init)
        with ui.row().classes("gap-4 items-center text-sm hl-legend").props('aria-label="Map legend"'):
            for color, label in LEGEND:
                ui.html(f'<span class="hl-dot" style="background:{color}"></span>{label}', sanitize=False)
            ui.html(f'<span class="hl-ring" style="border-color:{DETECTION_COLOR}"></span>detection at its receiver',
                    sanitize=False)
            ui.html(f'<span class="hl-area" style="border-color:{LOCALIZATION_COLOR}"></span>'
                    'localization: 1σ, 2σ, 3σ (dashed lines: its receivers; click for details)', sanitize=False)
        self._positions: dict[str, tuple[float, float]] = {}
        self._names: dict[str, str] = {}
        self._detections: list = []
        self._receivers_js = ""
        self.draw_receivers(config, websdrs)

    def _on_init(self) -> None:
        self._run(f"heimdallWatchTiles({self.map.id})")
        if self._positions:  # every receiver in view, on a wall screen or a phone
            lats = [lat for lat, _ in self._positions.values()]
            lons = [lon for _, lon in self._positions.values()]
            self.map.run_map_method("fitBounds", [[min(lats), min(lons)], [max(lats), max(lons)]],
                                    {"padding": [30, 30], "maxZoom": 11})
        self._run(self._receivers_js)
        pending, self._pending = self._pending, []
        for layer, method, args in pending:
            if layer in self.map.layers:
                layer.run_method(method, *args)
        pending_js, self._pending_js = self._pending_js, []
        for code in pending_js:
            self._run(code)

    def _call(self, layer: Any, method: str, *args: Any) -> None:
        if self.map.is_initialized:
            layer.run_method(method, *args)
        else:
            self._pending.append((layer, method, args))

    def draw_receivers(self, config: Config, websdrs: Mapping[str, Mapping[str, Any]]) -> None:
        """(Re)draw every configured receiver, where its configuration puts it."""
        self._positions = {w.id: (w.latitude, w.longitude) for w in config.websdrs}
        self._names = {w.id: w.name for w in config.websdrs}
        receivers = [[w.id, w.name, w.latitude, w.longitude, (websdrs.get(w.id) or {}).get("status") or "unknown",
                      RECEIVERS.page_of(w.id)] for w in config.websdrs]
        # Names are escaped by the browser's side (they come from configuration files).
        self._receivers_js = (f"heimdallReceivers.draw({self.map.id}, {json.dumps(receivers)}, "
                              f"{json.dumps(fmt.STATUS_COLORS)}, {LABELLED_UP_TO})")
        if self.map.is_initialized:
            self._run(self._receivers_js)

    def recolor(self, statuses: Mapping[str, str]) -> None:
        """New statuses of some receivers: only those go to the browser."""
        if statuses and self.map.is_initialized:
            self._run(f"heimdallReceivers.recolor({self.map.id}, {json.dumps(statuses)})")

    def add_detection(self, detection: dict[str, Any]) -> None:
        where = self._positions.get(detection.get("websdr_id", ""))
        if where is None:
            return  # a receiver this gateway does not know: the feed shows it, the map cannot place it
        layer = self.map.generic_layer(name="circleMarker", args=[list(where), {
            "radius": 16, "color": DETECTION_COLOR, "weight": 3, "fill": False, "className": "hl-detection"}])
        name = self._names.get(detection.get("websdr_id", ""), "")
        self._call(layer, "bindTooltip", html.escape(f"{fmt.frequency(detection.get('frequency_mhz'))}, "
                                                    f"{fmt.snr(detection.get('snr_db'))} at {name}"))
        self._detections.append(layer)
        while len(self._detections) > DETECTIONS_SHOWN:
            self.map.remove_layer(self._detections.pop(0))

    def add_localization(self, loc: dict[str, Any]) -> None:
        """Its 1, 2 and 3 sigma ellipses, the receivers that took part, details on a click."""
        item = localization_item(loc, self._positions, self._names)
        self._js(f"heimdallLocalizations.add({self.map.id}, {json.dumps(item)}, {json.dumps(LOCALIZATION_COLOR)}, "
                 f"{LOCALIZATIONS_SHOWN})")

    def show_coverage(self, grid: Mapping[str, Any] | None) -> None:
        """The coverage layer from a grid (backend/locating/network.py), or none; the legend
        says what it is and warns (too few ready, the same place, on a line)."""
        self.coverage_legend.set_visibility(grid is not None)
        if grid is not None:
            warnings = "; ".join(grid["warnings"])
            self.coverage_note.set_text(f"{grid['ready']} of {grid['judged']} receivers ready at "
                                        f"{grid['freq_mhz']:g} MHz" + (f" — {warnings}" if warnings else "")
                                        + "; expected 1σ position error:")
        shown = None if grid is None else {"bounds": grid["bounds"], "cells": grid["cells"],
                                           "codes": coverage_codes(grid["error_m"])}
        self._js(f"heimdallCoverage.draw({self.map.id}, {json.dumps(shown)}, "
                 f"{json.dumps([color for _, color, _ in COVERAGE_CLASSES])})")

    def _run(self, code: str) -> None:
        """On this map's own tab, named: a change pushed from a background task (the
        coverage, a round's colours) has no page context of its own to find the tab by."""
        self.map.client.run_javascript(code)

    def _js(self, code: str) -> None:
        if self.map.is_initialized:
            self._run(code)
        else:
            self._pending_js.append(code)


# The coverage layer's classes of expected 1-sigma position error: (below, colour, label).
COVERAGE_CLASSES = ((500, "#15803d", "< 500 m"), (1000, "#65a30d", "< 1 km"), (2000, "#ca8a04", "< 2 km"),
                    (5000, "#ea580c", "< 5 km"), (float("inf"), "#b91c1c", "≥ 5 km"))
SIGMAS = (3, 2, 1)  # drawn widest first


def coverage_codes(errors_m: list[float | None]) -> str:
    """One character per cell: the index of its error class, '-' where there is no fix."""
    codes = []
    for error in errors_m:
        if error is None:
            codes.append("-")
        else:
            codes.append(str(next(i for i, (below, _, _) in enumerate(COVERAGE_CLASSES) if error < below)))
    return "".join(codes)


def localization_item(loc: Mapping[str, Any], positions: Mapping[str, tuple[float, float]],
                      names: Mapping[str, str]) -> dict[str, Any]:
    """What the browser draws for one localization. The ellipse is the producer's
    (semi-axes at 1 sigma, orientation from north); without one, a circle of
    `uncertainty_m`. Receivers this gateway does not know are listed, not drawn."""
    lat, lon = loc["latitude"], loc["longitude"]
    ellipse = loc.get("uncertainty_ellipse")
    major, minor, turn = ((ellipse["semi_major_m"], ellipse["semi_minor_m"], ellipse.get("orientation_deg", 0))
                          if ellipse else (loc["uncertainty_m"], loc["uncertainty_m"], 0))
    rings = [[[round(a, 6), round(b, 6)] for a, b in fmt.ellipse_polygon(lat, lon, major * k, minor * k, turn, 36)]
             for k in SIGMAS]
    taking_part = [str(key) for key in loc.get("websdr_ids") or []]
    receivers = [[*positions[key], names.get(key, key), RECEIVERS.page_of(key)] if key in positions
                 else [None, None, key, ""] for key in taking_part]
    spread = (f"{major:.0f} × {minor:.0f} m, major axis {turn:.0f}° from north" if ellipse
              else f"{loc['uncertainty_m']:.0f} m (a circle: no ellipse sent)")
    details = [("When", str(loc.get("timestamp", ""))), ("Position", f"{lat:.5f}, {lon:.5f}"),
               ("1σ", spread), ("2σ / 3σ", f"{2 * major:.0f} m / {3 * major:.0f} m along the major axis"),
               ("Confidence", f"{loc.get('confidence', 0):.0%}")]
    frequency = loc.get("frequency_mhz", loc.get("source_frequency_mhz"))
    if isinstance(frequency, (int, float)):
        details.append(("Frequency", fmt.frequency(frequency)))
    details.append(("Receivers", str(len(taking_part)) if taking_part else str(loc.get("websdr_count", "not sent"))))
    details.append(("Id", str(loc.get("id", ""))))
    return {"lat": lat, "lon": lon, "rings": rings, "details": details,
            "receivers": [r for r in receivers if r[0] is not None] + [r for r in receivers if r[0] is None],
            "summary": f"{lat:.4f}, {lon:.4f} ± {loc['uncertainty_m']:.0f} m, confidence {loc.get('confidence', 0):.0%}"}

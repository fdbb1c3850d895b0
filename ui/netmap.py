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
        self.map.on("init", self._on_init)
        with ui.row().classes("gap-4 items-center text-sm hl-legend").props('aria-label="Map legend"'):
            for color, label in LEGEND:
                ui.html(f'<span class="hl-dot" style="background:{color}"></span>{label}', sanitize=False)
            ui.html(f'<span class="hl-ring" style="border-color:{DETECTION_COLOR}"></span>detection at its receiver',
                    sanitize=False)
            ui.html(f'<span class="hl-area" style="border-color:{LOCALIZATION_COLOR}"></span>'
                    'localization and its uncertainty', sanitize=False)
        self._positions: dict[str, tuple[float, float]] = {}
        self._names: dict[str, str] = {}
        self._detections: list = []
        self._localizations: list = []
        self._receivers_js = ""
        self.draw_receivers(config, websdrs)

    def _on_init(self) -> None:
        ui.run_javascript(f"heimdallWatchTiles({self.map.id})")
        if self._positions:  # every receiver in view, on a wall screen or a phone
            lats = [lat for lat, _ in self._positions.values()]
            lons = [lon for _, lon in self._positions.values()]
            self.map.run_map_method("fitBounds", [[min(lats), min(lons)], [max(lats), max(lons)]],
                                    {"padding": [30, 30], "maxZoom": 11})
        ui.run_javascript(self._receivers_js)
        pending, self._pending = self._pending, []
        for layer, method, args in pending:
            if layer in self.map.layers:
                layer.run_method(method, *args)

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
            ui.run_javascript(self._receivers_js)

    def recolor(self, statuses: Mapping[str, str]) -> None:
        """New statuses of some receivers: only those go to the browser."""
        if statuses and self.map.is_initialized:
            ui.run_javascript(f"heimdallReceivers.recolor({self.map.id}, {json.dumps(statuses)})")

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
        lat, lon = loc["latitude"], loc["longitude"]
        style = {"color": LOCALIZATION_COLOR, "weight": 2, "fillOpacity": 0.12, "className": "hl-localization"}
        ellipse = loc.get("uncertainty_ellipse")
        if ellipse:
            area = self.map.generic_layer(name="polygon", args=[fmt.ellipse_polygon(
                lat, lon, ellipse["semi_major_m"], ellipse["semi_minor_m"], ellipse.get("orientation_deg", 0)), style])
        else:
            area = self.map.generic_layer(name="circle", args=[[lat, lon], {**style, "radius": loc["uncertainty_m"]}])
        point = self.map.generic_layer(name="circleMarker", args=[[lat, lon], {
            "radius": 5, "color": "#1d4ed8", "fillColor": "#1d4ed8", "fillOpacity": 1,
            "className": "hl-localization-point"}])
        self._call(point, "bindTooltip", f"{lat:.4f}, {lon:.4f} ± {loc['uncertainty_m']:.0f} m, "
                                        f"confidence {loc.get('confidence', 0):.0%}")
        self._localizations.append((area, point))
        while len(self._localizations) > LOCALIZATIONS_SHOWN:
            for layer in self._localizations.pop(0):
                self.map.remove_layer(layer)

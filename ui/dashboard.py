"""Dashboard (`/`): summary, services, receivers, latest detections, the map."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from backend.settings import Config
from ui import format as fmt
from ui.frame import header, time_tag
from ui.state import LiveState

MAP_CENTER = (44.95, 8.2)
DETECTIONS_ON_MAP = 10
LOCALIZATIONS_ON_MAP = 10

STATUS_CELL = """
<q-td :props="props">
  <span class="hl-dot" :style="{background: props.row.color}"></span>{{ props.value }}
</q-td>"""
TIME_CELL = """
<q-td :props="props"><time v-if="props.value" :datetime="props.value">{{ props.value }}</time><span v-else>—</span></q-td>"""


def service_rows(services: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": name, "status": s["status"], "color": fmt.status_color(s["status"]),
             "response": fmt.ms(s.get("response_time_ms")), "uptime": fmt.percent(s.get("uptime_24h")),
             "last_check": s.get("last_check"), "error": s.get("error") or ""}
            for name, s in services.items()]


def receiver_rows(config: Config, websdrs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for w in config.websdrs:
        s = websdrs.get(w.id) or {}
        rows.append({"id": w.id, "name": w.name, "status": s.get("status", "unknown"),
                     "color": fmt.status_color(s.get("status")), "response": fmt.ms(s.get("response_time_ms")),
                     "users": fmt.users(s.get("details") or {}), "uptime": fmt.percent(s.get("uptime_24h")),
                     "last_check": s.get("last_check"), "error": s.get("error_message") or ""})
    return rows


def detection_rows(detections) -> list[dict[str, Any]]:
    return [{"id": d["id"], "frequency": fmt.frequency(d.get("frequency_mhz")), "snr": f"{d.get('snr_db', 0):.1f} dB",
             "websdr": d.get("websdr_id", "—"), "time": d.get("timestamp")} for d in detections]


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]], key: str) -> ui.table:
    table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in columns],
                     rows=rows, row_key=key).props("dense flat wrap-cells").classes("w-full hl-live")
    table.add_slot("body-cell-status", STATUS_CELL)
    table.add_slot("body-cell-last_check", TIME_CELL)
    table.add_slot("body-cell-time", TIME_CELL)
    return table


def summary_card(title: str, html: bool = False) -> tuple[ui.element, ui.label]:
    with ui.card().classes("hl-card hl-live grow"):
        ui.label(title).classes("text-sm uppercase opacity-70")
        value = (ui.html("", sanitize=False) if html else ui.label()).classes("hl-figure")
        note = ui.label().classes("text-sm opacity-80")
    return value, note


def render(state: LiveState) -> None:
    config = state.runtime.settings.config
    header("/")
    with ui.column().classes("w-full p-4 gap-4"):
        with ui.row().classes("w-full gap-4"):
            services_value, services_note = summary_card("Services healthy")
            receivers_value, receivers_note = summary_card("Receivers online")
            detections_value, detections_note = summary_card("Detections, last 24 h")
            localization_value, localization_note = summary_card("Last localization", html=True)

        def update_summary() -> None:
            up, total = fmt.count_up(state.services)
            healthy = sum(1 for s in state.services.values() if s.get("status") == "healthy")
            services_value.set_text(f"{healthy} / {total}")
            services_note.set_text(fmt.summary_note(state.services) if total else "none configured")
            online, total = fmt.count_up(state.websdrs)
            receivers_value.set_text(f"{online} / {total}")
            receivers_note.set_text(fmt.summary_note(state.websdrs) if total else "none configured")
            detections_value.set_text(f"{state.detections_24h}")
            detections_note.set_text(f"{state.detections_total} in total")
            last = state.last_localization
            if last:
                localization_value.set_content(time_tag(last.get("timestamp")))
                localization_note.set_text(f"{last['latitude']:.4f}, {last['longitude']:.4f} ± {last['uncertainty_m']:.0f} m")
            else:
                localization_value.set_content("—")
                localization_note.set_text("none yet")

        with ui.row().classes("w-full gap-4 items-start no-wrap max-lg:flex-wrap"):
            with ui.column().classes("grow basis-1/2 gap-4 min-w-[22rem]"):
                ui.label("Services").classes("text-xl font-semibold")
                services_table = _table([("name", "Service"), ("status", "Status"), ("response", "Response"),
                                         ("uptime", "Uptime 24 h"), ("last_check", "Checked"), ("error", "Reason")],
                                        service_rows(state.services), "name")
                ui.label("Receivers").classes("text-xl font-semibold")
                receivers_table = _table([("name", "Receiver"), ("status", "Status"), ("response", "Response"),
                                          ("users", "Users"), ("uptime", "Uptime 24 h"), ("last_check", "Checked"),
                                          ("error", "Reason")],
                                         receiver_rows(config, state.websdrs), "id")
            with ui.column().classes("grow basis-1/2 gap-4 min-w-[22rem]"):
                ui.label("Map").classes("text-xl font-semibold")
                network_map = ui.leaflet(center=MAP_CENTER, zoom=8).classes("w-full h-[28rem] hl-live")
                ui.label("Latest detections").classes("text-xl font-semibold")
                feed = _table([("frequency", "Frequency"), ("snr", "SNR"), ("websdr", "Receiver"), ("time", "When")],
                              detection_rows(state.detections), "id")
                feed.props("virtual-scroll").classes("max-h-[22rem]")

    markers = {}
    for w in config.websdrs:
        status = (state.websdrs.get(w.id) or {}).get("status")
        markers[w.id] = network_map.generic_layer(name="circleMarker", args=[[w.latitude, w.longitude], {
            "radius": 9, "color": "#111827", "weight": 2, "fillColor": fmt.status_color(status), "fillOpacity": 0.9,
            "className": f"hl-receiver hl-receiver-{w.id}"}])
        markers[w.id].run_method("bindTooltip", f"{w.name}")
    positions = {w.id: (w.latitude, w.longitude) for w in config.websdrs}
    detection_layers: list = []
    localization_layers: list = []

    def draw_detection(detection: dict[str, Any]) -> None:
        where = positions.get(detection.get("websdr_id", ""))
        if where is None:
            return  # a receiver this gateway does not know: the feed shows it, the map cannot place it
        layer = network_map.generic_layer(name="circleMarker", args=[list(where), {
            "radius": 16, "color": "#7c3aed", "weight": 3, "fill": False, "className": "hl-detection"}])
        layer.run_method("bindTooltip", f"{fmt.frequency(detection.get('frequency_mhz'))}, "
                                        f"{detection.get('snr_db', 0):.1f} dB")
        detection_layers.append(layer)
        while len(detection_layers) > DETECTIONS_ON_MAP:
            network_map.remove_layer(detection_layers.pop(0))

    def draw_localization(loc: dict[str, Any]) -> None:
        lat, lon = loc["latitude"], loc["longitude"]
        style = {"color": "#2563eb", "weight": 2, "fillOpacity": 0.12, "className": "hl-localization"}
        ellipse = loc.get("uncertainty_ellipse")
        if ellipse:
            area = network_map.generic_layer(name="polygon", args=[fmt.ellipse_polygon(
                lat, lon, ellipse["semi_major_m"], ellipse["semi_minor_m"], ellipse.get("orientation_deg", 0)), style])
        else:
            area = network_map.generic_layer(name="circle", args=[[lat, lon], {**style, "radius": loc["uncertainty_m"]}])
        point = network_map.generic_layer(name="circleMarker", args=[[lat, lon], {
            "radius": 5, "color": "#1d4ed8", "fillColor": "#1d4ed8", "fillOpacity": 1, "className": "hl-localization-point"}])
        point.run_method("bindTooltip", f"{lat:.4f}, {lon:.4f} ± {loc['uncertainty_m']:.0f} m, "
                                        f"confidence {loc.get('confidence', 0):.0%}")
        localization_layers.append((area, point))
        while len(localization_layers) > LOCALIZATIONS_ON_MAP:
            for layer in localization_layers.pop(0):
                network_map.remove_layer(layer)

    for detection in reversed(list(state.detections)[:DETECTIONS_ON_MAP]):
        draw_detection(detection)
    for loc in reversed(list(state.localizations)[:LOCALIZATIONS_ON_MAP]):
        draw_localization(loc)
    update_summary()

    def on_services(services: dict[str, Any]) -> None:
        services_table.rows = service_rows(services)
        services_table.update()

    def on_websdrs(websdrs: dict[str, Any]) -> None:
        receivers_table.rows = receiver_rows(config, websdrs)
        receivers_table.update()
        for key, marker in markers.items():
            marker.run_method("setStyle", {"fillColor": fmt.status_color((websdrs.get(key) or {}).get("status"))})

    def on_detection(detection: dict[str, Any]) -> None:
        feed.rows = detection_rows(state.detections)
        feed.update()
        draw_detection(detection)

    state.services_changed.subscribe(on_services)
    state.websdrs_changed.subscribe(on_websdrs)
    state.detection_added.subscribe(on_detection)
    state.localization_added.subscribe(draw_localization)
    state.summary_changed.subscribe(update_summary)

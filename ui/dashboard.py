"""Dashboard (`/`): summary, services, receivers, latest detections, the map."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from backend.config.schema import Config
from backend.kinds import RECEIVERS
from ui import format as fmt
from ui.frame import empty_table_slot, header, time_tag
from ui.netmap import DETECTIONS_SHOWN, LOCALIZATIONS_SHOWN, NetworkMap
from ui.state import LiveState

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


def detection_rows(detections, names: dict[str, str]) -> list[dict[str, Any]]:
    return [{"id": d["id"], "frequency": fmt.frequency(d.get("frequency_mhz")), "snr": fmt.snr(d.get("snr_db")),
             "websdr": fmt.target_name(names, d.get("websdr_id")), "time": d.get("timestamp")} for d in detections]


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]], key: str, empty: str) -> ui.table:
    table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in columns],
                     rows=rows, row_key=key).props("dense flat wrap-cells").classes("w-full hl-live")
    empty_table_slot(table, empty)
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


def render(state: LiveState, principal: Any = None) -> None:
    def config() -> Config:  # the running one: a reload may change it while the page is open
        return state.runtime.settings.config

    header("/", principal, state.figures)
    with ui.column().classes("w-full p-4 gap-4"):
        with ui.row().classes("w-full gap-4"):
            services_value, services_note = summary_card("Services healthy")
            receivers_value, receivers_note = summary_card("Receivers online")
            detections_value, detections_note = summary_card("Detections, last 24 h")
            localization_value, localization_note = summary_card("Last localization", html=True)

        def update_summary() -> None:
            _, total = fmt.count_up(state.services)
            healthy = sum(1 for s in state.services.values() if s.get("status") == "healthy")
            services_value.set_text(f"{healthy} / {total}")
            services_note.set_text(fmt.summary_note(state.services) if total else "none configured")
            online = sum(1 for s in state.websdrs.values() if s.get("status") == "online")
            receivers_value.set_text(f"{online} / {len(state.websdrs)}")
            receivers_note.set_text(fmt.summary_note(state.websdrs) if state.websdrs else "none configured")
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
            with ui.column().classes("grow basis-1/2 gap-4 min-w-[min(22rem,100%)]"):
                ui.label("Services").classes("text-xl font-semibold")
                services_table = _table([("name", "Service"), ("status", "Status"), ("response", "Response"),
                                         ("uptime", "Uptime 24 h"), ("last_check", "Checked"), ("error", "Reason")],
                                        service_rows(state.services), "name", "No services are configured.")
                ui.label("Receivers").classes("text-xl font-semibold")
                receivers_table = _table([("name", "Receiver"), ("status", "Status"), ("response", "Response"),
                                          ("users", "Users"), ("uptime", "Uptime 24 h"), ("last_check", "Checked"),
                                          ("error", "Reason")],
                                         receiver_rows(config(), state.websdrs), "id", "No receivers are configured.")
            with ui.column().classes("grow basis-1/2 gap-4 min-w-[min(22rem,100%)]"):
                ui.label("Map").classes("text-xl font-semibold")
                network_map = NetworkMap(config(), state.websdrs)
                ui.label("Latest detections").classes("text-xl font-semibold")
                feed = _table([("frequency", "Frequency"), ("snr", "SNR"), ("websdr", "Receiver"), ("time", "When")],
                              detection_rows(state.detections, state.names(RECEIVERS.name)), "id",
                              "No detections yet. They appear here as the platform reports them.")
                feed.props("virtual-scroll").classes("max-h-[22rem]")

    for detection in reversed(list(state.detections)[:DETECTIONS_SHOWN]):
        network_map.add_detection(detection)
    for loc in reversed(list(state.localizations)[:LOCALIZATIONS_SHOWN]):
        network_map.add_localization(loc)
    update_summary()

    def on_services(services: dict[str, Any]) -> None:
        services_table.rows = service_rows(services)
        services_table.update()

    def on_websdrs(websdrs: dict[str, Any]) -> None:
        receivers_table.rows = receiver_rows(config(), websdrs)
        receivers_table.update()
        network_map.color_receivers(websdrs)

    def refill_feed() -> None:
        feed.rows = detection_rows(state.detections, state.names(RECEIVERS.name))
        feed.update()

    def on_detections(detections: list[dict[str, Any]]) -> None:
        refill_feed()
        for detection in detections:
            network_map.add_detection(detection)

    def on_config(new_config: Config) -> None:
        network_map.draw_receivers(new_config, state.websdrs)
        on_websdrs(state.websdrs)
        refill_feed()  # receiver names may have changed

    state.services_changed.subscribe(on_services)
    state.websdrs_changed.subscribe(on_websdrs)
    state.detections_added.subscribe(on_detections)
    state.localization_added.subscribe(network_map.add_localization)
    state.summary_changed.subscribe(update_summary)
    state.config_changed.subscribe(on_config)

"""Dashboard (`/`): counts by state, the problems first, what just changed, the map, the
latest detections. One search and status filter serves both tables and stays in the URL
(`/?q=genova&status=problems`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nicegui import background_tasks, ui

from backend.config.schema import Config
from backend.kinds import RECEIVERS, SERVICES
from backend.kinds.status import is_down
from ui import format as fmt
from ui.changes import change_list
from ui.frame import empty_table_slot, header, time_tag
from ui.live_table import Column, LiveTable
from ui.netmap import DETECTIONS_SHOWN, LOCALIZATIONS_SHOWN, NetworkMap
from ui.rows import View
from ui.state import LiveState
from ui.view_bar import keep_in_url, keep_param_in_url, view_bar

SERVICE_ROWS, RECEIVER_ROWS, CHANGES_SHOWN, FEED_ROWS = 10, 15, 10, 20
COVERAGE_CELLS = 40  # along each side of the coverage grid

SERVICE_COLUMNS: list[Column] = [("status", "Status", True), ("name", "Service", True),
                                 ("latency", "Response", True), ("uptime", "Uptime 24 h", False),
                                 ("since", "Last change", False), ("reason", "Reason", True)]
RECEIVER_COLUMNS: list[Column] = [("status", "Status", True), ("name", "Receiver", True), ("kind", "Kind", False),
                                  ("users", "Users", False), ("latency", "Response", True),
                                  ("since", "Last change", False), ("reason", "Reason", True)]

# A receiver named in the feed links to its own page (the href built by its group).
LINK_CELL = """
<q-td :props="props"><a v-if="props.row.href" :href="props.row.href" class="hl-target-link">{{ props.value }}</a>\
<span v-else>{{ props.value }}</span></q-td>"""
TIME_CELL = """
<q-td :props="props"><time v-if="props.value" :datetime="props.value">{{ props.value }}</time><span v-else>—</span></q-td>"""


def detection_rows(detections, names: dict[str, str]) -> list[dict[str, Any]]:
    return [{"id": d["id"], "frequency": fmt.frequency(d.get("frequency_mhz")), "snr": fmt.snr(d.get("snr_db")),
             "receiver": fmt.target_name(names, d.get("websdr_id")), "time": d.get("timestamp"),
             "href": RECEIVERS.page_of(d["websdr_id"]) if d.get("websdr_id") in names else ""}
            for d in list(detections)[:FEED_ROWS]]


def health(entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The state a summary card is coloured by: any down, any not fully up, or all up."""
    statuses = [e.get("status") for e in entries.values()]
    if any(is_down(s) for s in statuses):
        return "down"
    return "degraded" if any(s in ("degraded", "unknown", None) for s in statuses) else "up"


def summary_card(title: str, html: bool = False) -> tuple[ui.card, ui.element, ui.label]:
    with ui.card().classes("hl-card hl-live grow") as card:
        ui.label(title).classes("text-sm uppercase opacity-70")
        value = (ui.html("", sanitize=False) if html else ui.label()).classes("hl-figure")
        note = ui.label().classes("text-sm opacity-90")
    return card, value, note


def coverage_frequency(query: Mapping[str, str], default: float) -> float:
    """The coverage layer's frequency from the URL (`?freq=145.5`; `0` for none), else the
    configured one; what does not read as a frequency is the configured one."""
    try:
        value = float(str(query.get("freq", ""))[:20])
    except ValueError:
        return default
    return value if 0 <= value <= 1e6 else default


def render(state: LiveState, principal: Any, query: Mapping[str, str]) -> None:
    def config() -> Config:  # the running one: a reload may change it while the page is open
        return state.runtime.settings.config

    header("/", principal, state.figures)
    view = View.from_query(query).known(statuses=(), kinds=())  # one filter for both groups: problems or all
    with ui.column().classes("w-full p-3 gap-3"):
        with ui.row().classes("w-full gap-3"):
            services_card, services_value, services_note = summary_card("Services healthy")
            receivers_card, receivers_value, receivers_note = summary_card("Receivers online")
            _, detections_value, detections_note = summary_card("Detections, last 24 h")
            _, localization_value, localization_note = summary_card("Last localization", html=True)

        shown: dict[str, str] = {}

        def put(element: Any, text: str, html: bool = False) -> None:
            """Send a text only when it changed: a round with no news costs a tab nothing."""
            if shown.get(element.id) != text:
                shown[element.id] = text
                element.set_content(text) if html else element.set_text(text)

        def color(card: ui.card, entries: Mapping[str, Mapping[str, Any]]) -> None:
            put_class = f"hl-card-{health(entries) if entries else 'up'}"
            if shown.get(card.id) != put_class:
                if card.id in shown:
                    card.classes(remove=shown[card.id])
                card.classes(put_class)
                shown[card.id] = put_class

        def update_summary() -> None:
            healthy = sum(1 for s in state.services.values() if s.get("status") == "healthy")
            put(services_value, f"{healthy} / {len(state.services)}")
            put(services_note, state.counts[SERVICES.name])
            color(services_card, state.services)
            online = sum(1 for s in state.websdrs.values() if s.get("status") == "online")
            put(receivers_value, f"{online} / {len(state.websdrs)}")
            put(receivers_note, state.counts[RECEIVERS.name])
            color(receivers_card, state.websdrs)
            put(detections_value, f"{state.detections_24h}")
            put(detections_note, f"{state.detections_total} in total")
            last = state.last_localization
            if last:
                put(localization_value, time_tag(last.get("timestamp")), html=True)
                put(localization_note,
                    f"{last['latitude']:.4f}, {last['longitude']:.4f} ± {last['uncertainty_m']:.0f} m")
            else:
                put(localization_value, "—", html=True)
                put(localization_note, "none yet")

        tables: dict[str, LiveTable] = {}
        coverage_freq = [coverage_frequency(query, config().map.coverage_freq_mhz)]

        def change_view(**fields: str) -> None:
            for table in tables.values():
                table.set_view(replace(table.view, **fields))
            keep_in_url(replace(view, **fields))

        view_bar(view, change_view, [], [], "services and receivers")
        with ui.row().classes("w-full gap-4 items-start no-wrap max-lg:flex-wrap"):
            with ui.column().classes("grow basis-3/5 gap-2 min-w-0 w-full"):
                ui.html('<h2 class="text-xl font-semibold">Services <a class="hl-more-link" href="/system">'
                        "all services →</a></h2>", sanitize=False)
                tables[SERVICES.name] = LiveTable(
                    lambda: state.rows[SERVICES.name], SERVICE_COLUMNS, replace(view, kind="", limit=SERVICE_ROWS),
                    "No service matches." if config().services else "No services are configured.", label="services")
                ui.html('<h2 class="text-xl font-semibold">Receivers <a class="hl-more-link" href="/websdrs">'
                        "all receivers →</a></h2>", sanitize=False)
                tables[RECEIVERS.name] = LiveTable(
                    lambda: state.rows[RECEIVERS.name], RECEIVER_COLUMNS, replace(view, kind="", limit=RECEIVER_ROWS),
                    "No receiver matches." if config().websdrs else "No receivers are configured.", label="receivers")
                ui.label("What changed").classes("text-xl font-semibold")
                change_list(state, CHANGES_SHOWN)
            with ui.column().classes("grow basis-2/5 gap-2 min-w-0 w-full"):
                with ui.row().classes("w-full items-center gap-3"):
                    ui.label("Map").classes("text-xl font-semibold")
                    freq_input = ui.number("Coverage at MHz", value=coverage_freq[0] or None, min=0, max=1e6,
                                           step=0.001, format="%g") \
                        .props('dense outlined clearable debounce=400 aria-label="Coverage frequency in MHz"') \
                        .classes("w-44")
                map_box = ui.column().classes("w-full gap-2 min-h-[24rem]")
                ui.label("Latest detections").classes("text-xl font-semibold")
                feed = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in
                                         (("frequency", "Frequency"), ("snr", "SNR"), ("receiver", "Receiver"),
                                          ("time", "When"))],
                                rows=detection_rows(state.detections, state.names(RECEIVERS.name)),
                                row_key="id").props("dense flat wrap-cells").classes("w-full hl-live")
                empty_table_slot(feed, "No detections yet. They appear here as the platform reports them.")
                feed.add_slot("body-cell-time", TIME_CELL)
                feed.add_slot("body-cell-receiver", LINK_CELL)

    update_summary()
    maps: list[NetworkMap] = []  # the map, once drawn

    async def draw_map() -> None:
        """The map comes once the page is up: its scripts would hold back the counts and
        the rows, which matter first."""
        try:
            await client.connected()
        except TimeoutError:  # the page was fetched, not opened (a script, a health check)
            return
        with map_box:
            network_map = NetworkMap(config(), state.websdrs)
        for detection in reversed(list(state.detections)[:DETECTIONS_SHOWN]):
            network_map.add_detection(detection)
        for loc in reversed(list(state.localizations)[:LOCALIZATIONS_SHOWN]):
            network_map.add_localization(loc)
        maps.append(network_map)
        await push_coverage()

    client = ui.context.client
    background_tasks.create(draw_map(), name="draw the map")

    coverage_sent: list[Any] = [None, False]  # the grid on the map, a recompute asked for meanwhile

    async def push_coverage() -> None:
        """The coverage layer, again when the ready receivers changed (the grid is shared by
        every tab and made again only then: backend/locating/network.py)."""
        if coverage_sent[1] == "running":
            coverage_sent[1] = "again"
            return
        coverage_sent[1] = "running"
        try:
            while True:
                freq, settings = coverage_freq[0], config().map
                grid = None if not freq else await state.coverage.grid(
                    config(), state.websdrs, freq, settings.coverage_sigma_t_us, COVERAGE_CELLS)
                if maps and (grid is not coverage_sent[0] or grid is None):
                    maps[0].show_coverage(grid)
                    coverage_sent[0] = grid
                if coverage_sent[1] != "again":
                    break
                coverage_sent[1] = "running"
        finally:
            coverage_sent[1] = False

    def on_frequency(value: Any) -> None:
        coverage_freq[0] = float(value) if isinstance(value, (int, float)) and 0 < value <= 1e6 else 0.0
        keep_param_in_url("freq", f"{coverage_freq[0]:g}" if coverage_freq[0] else "0")
        background_tasks.create(push_coverage(), name="coverage")

    freq_input.on_value_change(lambda event: on_frequency(event.value))

    def on_rows(group: str, before: Mapping[str, Any]) -> None:
        if group in tables:
            tables[group].rows_changed(before)
        if group == RECEIVERS.name and maps:
            background_tasks.create(push_coverage(), name="coverage")
            rows = state.rows[group]
            maps[0].recolor({key: rows[key]["status"] for key, old in before.items()
                                 if key in rows and (old is None or old["status"] != rows[key]["status"])})

    def refill_feed() -> None:
        feed.rows = detection_rows(state.detections, state.names(RECEIVERS.name))
        feed.update()

    def on_detections(detections: list[dict[str, Any]]) -> None:
        refill_feed()
        for network_map in maps:
            for detection in detections:
                network_map.add_detection(detection)

    def on_localization(localization: dict[str, Any]) -> None:
        for network_map in maps:
            network_map.add_localization(localization)

    def on_config(new_config: Config) -> None:
        for network_map in maps:
            network_map.draw_receivers(new_config, state.websdrs)
        background_tasks.create(push_coverage(), name="coverage")  # receivers may have moved
        refill_feed()  # receiver names may have changed

    state.rows_changed.subscribe(on_rows)
    state.detections_added.subscribe(on_detections)
    state.localization_added.subscribe(on_localization)
    state.summary_changed.subscribe(update_summary)
    state.config_changed.subscribe(on_config)

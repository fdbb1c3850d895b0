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
from ui.view_bar import frequency_in, keep_in_url, keep_param_in_url, view_bar

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


class Summary:
    """The four cards: services healthy, receivers online (coloured by the worst), the
    detections of 24 h, the last localization. A text is sent only when it changed: a
    round with no news costs a tab nothing."""

    def __init__(self, state: LiveState) -> None:
        self.state = state
        self.shown: dict[str, str] = {}
        with ui.row().classes("w-full gap-3"):
            self.services = summary_card("Services healthy")
            self.receivers = summary_card("Receivers online")
            self.detections = summary_card("Detections, last 24 h")
            self.localization = summary_card("Last localization", html=True)
        self.update()
        state.summary_changed.subscribe(self.update)

    def put(self, element: Any, text: str, html: bool = False) -> None:
        if self.shown.get(element.id) != text:
            self.shown[element.id] = text
            element.set_content(text) if html else element.set_text(text)

    def color(self, card: ui.card, entries: Mapping[str, Mapping[str, Any]]) -> None:
        wanted = f"hl-card-{health(entries) if entries else 'empty'}"  # none configured is not "all up"
        if self.shown.get(card.id) != wanted:
            if card.id in self.shown:
                card.classes(remove=self.shown[card.id])
            card.classes(wanted)
            self.shown[card.id] = wanted

    def update(self) -> None:
        state, put = self.state, self.put
        for (card, value, note), group, entries, up in (
                (self.services, SERVICES, state.services, "healthy"),
                (self.receivers, RECEIVERS, state.websdrs, "online")):
            put(value, f"{sum(1 for e in entries.values() if e.get('status') == up)} / {len(entries)}")
            put(note, state.counts[group.name])
            self.color(card, entries)
        _, value, note = self.detections
        put(value, f"{state.detections_24h}")
        put(note, f"{state.detections_total} in total")
        _, value, note = self.localization
        last = state.last_localization
        put(value, time_tag(last.get("timestamp")) if last else "—", html=True)
        put(note, f"{last['latitude']:.4f}, {last['longitude']:.4f} ± {last['uncertainty_m']:.0f} m" if last
            else "none yet")


class ProblemsFirst:
    """The services and receivers, problems first (the first screen of each), one search
    and one filter for both, the view kept in the URL; and what changed lately."""

    def __init__(self, state: LiveState, view: View) -> None:
        config = state.runtime.settings
        self.tables: dict[str, LiveTable] = {}
        view_bar(view, self.change_view, [], [], "services and receivers")
        ui.html('<h2 class="text-xl font-semibold">Services <a class="hl-more-link" href="/system">'
                "all services →</a></h2>", sanitize=False)
        self.tables[SERVICES.name] = LiveTable(
            lambda: state.rows[SERVICES.name], SERVICE_COLUMNS, replace(view, kind="", limit=SERVICE_ROWS),
            "No service matches." if config.config.services else "No services are configured.", label="services")
        ui.html('<h2 class="text-xl font-semibold">Receivers <a class="hl-more-link" href="/websdrs">'
                "all receivers →</a></h2>", sanitize=False)
        self.tables[RECEIVERS.name] = LiveTable(
            lambda: state.rows[RECEIVERS.name], RECEIVER_COLUMNS, replace(view, kind="", limit=RECEIVER_ROWS),
            "No receiver matches." if config.config.websdrs else "No receivers are configured.",
            label="receivers")
        self.view = view
        ui.label("What changed").classes("text-xl font-semibold")
        change_list(state, CHANGES_SHOWN)

    def change_view(self, **fields: str) -> None:
        for table in self.tables.values():
            table.set_view(replace(table.view, **fields))
        keep_in_url(replace(self.view, **fields))

    def rows_changed(self, group: str, before: Mapping[str, Any]) -> None:
        if group in self.tables:
            self.tables[group].rows_changed(before)


class DetectionFeed:
    """The latest detections, each at its receiver's page."""

    def __init__(self, state: LiveState) -> None:
        self.state = state
        ui.label("Latest detections").classes("text-xl font-semibold")
        self.table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in
                                       (("frequency", "Frequency"), ("snr", "SNR"), ("receiver", "Receiver"),
                                        ("time", "When"))],
                              rows=self.rows(), row_key="id").props("dense flat wrap-cells").classes("w-full hl-live")
        empty_table_slot(self.table, "No detections yet. They appear here as the platform reports them.")
        self.table.add_slot("body-cell-time", TIME_CELL)
        self.table.add_slot("body-cell-receiver", LINK_CELL)

    def rows(self) -> list[dict[str, Any]]:
        return detection_rows(self.state.detections, self.state.names(RECEIVERS.name))

    def refill(self) -> None:
        self.table.rows = self.rows()
        self.table.update()


class MapPanel:
    """The map: receivers coloured by status, the latest detections and localizations, and
    the coverage layer at the tab's frequency (kept in the URL). It comes once the page is
    up: its scripts would hold back the counts and the rows, which matter first."""

    def __init__(self, state: LiveState, query: Mapping[str, str]) -> None:
        self.state = state
        self.map: NetworkMap | None = None
        self.freq = frequency_in(query, self.config().map.coverage_freq_mhz)
        self.sent: Any = None  # the grid on the map
        self.pushing: str | bool = False  # a push running, or asked for again meanwhile
        with ui.row().classes("w-full items-center gap-3"):
            ui.label("Map").classes("text-xl font-semibold")
            ui.number("Coverage frequency, MHz", value=self.freq or None, min=0, max=1e6, step=0.001, format="%g",
                      on_change=lambda event: self.on_frequency(event.value)) \
                .props('dense outlined clearable debounce=400 aria-label="Coverage frequency in MHz"').classes("w-44")
        self.box = ui.column().classes("w-full gap-2 min-h-[24rem]")
        self.client = ui.context.client
        background_tasks.create(self.draw(), name="draw the map")

    def config(self) -> Config:  # the running one: a reload may change it while the page is open
        return self.state.runtime.settings.config

    async def draw(self) -> None:
        try:
            await self.client.connected()
        except TimeoutError:  # the page was fetched, not opened (a script, a health check)
            return
        with self.box:
            network_map = NetworkMap(self.config(), self.state.websdrs)
        for detection in reversed(list(self.state.detections)[:DETECTIONS_SHOWN]):
            network_map.add_detection(detection)
        for loc in reversed(list(self.state.localizations)[:LOCALIZATIONS_SHOWN]):
            network_map.add_localization(loc)
        self.map = network_map
        await self.push_coverage()

    async def push_coverage(self) -> None:
        """The coverage layer, again when the ready receivers changed (the grid is shared by
        every tab and made again only then: backend/locating/network.py)."""
        if self.pushing == "running":
            self.pushing = "again"
            return
        self.pushing = "running"
        try:
            while True:
                settings = self.config().map
                grid = None if not self.freq else await self.state.coverage.grid(
                    self.config(), self.state.websdrs, self.freq, settings.coverage_sigma_t_us, COVERAGE_CELLS)
                if self.map is not None and (grid is not self.sent or grid is None):
                    self.map.show_coverage(grid)
                    self.sent = grid
                if self.pushing != "again":
                    break
                self.pushing = "running"
        finally:
            self.pushing = False

    def on_frequency(self, value: Any) -> None:
        self.freq = float(value) if isinstance(value, (int, float)) and 0 < value <= 1e6 else 0.0
        keep_param_in_url("freq", f"{self.freq:g}" if self.freq else "0")
        background_tasks.create(self.push_coverage(), name="coverage")

    def rows_changed(self, group: str, before: Mapping[str, Any]) -> None:
        if group != RECEIVERS.name or self.map is None:
            return
        background_tasks.create(self.push_coverage(), name="coverage")
        rows = self.state.rows[group]
        self.map.recolor({key: rows[key]["status"] for key, old in before.items()
                          if key in rows and (old is None or old["status"] != rows[key]["status"])})

    def add_detections(self, detections: list[dict[str, Any]]) -> None:
        if self.map is not None:
            for detection in detections:
                self.map.add_detection(detection)

    def add_localization(self, localization: dict[str, Any]) -> None:
        if self.map is not None:
            self.map.add_localization(localization)

    def config_changed(self, config: Config) -> None:
        if self.map is not None:
            self.map.draw_receivers(config, self.state.websdrs)
        background_tasks.create(self.push_coverage(), name="coverage")  # receivers may have moved


def way_on(principal: Any) -> None:
    """Nothing is watched yet: say so, and where to go from here."""
    with ui.card().classes("w-full hl-way-on"):
        ui.label("Nothing is monitored yet").classes("text-lg font-semibold")
        if principal is not None and principal.may("operator"):
            ui.html('Add a receiver or a service on <a class="hl-target-link" href="/targets">Targets</a>, or '
                    "list them in a configuration file (<code>python main.py --config FILE</code>).", sanitize=False)
        else:
            ui.html('<a class="hl-target-link" href="/login?next=/targets">Sign in</a> as an operator to add '
                    "receivers and services, or list them in a configuration file "
                    "(<code>python main.py --config FILE</code>).", sanitize=False)
        ui.html("To see what a network looks like first: <code>python main.py --demo</code>.", sanitize=False)


def render(state: LiveState, principal: Any, query: Mapping[str, str]) -> None:
    """The page: its parts, side by side on a wide screen, one above the other on a phone;
    and what keeps them live."""
    header("/", principal, state.figures)
    view = View.from_query(query).known(statuses=(), kinds=())  # one filter for both groups: problems or all
    with ui.column().classes("w-full p-3 gap-3"):
        config = state.runtime.settings.config
        if not config.services and not config.websdrs:
            way_on(principal)
        Summary(state)
        with ui.row().classes("w-full gap-4 items-start no-wrap max-lg:flex-wrap"):
            with ui.column().classes("grow basis-3/5 gap-2 min-w-0 w-full"):
                lists = ProblemsFirst(state, view)
            with ui.column().classes("grow basis-2/5 gap-2 min-w-0 w-full"):
                network_map = MapPanel(state, query)
                feed = DetectionFeed(state)

    def on_rows(group: str, before: Mapping[str, Any]) -> None:
        lists.rows_changed(group, before)
        network_map.rows_changed(group, before)

    def on_detections(detections: list[dict[str, Any]]) -> None:
        feed.refill()
        network_map.add_detections(detections)

    def on_config(new_config: Config) -> None:
        network_map.config_changed(new_config)
        feed.refill()  # receiver names may have changed

    state.rows_changed.subscribe(on_rows)
    state.detections_added.subscribe(on_detections)
    state.localization_added.subscribe(network_map.add_localization)
    state.config_changed.subscribe(on_config)

"""Targets (`/targets`, operators and admins): add a receiver, a service or an alert rule
in the browser, test a target once before saving it, pause, resume and remove what was
made here. The configuration file's entries are listed as the file's and left to it.
Every action goes through backend/reconfigure/target_changes.py, as the API's do, and asks the
store for the page's rights when it runs."""

from __future__ import annotations

import json
from typing import Any

from nicegui import ui

from backend.auth.principal import Principal
from backend.config.managed import KEY_FIELD, EntryError
from backend.config.schema import DEFAULT_CONFIG_PATH
from backend.kinds import KINDS, SERVICES, default_kind, detection_order, kind_names, where_fields
from backend.reconfigure.target_changes import TargetChanges
from ui import format as fmt
from ui import page_access
from ui.frame import empty_table_slot, header
from ui.state import LiveState

SECTIONS = (("websdrs", "Receivers"), ("services", "Services"), ("alerts", "Alert rules"))


def kinds_using(where) -> str:
    """The labels of the service kinds whose targets are found by this field."""
    return ", ".join(k.label for k in KINDS.values() if k.group == SERVICES.name and k.where == where)


def where_of(section: str, entry: dict[str, Any]) -> str:
    """Shown from an entry as listed (its URLs redacted)."""
    if section == "alerts":
        return ", ".join(entry.get("targets") or []) + " → " + ", ".join(entry.get("urls") or [])
    return next((str(entry[w.name]) for w in where_fields(section) if entry.get(w.name)), "")


def answer_lines(answer: dict[str, Any]) -> list[str]:
    """What a test found, for people: status, kind, software, users, bands, position."""
    details = answer.get("details") or {}
    lines = [f"{answer['status']}" + (f" in {answer['response_time_ms']:.0f} ms" if answer.get("response_time_ms")
                                      is not None else "") + (f": {answer['error']}" if answer.get("error") else ""),
             f"kind: {answer['kind']}" + (" (told from its answer)" if answer.get("detected") else "")]
    if details.get("software") or details.get("sw_version"):
        lines.append("software: " + " ".join(str(details[k]) for k in ("software", "sw_version") if details.get(k)))
    if details.get("users_max") is not None:
        lines.append(f"users: {fmt.users(details)}")
    if details.get("bands_mhz"):
        lines.append("bands: " + ", ".join(f"{low:g}–{high:g} MHz" for low, high in details["bands_mhz"][:8]))
    position = details.get("reported_position")
    if position:
        lines.append(f"position it reports: {position['lat']:.4f}, {position['lon']:.4f}")
    if details.get("name"):
        lines.append(f"name it reports: {details['name']}")
    return lines


class Workbench:
    """What every part of the page shares: the changes service (as the API's), the page's
    rights asked again at each action, errors shown at their field, the tables' refresh."""

    def __init__(self, state: LiveState) -> None:
        self.runtime = state.runtime
        self.changes = TargetChanges(state.runtime)
        self.client = ui.context.client
        self.refreshers: list[Any] = []

    async def allowed(self) -> Principal | None:
        return await page_access.authorised(self.runtime.auth, self.client, "operator")

    @staticmethod
    def show_error(problem: EntryError, fields: dict[str, Any]) -> None:
        for inp in fields.values():
            inp.error = None
        target = fields.get(problem.field or "")
        if target is not None:
            target.error = str(problem)
        else:
            ui.notify(str(problem), type="negative", multi_line=True)

    @staticmethod
    def show_answer(box: ui.column, answer: dict[str, Any]) -> None:
        box.clear()
        with box:
            for line in answer_lines(answer):
                ui.label(line).classes("text-sm")

    async def refresh(self) -> None:
        for refresh in self.refreshers:
            await refresh()

    async def save(self, section: str, entry: dict[str, Any], fields: dict[str, Any], actor: Principal) -> bool:
        try:
            made = await self.changes.add(section, {k: v for k, v in entry.items() if v not in (None, "")},
                                          actor.name)
        except EntryError as problem:
            self.show_error(problem, fields)
            return False
        for inp in fields.values():
            inp.error = None
        ui.notify(f"{made['id']} saved; it is checked from now on")
        await self.refresh()
        return True


class ReceiverForm:
    """Add a receiver: its address, Test (its kind told from its answer, its position and
    name filled in), then its id and name, Save."""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        with ui.card().classes("w-full"):
            ui.label("Add a receiver").classes("text-lg font-semibold")
            with ui.row().classes("items-start gap-3 w-full"):
                self.url = ui.input("Address (URL)", placeholder="http://receiver.example.org:8073/").classes(
                    "min-w-[min(20rem,100%)] flex-1").props('aria-label="Receiver address"')
                self.kind = ui.select({"": "tell from its answer", **{k: k for k in kind_names("websdrs")}},
                                      value="", label="Kind").classes("w-48")
                ui.button("Test", on_click=self.test).props('outline aria-label="Test the receiver once"')
            self.found = ui.column().classes("gap-0 hl-test-answer")
            with ui.row().classes("items-start gap-3 w-full"):
                self.id = ui.input("Id", placeholder="asti").classes("w-40").props('aria-label="Receiver id"')
                self.name = ui.input("Name", placeholder="Asti").classes("w-56").props('aria-label="Receiver name"')
                self.lat = ui.number("Latitude", format="%.5f").classes("w-36").props('aria-label="Latitude"')
                self.lon = ui.number("Longitude", format="%.5f").classes("w-36").props('aria-label="Longitude"')
                ui.button("Save receiver", on_click=self.save)
        self.fields = {"url": self.url, "kind": self.kind, "id": self.id, "name": self.name, "latitude": self.lat,
                       "longitude": self.lon}

    async def test(self) -> None:
        if await self.bench.allowed() is None:
            return
        self.found.clear()
        with self.found:
            ui.label("Testing…").classes("text-sm opacity-70")
        try:
            answer = await self.bench.changes.trial("websdrs", {"url": (self.url.value or "").strip(),
                                                                "kind": self.kind.value or None})
        except EntryError as problem:
            self.found.clear()
            self.bench.show_error(problem, self.fields)
            return
        self.url.error = None
        self.bench.show_answer(self.found, answer)
        details = answer.get("details") or {}
        if answer.get("detected"):
            self.kind.value = answer["kind"]
        position = details.get("reported_position")
        if position and self.lat.value is None and self.lon.value is None:
            self.lat.value, self.lon.value = position["lat"], position["lon"]
        if details.get("name") and not self.name.value:
            self.name.value = str(details["name"])[:128]

    async def save(self) -> None:
        if (actor := await self.bench.allowed()) is None:
            return
        entry = {"id": (self.id.value or "").strip(), "name": (self.name.value or "").strip(),
                 "url": (self.url.value or "").strip(), "kind": self.kind.value or detection_order("websdrs")[0],
                 "latitude": self.lat.value, "longitude": self.lon.value}
        if await self.bench.save("websdrs", entry, self.fields, actor):
            for inp in (self.id, self.name, self.url):
                inp.value = ""
            self.lat.value = self.lon.value = None
            self.found.clear()


class ServiceForm:
    """Add a service: its kind says which field holds where it is (a URL, host:port)."""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        wheres = where_fields("services")
        with ui.card().classes("w-full"):
            ui.label("Add a service").classes("text-lg font-semibold")
            with ui.row().classes("items-start gap-3 w-full"):
                self.name = ui.input("Name").classes("w-48").props('aria-label="Service name"')
                self.kind = ui.select({k: k for k in kind_names("services")}, value=default_kind("services"),
                                      label="Kind").classes("w-32")
                self.where = ui.input(", or ".join(w.label + (f" ({kinds_using(w)})" if i else "")
                                                   for i, w in enumerate(wheres))).classes(
                    "min-w-[18rem] flex-1").props('aria-label="Service address"')
                # A service that reports itself (kind push): how long it may stay silent.
                self.deadline = ui.number("Deadline, s (push)", min=1, max=86_400).classes("w-40").props(
                    'aria-label="Push deadline in seconds"').bind_visibility_from(
                    self.kind, "value", backward=lambda kind: bool(getattr(KINDS.get(("services", kind)), "reported", False)))
                ui.button("Test", on_click=self.test).props('outline aria-label="Test the service once"')
                ui.button("Save service", on_click=self.save)
            self.found = ui.column().classes("gap-0 hl-test-answer")
        self.fields = {"name": self.name, "kind": self.kind, "deadline_s": self.deadline,
                       **{w.name: self.where for w in wheres}}

    def _where(self) -> dict[str, str]:
        field = KINDS[("services", self.kind.value)].where_field
        return {field: (self.where.value or "").strip()} if field else {}

    async def test(self) -> None:
        if await self.bench.allowed() is None:
            return
        try:
            answer = await self.bench.changes.trial("services", {**self._where(), "kind": self.kind.value})
        except EntryError as problem:
            self.bench.show_error(problem, self.fields)
            return
        self.bench.show_answer(self.found, answer)

    async def save(self) -> None:
        if (actor := await self.bench.allowed()) is None:
            return
        entry = {"name": (self.name.value or "").strip(), "kind": self.kind.value, **self._where()}
        if KINDS[("services", self.kind.value)].reported:
            entry["deadline_s"] = self.deadline.value
        if await self.bench.save("services", entry, self.fields, actor):
            self.name.value = self.where.value = ""
            self.found.clear()


class AlertRuleForm:
    """Add an alert rule: notification URLs, the targets it covers, its threshold."""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        with ui.card().classes("w-full"):
            ui.label("Add an alert rule").classes("text-lg font-semibold")
            with ui.row().classes("items-start gap-3 w-full"):
                self.name = ui.input("Name").classes("w-48").props('aria-label="Alert name"')
                self.urls = ui.textarea("Notify (apprise URLs, one a line)",
                                        placeholder="mailto://user:pass@example.org\njson://hooks.example.org/heimdall"
                                        ).classes("min-w-[min(20rem,100%)] flex-1").props('aria-label="Notification URLs" autogrow')
                self.targets = ui.input("Targets", value="websdrs:*, services:*").classes("w-64").props(
                    'aria-label="Alert targets"')
                self.after = ui.number("Failed checks before DOWN", value=3, min=1, max=100).classes("w-44")
                ui.button("Save alert rule", on_click=self.save)
        self.fields = {"name": self.name, "urls": self.urls, "targets": self.targets, "failure_threshold": self.after}

    async def save(self) -> None:
        if (actor := await self.bench.allowed()) is None:
            return
        entry = {"name": (self.name.value or "").strip(),
                 "urls": [line.strip() for line in (self.urls.value or "").splitlines() if line.strip()],
                 "targets": [part.strip() for part in (self.targets.value or "").split(",") if part.strip()],
                 "failure_threshold": int(self.after.value or 3)}
        if await self.bench.save("alerts", entry, self.fields, actor):
            self.name.value = self.urls.value = ""


def actions_slot(settings: Any) -> str:
    """Edit, pause, remove for an entry made here; for the others, one word for where they
    come from (kept on one line: a phone's column is narrow)."""
    fixed = "the demo's" if settings.demo else (
        "built-in" if settings.config_path == DEFAULT_CONFIG_PATH else "in the file")
    return ACTIONS.replace("FIXED", fixed)


ACTIONS = """<q-td :props="props">
    <template v-if="props.row.source === 'browser'">
    <q-btn flat dense label="Edit" :aria-label="'Edit ' + props.row.id"
           @click="$parent.$emit('edit', props.row.key)" />
    <q-btn flat dense :label="props.row.paused ? 'Resume' : 'Pause'"
           :aria-label="(props.row.paused ? 'Resume ' : 'Pause ') + props.row.id"
           @click="$parent.$emit('pause', props.row.key)" />
    <q-btn flat dense color="negative" label="Remove" :aria-label="'Remove ' + props.row.id"
           @click="$parent.$emit('remove', props.row.key)" /></template>
    <span v-else class="opacity-60 whitespace-nowrap">FIXED</span></q-td>"""


ROWS_A_PAGE = 25
# On a phone the table keeps what tells entries apart and what can be done with them.
WIDE_ONLY = {"classes": "hl-wide", "headerClasses": "hl-wide"}
TABLE_COLUMNS = [{"name": "name", "label": "Name", "field": "name", "align": "left", "sortable": True},
                 {"name": "source", "label": "From", "field": "source", "align": "left", **WIDE_ONLY},
                 {"name": "where", "label": "Where", "field": "where", "align": "left",
                  "classes": "hl-where", "headerClasses": ""},
                 {"name": "state", "label": "State", "field": "state", "align": "left", **WIDE_ONLY},
                 {"name": "actions", "label": "", "field": "actions", "align": "left"}]


def name_of(section: str, entry: dict[str, Any], key: str) -> str:
    """What the operator named it, and its id where that differs (receivers)."""
    name = str(entry.get("name") or key)
    return name if name == key else f"{name} ({key})"


class TargetTables:
    """What there is, section by section: the file's entries and those made here, which
    can be edited, paused, resumed and removed; each table searchable and in pages (a
    thousand receivers are a thousand rows)."""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        self.tables: dict[str, ui.table] = {}
        self.titles: dict[str, ui.label] = {}
        for section, title in SECTIONS:
            with ui.row().classes("w-full items-center gap-3"):
                self.titles[section] = ui.label(title).classes("text-lg font-semibold")
                search = ui.input(placeholder=f"Search {title.lower()}…").props(
                    f'dense outlined clearable type=search aria-label="Search {title.lower()}"').classes("w-64")
            table = ui.table(columns=TABLE_COLUMNS, rows=[], row_key="key",
                             pagination={"rowsPerPage": ROWS_A_PAGE, "sortBy": None}) \
                .props("dense flat wrap-cells").classes("w-full hl-targets-table")
            table.bind_filter_from(search, "value")
            empty_table_slot(table, "None.")
            table.add_slot("body-cell-actions", actions_slot(self.bench.runtime.settings))
            table.on("pause", self.toggle)
            table.on("edit", self.edit)
            table.on("remove", self.remove)
            self.tables[section] = table
        bench.refreshers.append(self.refresh)

    async def refresh(self) -> None:
        listed = await self.bench.changes.listed()
        for section, table in self.tables.items():
            table.rows = [{"key": f"{t['section']}:{t['id']}", "id": t["id"], "source": t["source"],
                           "name": name_of(section, t["entry"], t["id"]),
                           "paused": t["paused"], "where": where_of(section, t["entry"]),
                           "state": "paused" if t["paused"] else "running"}
                          for t in listed if t["section"] == section]
            table.update()
            self.titles[section].set_text(f"{dict(SECTIONS)[section]} ({len(table.rows)})")

    async def toggle(self, event: Any) -> None:
        if (actor := await self.bench.allowed()) is None or not isinstance(event.args, str):
            return
        section, key = event.args.split(":", 1)
        row = next((r for r in self.tables[section].rows if r["key"] == event.args), None)
        if row is None:
            return
        try:
            await self.bench.changes.change(section, key, None, not row["paused"], actor.name)
        except EntryError as problem:
            ui.notify(str(problem), type="negative")
            return
        await self.bench.refresh()

    async def remove(self, event: Any) -> None:
        if (actor := await self.bench.allowed()) is None or not isinstance(event.args, str):
            return
        section, key = event.args.split(":", 1)
        try:
            await self.bench.changes.remove(section, key, actor.name)
        except EntryError as problem:
            ui.notify(str(problem), type="negative")
            return
        ui.notify(f"{key} removed")
        await self.bench.refresh()

    async def edit(self, event: Any) -> None:
        if await self.bench.allowed() is None or not isinstance(event.args, str):
            return
        section, key = event.args.split(":", 1)
        kept = next((t for t in await self.bench.changes.listed() if (t["section"], t["id"]) == (section, key)), None)
        if kept is not None and kept["source"] == "browser":
            EditDialog(self.bench, section, key, kept["entry"]).open()


class EditDialog:
    """An entry's fields (the name or id stays), filled as listed: secrets redacted, and
    kept on save unless retyped (backend/reconfigure/target_changes.py `restored`)."""

    def __init__(self, bench: Workbench, section: str, key: str, entry: dict[str, Any]) -> None:
        self.bench, self.section, self.key, self.entry = bench, section, key, entry
        self.inputs: dict[str, Any] = {}
        with ui.dialog() as self.dialog, ui.card().classes("min-w-[min(32rem,94vw)]"):
            ui.label(f"Edit {key}").classes("text-lg font-semibold")
            for name, value in entry.items():
                if name != KEY_FIELD[section]:
                    self.inputs[name] = self._input(name, value)
            with ui.row():
                ui.button("Save changes", on_click=self.save)
                ui.button("Cancel", on_click=self.dialog.close).props("flat")

    @staticmethod
    def _input(name: str, value: Any) -> Any:
        if isinstance(value, bool):
            return ui.checkbox(name, value=value)
        if isinstance(value, (int, float)):
            return ui.number(name, value=value).classes("w-full")
        if isinstance(value, list):
            return ui.textarea(f"{name} (one a line)", value="\n".join(
                json.dumps(v) if not isinstance(v, str) else v for v in value)).classes("w-full")
        return ui.input(name, value=str(value)).classes("w-full")

    def open(self) -> None:
        self.dialog.open()

    async def save(self) -> None:
        if (actor := await self.bench.allowed()) is None:
            return
        new: dict[str, Any] = {}
        for name, inp in self.inputs.items():
            old = self.entry[name]
            if isinstance(old, list):
                lines = [line.strip() for line in (inp.value or "").splitlines() if line.strip()]
                new[name] = [line if all(isinstance(v, str) for v in old) else json.loads(line) for line in lines]
            else:
                new[name] = inp.value
        try:
            await self.bench.changes.change(self.section, self.key, new, None, actor.name)
        except (EntryError, ValueError) as problem:
            self.bench.show_error(problem if isinstance(problem, EntryError) else EntryError(str(problem)), self.inputs)
            return
        ui.notify(f"{self.key} changed")
        self.dialog.close()
        await self.bench.refresh()


def file_words(settings: Any) -> str:
    """Where the entries not made here come from, as this gateway runs."""
    if settings.demo:
        return "of the demo's simulated network (python main.py --demo: no file is read)"
    if settings.config_path == DEFAULT_CONFIG_PATH:
        return f"of the built-in configuration ({settings.config_path}; run with --config FILE for your own)"
    return f"of the configuration file ({settings.config_path})"


async def render(state: LiveState, principal: Principal) -> None:
    """The page: its parts, in order."""
    header("/targets", principal, state.figures)
    bench = Workbench(state)
    with ui.column().classes("w-full p-4 gap-4"):
        ui.html('<h2 class="text-2xl font-semibold">Targets</h2>', sanitize=False)
        ui.label(f"Entries {file_words(state.runtime.settings)} are changed there; the ones made here are kept in "
                 "the database, take effect at once and survive a restart.").classes("opacity-80")
        ReceiverForm(bench)
        ServiceForm(bench)
        AlertRuleForm(bench)
        TargetTables(bench)
    await bench.refresh()

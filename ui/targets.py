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
    if details.get("software"):
        lines.append(f"software: {details['software']}")
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


async def render(state: LiveState, principal: Principal) -> None:
    runtime = state.runtime
    changes = TargetChanges(runtime)
    client = ui.context.client
    header("/targets", principal, state.figures)

    async def allowed() -> Principal | None:
        return await page_access.authorised(runtime.auth, client, "operator")

    def show_error(problem: EntryError, fields: dict[str, Any]) -> None:
        for inp in fields.values():
            inp.error = None
        target = fields.get(problem.field or "")
        if target is not None:
            target.error = str(problem)
        else:
            ui.notify(str(problem), type="negative", multi_line=True)

    with ui.column().classes("w-full p-4 gap-4"):
        ui.html('<h2 class="text-2xl font-semibold">Targets</h2>', sanitize=False)
        ui.label(f"Entries of the configuration file ({runtime.settings.config_path}) are changed there; the ones "
                 "made here are kept in the database, take effect at once and survive a restart.").classes(
            "opacity-80")

        # -- a receiver ---------------------------------------------------------------------
        with ui.card().classes("w-full"):
            ui.label("Add a receiver").classes("text-lg font-semibold")
            with ui.row().classes("items-start gap-3 w-full"):
                rx_url = ui.input("Address (URL)", placeholder="http://receiver.example.org:8073/").classes(
                    "min-w-[20rem] flex-1").props('aria-label="Receiver address"')
                rx_kind = ui.select({"": "tell from its answer", **{k: k for k in kind_names("websdrs")}}, value="",
                                    label="Kind").classes("w-48")
                rx_test = ui.button("Test").props('outline aria-label="Test the receiver once"')
            rx_found = ui.column().classes("gap-0 hl-test-answer")
            with ui.row().classes("items-start gap-3 w-full"):
                rx_id = ui.input("Id", placeholder="asti").classes("w-40").props('aria-label="Receiver id"')
                rx_name = ui.input("Name", placeholder="Asti").classes("w-56").props('aria-label="Receiver name"')
                rx_lat = ui.number("Latitude", format="%.5f").classes("w-36").props('aria-label="Latitude"')
                rx_lon = ui.number("Longitude", format="%.5f").classes("w-36").props('aria-label="Longitude"')
                rx_save = ui.button("Save receiver")
        rx_fields = {"url": rx_url, "kind": rx_kind, "id": rx_id, "name": rx_name, "latitude": rx_lat,
                     "longitude": rx_lon}

        # -- a service ----------------------------------------------------------------------
        with ui.card().classes("w-full"):
            ui.label("Add a service").classes("text-lg font-semibold")
            with ui.row().classes("items-start gap-3 w-full"):
                sv_name = ui.input("Name").classes("w-48").props('aria-label="Service name"')
                sv_kind = ui.select({k: k for k in kind_names("services")}, value=default_kind("services"), label="Kind").classes("w-32")
                sv_where = ui.input(", or ".join(f"{w.label}" + (f" ({kinds_using(w)})" if i else "")
                                               for i, w in enumerate(where_fields("services")))).classes("min-w-[18rem] flex-1").props(
                    'aria-label="Service address"')
                sv_test = ui.button("Test").props('outline aria-label="Test the service once"')
                sv_save = ui.button("Save service")
            sv_found = ui.column().classes("gap-0 hl-test-answer")
        sv_fields = {"name": sv_name, "kind": sv_kind, **{w.name: sv_where for w in where_fields("services")}}

        # -- an alert rule -------------------------------------------------------------------
        with ui.card().classes("w-full"):
            ui.label("Add an alert rule").classes("text-lg font-semibold")
            with ui.row().classes("items-start gap-3 w-full"):
                al_name = ui.input("Name").classes("w-48").props('aria-label="Alert name"')
                al_urls = ui.textarea("Notify (apprise URLs, one a line)",
                                      placeholder="mailto://user:pass@example.org\njson://hooks.example.org/heimdall"
                                      ).classes("min-w-[20rem] flex-1").props('aria-label="Notification URLs" autogrow')
                al_targets = ui.input("Targets", value="websdrs:*, services:*").classes("w-64").props(
                    'aria-label="Alert targets"')
                al_after = ui.number("Failed checks before DOWN", value=3, min=1, max=100).classes("w-44")
                al_save = ui.button("Save alert rule")
        al_fields = {"name": al_name, "urls": al_urls, "targets": al_targets, "failure_threshold": al_after}

        # -- what there is ---------------------------------------------------------------------
        tables: dict[str, ui.table] = {}
        for section, title in SECTIONS:
            ui.label(title).classes("text-lg font-semibold")
            table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in (
                ("id", "Name"), ("source", "From"), ("where", "Where"), ("state", "State"), ("actions", ""))],
                rows=[], row_key="key").props("dense flat wrap-cells").classes("w-full")
            empty_table_slot(table, "None.")
            table.add_slot("body-cell-actions", """<q-td :props="props">
                <template v-if="props.row.source === 'browser'">
                <q-btn flat dense label="Edit" :aria-label="'Edit ' + props.row.id"
                       @click="$parent.$emit('edit', props.row.key)" />
                <q-btn flat dense :label="props.row.paused ? 'Resume' : 'Pause'"
                       :aria-label="(props.row.paused ? 'Resume ' : 'Pause ') + props.row.id"
                       @click="$parent.$emit('pause', props.row.key)" />
                <q-btn flat dense color="negative" label="Remove" :aria-label="'Remove ' + props.row.id"
                       @click="$parent.$emit('remove', props.row.key)" /></template>
                <span v-else class="opacity-60">in the file</span></q-td>""")
            tables[section] = table

    async def edit(event: Any) -> None:
        """A dialog with the entry's fields (the name or id stays), saved as a change."""
        if await allowed() is None or not isinstance(event.args, str):
            return
        section, key = event.args.split(":", 1)
        kept = next((t for t in await changes.listed() if (t["section"], t["id"]) == (section, key)), None)
        if kept is None or kept["source"] != "browser":
            return
        entry = kept["entry"]  # as listed: secrets redacted; left as they are, they are kept on save
        inputs: dict[str, Any] = {}
        with ui.dialog() as dialog, ui.card().classes("min-w-[min(32rem,94vw)]"):
            ui.label(f"Edit {key}").classes("text-lg font-semibold")
            for name, value in entry.items():
                if name == KEY_FIELD[section]:
                    continue
                if isinstance(value, bool):
                    inputs[name] = ui.checkbox(name, value=value)
                elif isinstance(value, (int, float)):
                    inputs[name] = ui.number(name, value=value).classes("w-full")
                elif isinstance(value, list):
                    inputs[name] = ui.textarea(f"{name} (one a line)", value="\n".join(
                        json.dumps(v) if not isinstance(v, str) else v for v in value)).classes("w-full")
                else:
                    inputs[name] = ui.input(name, value=str(value)).classes("w-full")
            with ui.row():
                save_button = ui.button("Save changes")
                ui.button("Cancel", on_click=dialog.close).props("flat")

        async def save_changes() -> None:
            if (actor := await allowed()) is None:
                return
            new: dict[str, Any] = {}
            for name, inp in inputs.items():
                old = entry[name]
                if isinstance(old, list):
                    lines = [line.strip() for line in (inp.value or "").splitlines() if line.strip()]
                    new[name] = [line if all(isinstance(v, str) for v in old) else json.loads(line) for line in lines]
                else:
                    new[name] = inp.value
            try:
                await changes.change(section, key, new, None, actor.name)
            except (EntryError, ValueError) as problem:
                show_error(problem if isinstance(problem, EntryError) else EntryError(str(problem)), inputs)
                return
            ui.notify(f"{key} changed")
            dialog.close()
            await refresh()

        save_button.on_click(save_changes)
        dialog.open()

    async def refresh() -> None:
        listed = await changes.listed()
        for section, table in tables.items():
            table.rows = [{"key": f"{t['section']}:{t['id']}", "id": t["id"], "source": t["source"],
                           "paused": t["paused"], "where": where_of(section, t["entry"]),
                           "state": "paused" if t["paused"] else "running"}
                          for t in listed if t["section"] == section]
            table.update()

    def show_answer(box: ui.column, answer: dict[str, Any]) -> None:
        box.clear()
        with box:
            for line in answer_lines(answer):
                ui.label(line).classes("text-sm")

    async def test_receiver() -> None:
        if await allowed() is None:
            return
        rx_found.clear()
        with rx_found:
            ui.label("Testing…").classes("text-sm opacity-70")
        try:
            answer = await changes.trial("websdrs", {"url": (rx_url.value or "").strip(), "kind": rx_kind.value or None})
        except EntryError as problem:
            rx_found.clear()
            show_error(problem, rx_fields)
            return
        rx_url.error = None
        show_answer(rx_found, answer)
        details = answer.get("details") or {}
        if answer.get("detected"):
            rx_kind.value = answer["kind"]
        position = details.get("reported_position")
        if position and rx_lat.value is None and rx_lon.value is None:
            rx_lat.value, rx_lon.value = position["lat"], position["lon"]
        if details.get("name") and not rx_name.value:
            rx_name.value = str(details["name"])[:128]

    async def save_receiver() -> None:
        if (actor := await allowed()) is None:
            return
        entry = {"id": (rx_id.value or "").strip(), "name": (rx_name.value or "").strip(),
                 "url": (rx_url.value or "").strip(), "kind": rx_kind.value or detection_order("websdrs")[0],
                 "latitude": rx_lat.value, "longitude": rx_lon.value}
        if await save("websdrs", entry, rx_fields, actor):
            for inp in (rx_id, rx_name, rx_url):
                inp.value = ""
            rx_lat.value = rx_lon.value = None
            rx_found.clear()

    async def test_service() -> None:
        if await allowed() is None:
            return
        where = KINDS[("services", sv_kind.value)].where_field  # the kind says which field holds where it is
        try:
            answer = await changes.trial("services", {where: (sv_where.value or "").strip(), "kind": sv_kind.value})
        except EntryError as problem:
            show_error(problem, sv_fields)
            return
        show_answer(sv_found, answer)

    async def save_service() -> None:
        if (actor := await allowed()) is None:
            return
        where = KINDS[("services", sv_kind.value)].where_field  # the kind says which field holds where it is
        entry = {"name": (sv_name.value or "").strip(), "kind": sv_kind.value, where: (sv_where.value or "").strip()}
        if await save("services", entry, sv_fields, actor):
            sv_name.value = sv_where.value = ""
            sv_found.clear()

    async def save_alert() -> None:
        if (actor := await allowed()) is None:
            return
        entry = {"name": (al_name.value or "").strip(),
                 "urls": [line.strip() for line in (al_urls.value or "").splitlines() if line.strip()],
                 "targets": [part.strip() for part in (al_targets.value or "").split(",") if part.strip()],
                 "failure_threshold": int(al_after.value or 3)}
        if await save("alerts", entry, al_fields, actor):
            al_name.value = al_urls.value = ""

    async def save(section: str, entry: dict[str, Any], fields: dict[str, Any], actor: Principal) -> bool:
        try:
            made = await changes.add(section, {k: v for k, v in entry.items() if v not in (None, "")}, actor.name)
        except EntryError as problem:
            show_error(problem, fields)
            return False
        for inp in fields.values():
            inp.error = None
        ui.notify(f"{made['id']} saved; it is checked from now on")
        await refresh()
        return True

    async def toggle(event: Any) -> None:
        if (actor := await allowed()) is None or not isinstance(event.args, str):
            return
        section, key = event.args.split(":", 1)
        row = next((r for r in tables[section].rows if r["key"] == event.args), None)
        if row is None:
            return
        try:
            await changes.change(section, key, None, not row["paused"], actor.name)
        except EntryError as problem:
            ui.notify(str(problem), type="negative")
            return
        await refresh()

    async def remove(event: Any) -> None:
        if (actor := await allowed()) is None or not isinstance(event.args, str):
            return
        section, key = event.args.split(":", 1)
        try:
            await changes.remove(section, key, actor.name)
        except EntryError as problem:
            ui.notify(str(problem), type="negative")
            return
        ui.notify(f"{key} removed")
        await refresh()

    rx_test.on_click(test_receiver)
    rx_save.on_click(save_receiver)
    sv_test.on_click(test_service)
    sv_save.on_click(save_service)
    al_save.on_click(save_alert)
    for table in tables.values():
        table.on("pause", toggle)
        table.on("edit", edit)
        table.on("remove", remove)
    await refresh()

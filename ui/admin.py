"""Admin (`/admin`, admins only; the guard refuses everyone else): API tokens (create,
shown once; revoke), the accounts, and the audit log."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from backend.auth.principal import Principal
from backend.auth.store import SCOPES, AuthError, parse_scopes
from backend.statuspage.announcements import TYPES
from backend.timefmt import iso_from_ms
from ui import page_access
from ui.frame import empty_table_slot, header
from ui.state import LiveState

TIME_CELL = """<q-td :props="props"><time v-if="props.value" :datetime="props.value">{{ props.value }}</time>
<span v-else>never</span></q-td>"""


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]], key: str, empty: str) -> ui.table:
    table = ui.table(columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in columns],
                     rows=rows, row_key=key).props("dense flat wrap-cells").classes("w-full")
    empty_table_slot(table, empty)
    return table


def when(ms: int | None) -> str | None:
    return iso_from_ms(ms) if ms else None


class Desk:
    """What the parts share: the store, the page's rights asked again at each action (an
    admin demoted meanwhile loses the page), the audit line of each action, and the
    refresh of what an action changes (tokens, the audit log)."""

    def __init__(self, state: LiveState, address: str) -> None:
        self.runtime = state.runtime
        self.auth = state.runtime.auth
        self.store = self.auth.store
        self.client = ui.context.client
        self.address = address
        self.refreshers: list[Any] = []

    async def admin_now(self) -> Principal | None:
        return await page_access.authorised(self.auth, self.client, "admin")

    async def audit(self, action: str, actor: str, subject: str, detail: str | None = None) -> None:
        await self.auth.store_call(self.store.audit, action, actor, subject, self.address, detail)

    async def refresh(self) -> None:
        for refresh in self.refreshers:
            await refresh()


class Tokens:
    """API tokens: create one (shown once), revoke."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def build(self) -> None:
        ui.html('<h2 class="text-2xl font-semibold">API tokens</h2>', sanitize=False)
        with ui.row().classes("items-end gap-4"):
            self.name = ui.input("Name").props('aria-label="Token name"')
            self.boxes = {scope: ui.checkbox(scope, value=scope == "read") for scope in SCOPES}
            self.site = ui.input("Site (agent tokens)").props('aria-label="Site of an agent token"') \
                .bind_visibility_from(self.boxes["agent"], "value")
            ui.button("Create token", on_click=self.create)
        self.shown = ui.column().classes("gap-1")
        self.table = _table([("name", "Name"), ("scopes", "Scopes"), ("created", "Created"),
                             ("last_used", "Last used"), ("revoke", "")], await self.rows(), "name",
                            "No API tokens yet.")
        self.table.add_slot("body-cell-created", TIME_CELL.replace("never", "—"))
        self.table.add_slot("body-cell-last_used", TIME_CELL)
        self.table.add_slot("body-cell-revoke", """<q-td :props="props">
            <q-btn flat dense color="negative" label="Revoke" :aria-label="'Revoke ' + props.row.name"
                   @click="$parent.$emit('revoke', props.row.name)" /></q-td>""")
        self.table.on("revoke", self.revoke)
        self.desk.refreshers.append(self.refresh)

    async def rows(self) -> list[dict[str, Any]]:
        return [{**t, "scopes": ", ".join(t["scopes"]) + (f" (site {t['site']})" if t["site"] else ""),
                 "created": when(t["created_ms"]), "last_used": when(t["last_used_ms"])}
                for t in await self.desk.auth.store_call(self.desk.store.tokens)]

    async def refresh(self) -> None:
        self.table.rows = await self.rows()
        self.table.update()

    async def create(self) -> None:
        desk = self.desk
        if (actor := await desk.admin_now()) is None:
            return
        chosen = ",".join(scope for scope, box in self.boxes.items() if box.value)
        new_name = (self.name.value or "").strip()
        try:
            scopes = parse_scopes(chosen)
            token = await desk.auth.store_call(desk.store.create_token, new_name, scopes,
                                               (self.site.value or "").strip() or None)
        except AuthError as problem:
            ui.notify(str(problem), type="negative")
            return
        await desk.audit("token created", actor.name, new_name, ",".join(sorted(scopes)))
        self.shown.clear()
        with self.shown:
            ui.label(f"Token {new_name}: copy it now, it is not shown again.").classes("font-semibold")
            ui.code(token).classes("w-full")
        self.name.value = ""
        await desk.refresh()

    async def revoke(self, event: Any) -> None:
        desk = self.desk
        if (actor := await desk.admin_now()) is None or not isinstance(event.args, str):
            return
        try:
            await desk.auth.store_call(desk.store.revoke_token, event.args)
        except AuthError as problem:
            ui.notify(str(problem), type="negative")
            return
        desk.auth.forget_all()
        await desk.audit("token revoked", actor.name, event.args)
        ui.notify(f"Revoked {event.args}")
        await desk.refresh()


class Alerts:
    """Silence a target for a while; send a test through an alert or a watch."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        config = desk.runtime.settings.config
        ui.html('<h2 class="text-2xl font-semibold">Alerts</h2>', sanitize=False)
        self.targets = {f"services:{s.name}": f"service {s.name}" for s in config.services}
        self.targets |= {f"websdrs:{w.id}": f"receiver {w.name}" for w in config.websdrs}
        with ui.row().classes("items-end gap-4"):
            self.chosen = ui.select(self.targets, label="Silence a target").classes("min-w-[16rem]")
            self.minutes = ui.number("for minutes", value=60, min=1, max=10_080).classes("w-32")
            ui.button("Silence", on_click=self.silence)
        with ui.row().classes("items-center gap-2"):
            channels = [a.name for a in [*config.alerts, *config.readiness_alerts, *config.watches]]
            for channel in channels:
                ui.button(f"Send a test through {channel}", on_click=lambda channel=channel: self.send_test(channel)
                          ).props("outline")
            if not channels:
                ui.label("No alerts or watches are configured.").classes("hl-empty")

    async def send_test(self, channel: str) -> None:
        if (actor := await self.desk.admin_now()) is None:
            return
        waiting = ui.notification(f"Sending a test through {channel}…", spinner=True, timeout=None)
        try:
            attempts = await self.desk.runtime.alerts.send_test(channel)
        finally:
            waiting.dismiss()
        await self.desk.audit("test notification sent", actor.name, channel)
        if attempts is None:
            ui.notify(f"No alert or watch named {channel} any more", type="warning")
        elif all(a.delivered for a in attempts):
            ui.notify(f"Test delivered through {channel} ({len(attempts)} of {len(attempts)} URLs took it)",
                      type="positive")
        else:
            failed = "; ".join(f"{a.url}: {a.reason}" for a in attempts if not a.delivered)
            ui.notify(f"Test through {channel} FAILED at {failed}", type="negative", timeout=0, close_button=True,
                      multi_line=True)
        await self.desk.refresh()

    async def silence(self) -> None:
        if (actor := await self.desk.admin_now()) is None:
            return
        if not self.chosen.value:
            ui.notify("Choose a target first", type="warning")
            return
        kind, key = self.chosen.value.split(":", 1)
        span = max(1.0, min(float(self.minutes.value or 60), 10_080.0))
        await self.desk.runtime.alerts.silence(kind, key, span, actor.name)
        await self.desk.audit("target silenced", actor.name, self.chosen.value, f"{span:g} min")
        ui.notify(f"{self.targets[self.chosen.value]} silenced for {span:g} min")
        await self.desk.refresh()


class Announcements:
    """Announcements on the public status pages: make one, archive one."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.pages = {p.slug: p.title for p in desk.runtime.settings.config.status_pages}
        self.book = desk.runtime.status_pages.announcements

    async def build(self) -> None:
        ui.html('<h2 class="text-2xl font-semibold">Announcements on the status pages</h2>', sanitize=False)
        if not self.pages:
            ui.label("No status pages are configured ([[status_pages]]).").classes("hl-empty")
            return
        with ui.row().classes("items-end gap-4 w-full"):
            self.kind = ui.select({t: t.capitalize() for t in TYPES}, value="information", label="Type").classes("w-40")
            self.title = ui.input("Title").props('aria-label="Announcement title" maxlength=200').classes("min-w-[16rem]")
            self.text = ui.textarea("Text").props('aria-label="Announcement text" maxlength=5000 autogrow') \
                .classes("min-w-[20rem] flex-1")
            self.shown_on = ui.select(self.pages, multiple=True, value=list(self.pages)[:1], label="On pages") \
                .classes("min-w-[12rem]")
            ui.button("Announce", on_click=self.announce)
        self.table = _table([("updated", "Updated"), ("type", "Type"), ("title", "Title"), ("pages", "Pages"),
                             ("archive", "")], await self.rows(), "id", "No current announcements.")
        self.table.add_slot("body-cell-updated", TIME_CELL)
        self.table.add_slot("body-cell-archive", """<q-td :props="props">
            <q-btn flat dense label="Archive" :aria-label="'Archive ' + props.row.title"
                   @click="$parent.$emit('archive', props.row.id)" /></q-td>""")
        self.table.on("archive", self.archive)

    async def rows(self) -> list[dict[str, Any]]:
        found = await self.desk.runtime.database.run(self.book.listed, False)
        return [{**a, "updated": when(a["updated_ms"]), "pages": ", ".join(a["pages"])} for a in found]

    async def _changed(self) -> None:
        self.desk.runtime.status_pages.forget()  # the pages show it at once
        self.table.rows = await self.rows()
        self.table.update()
        await self.desk.refresh()  # the audit log shows it

    async def announce(self) -> None:
        if (actor := await self.desk.admin_now()) is None:
            return
        if not (self.title.value or "").strip() or not self.shown_on.value:
            ui.notify("An announcement needs a title and at least one page", type="warning")
            return
        made = await self.desk.runtime.database.run(
            self.book.add, self.kind.value, self.title.value.strip()[:200], (self.text.value or "")[:5000],
            [slug for slug in self.shown_on.value if slug in self.pages], actor.name)
        await self.desk.audit("announcement made", actor.name, f"#{made['id']}", made["title"][:100])
        self.title.value, self.text.value = "", ""
        ui.notify("Announced")
        await self._changed()

    async def archive(self, event: Any) -> None:
        if (actor := await self.desk.admin_now()) is None or not isinstance(event.args, int):
            return
        await self.desk.runtime.database.run(self.book.archive, event.args)
        await self.desk.audit("announcement archived", actor.name, f"#{event.args}")
        await self._changed()


async def accounts(desk: Desk) -> None:
    ui.html('<h2 class="text-2xl font-semibold">Accounts</h2>', sanitize=False)
    ui.label("Accounts are managed with python main.py user add|passwd|remove|list.").classes("opacity-80")
    _table([("name", "Name"), ("role", "Role"), ("created", "Since")],
           [{**a, "created": when(a["created_ms"])} for a in await desk.auth.store_call(desk.store.accounts)],
           "name", "No accounts.").add_slot("body-cell-created", TIME_CELL)


class AuditLog:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def build(self) -> None:
        ui.html('<h2 class="text-2xl font-semibold">Audit log</h2>', sanitize=False)
        self.table = _table([("at", "When"), ("action", "What"), ("actor", "Who"), ("subject", "Account or token"),
                             ("address", "From"), ("detail", "Detail")], await self.rows(), "key", "Nothing yet.")
        self.table.add_slot("body-cell-at", TIME_CELL)
        self.desk.refreshers.append(self.refresh)

    async def rows(self) -> list[dict[str, Any]]:
        return [{**a, "at": when(a["ts_ms"]), "key": i}
                for i, a in enumerate(await self.desk.auth.store_call(self.desk.store.audit_log))]

    async def refresh(self) -> None:
        self.table.rows = await self.rows()
        self.table.update()


async def render(state: LiveState, principal: Principal, address: str) -> None:
    """The page: its parts, in order."""
    header("/admin", principal, state.figures)
    desk = Desk(state, address)
    with ui.column().classes("w-full p-4 gap-4"):
        await Tokens(desk).build()
        Alerts(desk)
        await Announcements(desk).build()
        await accounts(desk)
        await AuditLog(desk).build()

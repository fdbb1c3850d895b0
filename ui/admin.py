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


async def render(state: LiveState, principal: Principal, address: str) -> None:
    auth = state.runtime.auth
    store = auth.store
    client = ui.context.client
    header("/admin", principal, state.figures)

    async def admin_now() -> Principal | None:
        """The page's principal as the store has it now, if still an admin (else the page goes)."""
        return await page_access.authorised(auth, client, "admin")

    def when(ms: int | None) -> str | None:
        return iso_from_ms(ms) if ms else None

    async def token_rows() -> list[dict[str, Any]]:
        return [{**t, "scopes": ", ".join(t["scopes"]) + (f" (site {t['site']})" if t["site"] else ""),
                 "created": when(t["created_ms"]),
                 "last_used": when(t["last_used_ms"])} for t in await auth.store_call(store.tokens)]

    async def announcement_rows() -> list[dict[str, Any]]:
        found = await state.runtime.database.run(state.runtime.status_pages.announcements.listed, False)
        return [{**a, "updated": when(a["updated_ms"]), "pages": ", ".join(a["pages"])} for a in found]

    async def make_announcement() -> None:
        if (actor := await admin_now()) is None:
            return
        if not (title.value or "").strip() or not shown_on.value:
            ui.notify("An announcement needs a title and at least one page", type="warning")
            return
        made = await state.runtime.database.run(
            state.runtime.status_pages.announcements.add, kind.value, title.value.strip()[:200],
            (text.value or "")[:5000], [slug for slug in shown_on.value if slug in pages], actor.name)
        state.runtime.status_pages.forget()
        await auth.store_call(store.audit, "announcement made", actor.name, f"#{made['id']}", address,
                              made["title"][:100])
        title.value, text.value = "", ""
        ui.notify("Announced")
        announced.rows = await announcement_rows()
        announced.update()

    async def archive(event: Any) -> None:
        if (actor := await admin_now()) is None or not isinstance(event.args, int):
            return
        await state.runtime.database.run(state.runtime.status_pages.announcements.archive, event.args)
        state.runtime.status_pages.forget()
        await auth.store_call(store.audit, "announcement archived", actor.name, f"#{event.args}", address)
        announced.rows = await announcement_rows()
        announced.update()

    async def audit_rows() -> list[dict[str, Any]]:
        return [{**a, "at": when(a["ts_ms"]), "key": i} for i, a in enumerate(await auth.store_call(store.audit_log))]

    with ui.column().classes("w-full p-4 gap-4"):
        ui.html('<h2 class="text-2xl font-semibold">API tokens</h2>', sanitize=False)
        with ui.row().classes("items-end gap-4"):
            token_name = ui.input("Name").props('aria-label="Token name"')
            boxes = {scope: ui.checkbox(scope, value=scope == "read") for scope in SCOPES}
            site = ui.input("Site (agent tokens)").props('aria-label="Site of an agent token"') \
                .bind_visibility_from(boxes["agent"], "value")
            create = ui.button("Create token")
        shown = ui.column().classes("gap-1")
        tokens = _table([("name", "Name"), ("scopes", "Scopes"), ("created", "Created"), ("last_used", "Last used"),
                         ("revoke", "")], await token_rows(), "name", "No API tokens yet.")
        tokens.add_slot("body-cell-created", TIME_CELL.replace("never", "—"))
        tokens.add_slot("body-cell-last_used", TIME_CELL)
        tokens.add_slot("body-cell-revoke", """<q-td :props="props">
            <q-btn flat dense color="negative" label="Revoke" :aria-label="'Revoke ' + props.row.name"
                   @click="$parent.$emit('revoke', props.row.name)" /></q-td>""")

        ui.html('<h2 class="text-2xl font-semibold">Alerts</h2>', sanitize=False)
        engine = state.runtime.alerts
        config = state.runtime.settings.config
        targets = {f"services:{s.name}": f"service {s.name}" for s in config.services}
        targets |= {f"websdrs:{w.id}": f"receiver {w.name}" for w in config.websdrs}
        with ui.row().classes("items-end gap-4"):
            silenced = ui.select(targets, label="Silence a target").classes("min-w-[16rem]")
            minutes = ui.number("for minutes", value=60, min=1, max=10_080).classes("w-32")
            silence = ui.button("Silence")
        with ui.row().classes("items-center gap-2"):
            for channel in [a.name for a in [*config.alerts, *config.readiness_alerts, *config.watches]]:
                ui.button(f"Send a test through {channel}", on_click=lambda channel=channel: send_test(channel)
                          ).props("outline")
            if not config.alerts and not config.readiness_alerts and not config.watches:
                ui.label("No alerts or watches are configured.").classes("hl-empty")

        ui.html('<h2 class="text-2xl font-semibold">Announcements on the status pages</h2>', sanitize=False)
        pages = {p.slug: p.title for p in config.status_pages}
        if pages:
            with ui.row().classes("items-end gap-4 w-full"):
                kind = ui.select({t: t.capitalize() for t in TYPES}, value="information", label="Type").classes("w-40")
                title = ui.input("Title").props('aria-label="Announcement title" maxlength=200').classes("min-w-[16rem]")
                text = ui.textarea("Text").props('aria-label="Announcement text" maxlength=5000 autogrow') \
                    .classes("min-w-[20rem] flex-1")
                shown_on = ui.select(pages, multiple=True, value=list(pages)[:1], label="On pages").classes("min-w-[12rem]")
                announce = ui.button("Announce")
            announced = _table([("updated", "Updated"), ("type", "Type"), ("title", "Title"), ("pages", "Pages"),
                                ("archive", "")], await announcement_rows(), "id", "No current announcements.")
            announced.add_slot("body-cell-updated", TIME_CELL)
            announced.add_slot("body-cell-archive", """<q-td :props="props">
                <q-btn flat dense label="Archive" :aria-label="'Archive ' + props.row.title"
                       @click="$parent.$emit('archive', props.row.id)" /></q-td>""")
        else:
            ui.label("No status pages are configured ([[status_pages]]).").classes("hl-empty")

        ui.html('<h2 class="text-2xl font-semibold">Accounts</h2>', sanitize=False)
        ui.label("Accounts are managed with python main.py user add|passwd|remove|list.").classes("opacity-80")
        _table([("name", "Name"), ("role", "Role"), ("created", "Since")],
               [{**a, "created": when(a["created_ms"])} for a in await auth.store_call(store.accounts)],
               "name", "No accounts.").add_slot("body-cell-created", TIME_CELL)

        ui.html('<h2 class="text-2xl font-semibold">Audit log</h2>', sanitize=False)
        audit = _table([("at", "When"), ("action", "What"), ("actor", "Who"), ("subject", "Account or token"),
                        ("address", "From"), ("detail", "Detail")], await audit_rows(), "key", "Nothing yet.")
        audit.add_slot("body-cell-at", TIME_CELL)

    async def refresh() -> None:
        tokens.rows = await token_rows()
        tokens.update()
        audit.rows = await audit_rows()
        audit.update()

    async def create_token() -> None:
        if (actor := await admin_now()) is None:
            return
        chosen = ",".join(scope for scope, box in boxes.items() if box.value)
        new_name = (token_name.value or "").strip()
        try:
            scopes = parse_scopes(chosen)
            token = await auth.store_call(store.create_token, new_name, scopes, (site.value or "").strip() or None)
        except AuthError as problem:
            ui.notify(str(problem), type="negative")
            return
        await auth.store_call(store.audit, "token created", actor.name, new_name, address, ",".join(sorted(scopes)))
        shown.clear()
        with shown:
            ui.label(f"Token {new_name}: copy it now, it is not shown again.").classes("font-semibold")
            ui.code(token).classes("w-full")
        token_name.value = ""
        await refresh()

    async def revoke(event: Any) -> None:
        if (actor := await admin_now()) is None:
            return
        revoked = event.args
        if not isinstance(revoked, str):
            return
        try:
            await auth.store_call(store.revoke_token, revoked)
        except AuthError as problem:
            ui.notify(str(problem), type="negative")
            return
        auth.forget_all()
        await auth.store_call(store.audit, "token revoked", actor.name, revoked, address)
        ui.notify(f"Revoked {revoked}")
        await refresh()

    async def send_test(channel: str) -> None:
        if (actor := await admin_now()) is None:
            return
        engine.send_test(channel)
        await auth.store_call(store.audit, "test notification sent", actor.name, channel, address)
        ui.notify(f"Test sent through {channel}")
        await refresh()

    async def silence_target() -> None:
        if (actor := await admin_now()) is None:
            return
        if not silenced.value:
            ui.notify("Choose a target first", type="warning")
            return
        kind, key = silenced.value.split(":", 1)
        span = max(1.0, min(float(minutes.value or 60), 10_080.0))
        await engine.silence(kind, key, span, actor.name)
        await auth.store_call(store.audit, "target silenced", actor.name, silenced.value, address, f"{span:g} min")
        ui.notify(f"{targets[silenced.value]} silenced for {span:g} min")
        await refresh()

    if pages:
        announce.on_click(make_announcement)
        announced.on("archive", archive)
    silence.on_click(silence_target)
    create.on_click(create_token)
    tokens.on("revoke", revoke)

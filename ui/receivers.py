"""Receivers (`/websdrs`): everything each probe tells, response time over 24 h, state changes."""

from __future__ import annotations

import time
from typing import Any

from nicegui import ui

from backend.config.schema import WebSDRTarget
from backend.kinds import RECEIVERS, kind_of
from backend.timefmt import parse_iso_ms
from ui import format as fmt
from ui import page_access
from ui.frame import header, time_tag
from ui.state import LiveState

DAY_MS = 86_400_000


def detail_lines(websdr: WebSDRTarget, entry: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) pairs of what is known about a receiver, in reading order."""
    d = entry.get("details") or {}
    kind = kind_of(RECEIVERS.name, websdr)
    lines = [("Kind", websdr.kind), ("Address", kind.location(websdr)), ("Response", fmt.ms(entry.get("response_time_ms"))),
             ("Uptime 24 h", fmt.percent(entry.get("uptime_24h"))), ("Users", fmt.users(d))]
    if entry.get("status") == "degraded" and entry.get("error_message"):
        lines.append(("Not usable", entry["error_message"]))
    if d.get("password_required"):
        lines.append(("Access", "every channel needs a password"))
    if d.get("listed") is False:
        lines.append(("Directory", "not listed publicly"))
    if "sdrs" in d:
        lines.append(("SDRs running", str(d["sdrs"])))
    lines.append(("Position", f"{websdr.latitude:.4f}, {websdr.longitude:.4f} (configured)"))
    if "reported_position" in d:
        where = f"{d['reported_position']['lat']:.4f}, {d['reported_position']['lon']:.4f}"
        if d.get("reported_far"):
            where += f" ⚠ {d['reported_offset_km']:g} km from the configured position"
        lines.append(("Reports itself at", where))
    if "gps_fix" in d:
        lines.append(("GPS fix", f"{d['gps_fix']['satellites']} satellites"))
    if "snr_db" in d:
        lines.append(("SNR", f"{d['snr_db']['all']} dB all, {d['snr_db']['hf']} dB HF"))
    if "uptime_s" in d:
        lines.append(("Receiver uptime", f"{d['uptime_s'] // 3600} h {d['uptime_s'] % 3600 // 60} min"))
    if "sw_version" in d:
        lines.append(("Software", f"{d.get('software', '')} {d['sw_version']}".strip()))
    if "bands_mhz" in d:
        lines.append(("Bands", ", ".join(f"{lo:g}–{hi:g} MHz" for lo, hi in d["bands_mhz"])))
    if entry.get("error_message") and entry.get("status") != "degraded":
        lines.append(("Last error", entry["error_message"]))
    return lines


def chart_options(points: list[list[float]], label: str = "response, ms") -> dict[str, Any]:
    return {
        "animation": False,
        "grid": {"left": 56, "right": 16, "top": 30, "bottom": 30},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "time"},
        "yAxis": {"type": "value", "name": label, "min": 0, "nameTextStyle": {"align": "left"}},
        "series": [{"type": "line", "showSymbol": False, "data": points, "name": "response time"}],
    }


async def render(state: LiveState, principal: Any = None) -> None:
    history = state.runtime.history
    header("/websdrs", principal, state.figures)
    cards: dict[str, dict[str, Any]] = {}

    @ui.refreshable
    async def receiver_cards() -> None:
        config = state.runtime.settings.config
        now_ms = int(time.time() * 1000)
        cards.clear()
        if not config.websdrs:
            ui.label("No receivers are configured.").classes("text-lg hl-empty")
        for w in config.websdrs:
            entry = state.websdrs.get(w.id) or {}
            buckets = await history.buckets(RECEIVERS.name, w.id, "minute", now_ms - DAY_MS, now_ms)
            points = [[b["start_ms"], b["avg_response_ms"]] for b in buckets if b["avg_response_ms"] is not None]
            changes = await history.changes(RECEIVERS.name, w.id, 10)
            with ui.card().classes("w-full hl-live").props(f"id=receiver-{w.id}"):
                with ui.row().classes("items-center gap-3"):
                    dot = ui.html("", sanitize=False)
                    ui.label(w.name).classes("text-xl font-semibold")
                    status = ui.label().classes("text-lg")
                    since = ui.html("", sanitize=False).classes("opacity-80")
                    if principal is not None and principal.may("operator"):
                        ui.button("Silence 1 h", on_click=lambda key=w.id: silence(key)).props(
                            f'flat dense aria-label="Silence alerts of {w.name} for an hour"')
                with ui.row().classes("w-full gap-6 items-start max-lg:flex-wrap"):
                    details = ui.column().classes("gap-1 min-w-[min(20rem,100%)]")
                    plot = ui.column().classes("grow min-w-[min(20rem,100%)]")
                    with ui.column().classes("gap-1 min-w-[16rem]"):
                        ui.label("State changes").classes("font-semibold")
                        change_list = ui.column().classes("gap-0")
            cards[w.id] = {"websdr": w, "dot": dot, "status": status, "since": since, "details": details,
                           "plot": plot, "chart": None, "changes": change_list,
                           "quiet": lambda key=w.id: state.runtime.alerts.quiet_reason(RECEIVERS.name, key)}
            fill_card(cards[w.id], entry)
            show_points(cards[w.id], points)
            if not changes:
                with change_list:
                    ui.label("none in the kept history").classes("hl-empty")
            for change in changes:
                add_change(change_list, state.change_entry(change))

    client = ui.context.client

    async def silence(key: str) -> None:
        auth = state.runtime.auth
        if (actor := await page_access.authorised(auth, client, "operator")) is None:
            return
        await state.runtime.alerts.silence(RECEIVERS.name, key, 60, actor.name)
        await auth.store_call(auth.store.audit, "target silenced", actor.name, f"websdrs:{key}", None, "60 min")
        ui.notify(f"Alerts of {state.names(RECEIVERS.name).get(key, key)} silenced for an hour")
        fill_card(cards[key], state.websdrs.get(key) or {})

    with ui.column().classes("w-full p-4 gap-4"):
        ui.html('<h2 class="text-2xl font-semibold">Receivers</h2>', sanitize=False)
        await receiver_cards()

    def on_websdrs(websdrs: dict[str, Any]) -> None:
        for key, card in cards.items():
            entry = websdrs.get(key) or {}
            fill_card(card, entry)
            if entry.get("response_time_ms") is not None and entry.get("last_check"):
                point = [parse_iso_ms(entry["last_check"]), entry["response_time_ms"]]
                if card["chart"] is None:
                    show_points(card, [point])
                else:
                    append_point(card["chart"], *point)

    def on_change(change: dict[str, Any]) -> None:
        card = cards.get(change.get("id", "")) if change.get("kind") == RECEIVERS.name else None
        if card is not None:
            add_change(card["changes"], change, first=True)

    async def on_config(_config: Any) -> None:
        await receiver_cards.refresh()

    state.websdrs_changed.subscribe(on_websdrs)
    state.change_added.subscribe(on_change)
    state.config_changed.subscribe(on_config)


def show_points(card: dict[str, Any], points: list[list[float]]) -> None:
    """The response-time chart once there is something to draw; a line of text until then."""
    card["plot"].clear()
    with card["plot"]:
        if points:
            label = kind_of(RECEIVERS.name, card["websdr"]).response_label
            card["chart"] = ui.echart(chart_options(points, label)).classes("w-full h-56")
        else:
            card["chart"] = None
            ui.label("No response times in the last 24 h.").classes("hl-empty")


def fill_card(card: dict[str, Any], entry: dict[str, Any]) -> None:
    status = entry.get("status", "unknown")
    card["dot"].set_content(f'<span class="hl-dot" style="background:{fmt.status_color(status)}"></span>')
    card["status"].set_text(" · ".join(filter(None, [status, card["quiet"]()])))
    card["since"].set_content(f"since {time_tag(entry.get('since'))}" if entry.get("since") else "")
    card["details"].clear()
    with card["details"]:
        for label, text in detail_lines(card["websdr"], entry):
            with ui.row().classes("gap-2 no-wrap"):
                ui.label(label).classes("opacity-70 w-36 shrink-0")
                ui.label(text)


def append_point(chart: ui.echart, at_ms: int, value: float) -> None:
    """One new point: kept in the element's options, and sent to the browser alone."""
    data = chart.options["series"][0]["data"]
    data.append([at_ms, value])
    cutoff = at_ms - DAY_MS
    if data[0][0] < cutoff:
        data[:] = [point for point in data if point[0] >= cutoff]
    ui.run_javascript(
        f"const c = getElement({chart.id}).chart; const o = c.getOption();"
        f"const d = o.series[0].data.filter(p => p[0] >= {cutoff}); d.push([{at_ms}, {value}]);"
        f"c.setOption({{series: [{{data: d}}]}});"
    )


def add_change(column: ui.column, change: dict[str, Any], first: bool = False) -> None:
    for placeholder in [child for child in column if "hl-empty" in child.classes]:
        placeholder.delete()
    at = change.get("at")
    with column:
        row = ui.row().classes("gap-2 items-center")
        with row:
            ui.html(f'<span class="hl-dot" style="background:{fmt.status_color(change.get("to"))}"></span>',
                    sanitize=False)
            ui.label(f"{change.get('to')}").classes("font-medium")
            ui.html(time_tag(at), sanitize=False).classes("opacity-80")
            if change.get("reason"):
                ui.label(change["reason"]).classes("opacity-70 text-sm")
    if first:
        row.move(column, target_index=0)

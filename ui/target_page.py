"""One target's own page (`/websdrs/{id}`, `/services/{name}`): its state and details, its
charts over 24 h (response time; users against the most it takes, SNR, ADC overloads and
GPS fixes where its kind reports them) and the receiver's own week of SNR measurements,
its state changes, its uptime over 7 and 30 days, its alerts and silences. The only page
that draws charts; its storage reads are four, for this target alone."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from nicegui import ui

from backend.alerting import rules
from backend.kinds import GROUPS, kind_of, receiver_readiness
from backend.kinds.fields import kept_figures
from backend.timefmt import iso_from_ms, parse_iso_ms
from ui import format as fmt
from ui import page_access
from ui.frame import header, time_tag
from ui.state import LiveState
from ui.view_bar import frequency_in, keep_param_in_url

DAY_MS = 86_400_000
CHANGES_SHOWN = 20
LIST_PAGES = {"websdrs": ("/websdrs", "Receivers"), "services": ("/system", "System")}


def uptime_over(days: list[dict[str, Any]], since_ms: int) -> float | None:
    """Uptime in percent over the day buckets that start at or after `since_ms`."""
    kept = [b for b in days if b["start_ms"] >= since_ms]
    checks = sum(b["checks"] for b in kept)
    return round(sum(b["up"] for b in kept) * 100.0 / checks, 1) if checks else None


def readiness_line(target: Any, entry: Mapping[str, Any], freq_mhz: float) -> tuple[str, str]:
    """A receiver's readiness, always for a frequency (0: any it covers), as a detail line."""
    judged = receiver_readiness(target, dict(entry), freq_mhz or None)
    label = f"Readiness at {freq_mhz:g} MHz" if freq_mhz else "Readiness (any frequency it covers)"
    return label, "; ".join([judged["state"], *judged["reasons"]])


def detail_lines(group_name: str, target: Any, entry: Mapping[str, Any],
                 longer: Mapping[str, float | None] | None = None, freq_mhz: float = 0) -> list[tuple[str, str]]:
    """(label, text) pairs of what is known about a target, in reading order; `longer`:
    its uptime over longer spans ("7 d", "30 d"); `freq_mhz`: where a receiver's readiness
    is judged."""
    d = entry.get("details") or {}
    group = GROUPS[group_name]
    kind = kind_of(group_name, target)
    reason = entry.get(group.reason_field)
    lines = [("Kind", target.kind), ("Address", kind.location(target)),
             ("Response", fmt.ms(entry.get("response_time_ms"))), ("Uptime 24 h", fmt.percent(entry.get("uptime_24h")))]
    lines += [(f"Uptime {span}", fmt.percent(value)) for span, value in (longer or {}).items()]
    if entry.get("last_check"):
        lines.append(("Checked", entry["last_check"]))
    if entry.get("details_at") and entry.get("details_at") != entry.get("last_check"):
        lines.append(("Last answer", entry["details_at"]))  # the figures below are from then
    if not group.keeps_details:
        if reason:
            lines.append(("Reason", reason))
        return lines
    lines.append(("Users", fmt.users(d)))
    if entry.get("status"):
        lines.append(readiness_line(target, entry, freq_mhz))
    if entry.get("status") == "degraded" and reason:
        lines.append(("Not usable", reason))
    if d.get("password_required"):
        lines.append(("Access", "every channel needs a password"))
    if d.get("listed") is False:
        lines.append(("Directory", "not listed publicly"))
    if "sdrs" in d:
        lines.append(("SDRs running", str(d["sdrs"])))
    position = group.position_of(target)
    if position:
        lines.append(("Position", f"{position[0]:.4f}, {position[1]:.4f} (configured)"))
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
        lines.append(("Bands it reports", ", ".join(f"{lo:g}–{hi:g} MHz" for lo, hi in d["bands_mhz"])))
    if getattr(target, "frequency_ranges_mhz", None):
        lines.append(("Bands configured", ", ".join(f"{lo:g}–{hi:g} MHz" for lo, hi in target.frequency_ranges_mhz)))
    if reason and entry.get("status") != "degraded":
        lines.append(("Last error", reason))
    return lines


def chart_options(series: list[tuple[str, list[list[float]]]], label: str, step: bool = False) -> dict[str, Any]:
    return {
        "animation": False,
        "grid": {"left": 48, "right": 12, "top": 30, "bottom": 28, "containLabel": False},
        "tooltip": {"trigger": "axis"},
        "legend": {"show": len(series) > 1, "top": 0, "right": 0, "textStyle": {"fontSize": 12}},
        "xAxis": {"type": "time", "axisLabel": {"hideOverlap": True, "fontSize": 12}},
        "yAxis": {"type": "value", "name": label, "nameTextStyle": {"align": "left"}, "axisLabel": {"fontSize": 12},
                  "min": 0},
        "series": [{"type": "line", "showSymbol": len(points) < 2, "data": points, "name": name, **({"step": "end"} if step else {})}
                   for name, points in series],
    }


def _figure(index: int) -> Callable[[Mapping[str, Any]], float | None]:
    """A figure the history keeps (backend/kinds/fields.py kept_figures), from a live entry."""
    return lambda entry: kept_figures(entry.get("details") or {})[index]


@dataclass(frozen=True)
class Line:
    name: str  # in the legend
    field: str  # of the stored buckets
    live: Callable[[Mapping[str, Any]], float | None]  # from each new check
    per_minute: bool = False  # live values add up within a minute (a count), else each is a point


@dataclass(frozen=True)
class ChartSpec:
    title: str
    label: str  # the axis
    lines: tuple[Line, ...]
    always: bool = False  # drawn even when empty (the response time); others only with something to draw
    step: bool = False
    empty: str = "Nothing in the last 24 h."


RESPONSE = ChartSpec("Response time, last 24 h", "response, ms",
                     (Line("response", "avg_response_ms", lambda entry: entry.get("response_time_ms")),), always=True,
                     empty="No response times in the last 24 h.")
# What receivers report, where their kind reports it.
RECEIVER_CHARTS = (
    ChartSpec("Users, last 24 h (most each minute, against the most it takes)", "users",
              (Line("users", "max_users", _figure(0)), Line("most it takes", "users_max", _figure(2))), step=True),
    ChartSpec("SNR, last 24 h", "SNR, dB", (Line("SNR", "avg_snr_db", _figure(1)),)),
    ChartSpec("ADC overloads, last 24 h (each minute)", "overloads",
              (Line("ADC overloads", "adc_overloads", _figure(3), per_minute=True),), step=True),
    ChartSpec("GPS fixes per minute, last 24 h", "fixes", (Line("GPS fixes", "avg_gps_fixes_min", _figure(4)),)),
)


class Chart:
    """Lines over the last 24 h: drawn from the stored minutes, then a point per check."""

    def __init__(self, spec: ChartSpec, buckets: list[dict[str, Any]]) -> None:
        self.spec = spec
        self.box = ui.column().classes("w-full gap-0")
        self.element: ui.echart | None = None
        lines = [[[b["start_ms"], b[line.field]] for b in buckets if b.get(line.field) is not None]
                 for line in spec.lines]
        if any(lines) or spec.always:
            self.draw(lines)

    def draw(self, lines: list[list[list[float]]]) -> None:
        self.box.clear()
        with self.box:
            ui.label(self.spec.title).classes("font-semibold")
            if any(lines):
                self.element = ui.echart(chart_options([(line.name, points) for line, points in
                                                        zip(self.spec.lines, lines)], self.spec.label, self.spec.step)
                                         ).classes("w-full h-56")
            else:
                self.element = None
                ui.label(self.spec.empty).classes("hl-empty")

    def add(self, at_ms: int, entry: Mapping[str, Any]) -> None:
        values = [line.live(entry) for line in self.spec.lines]
        if all(value is None for value in values):
            return
        if self.element is None:
            self.draw([[[at_ms, value]] if value is not None else [] for value in values])
            return
        cutoff = at_ms - DAY_MS
        for index, (line, value) in enumerate(zip(self.spec.lines, values)):
            if value is None:
                continue
            data = self.element.options["series"][index]["data"]
            minute = at_ms // 60_000 * 60_000
            if line.per_minute and data and data[-1][0] == minute:
                data[-1] = [minute, data[-1][1] + value]
                at, shown, replace_last = minute, data[-1][1], "true"
            else:
                at, shown, replace_last = (minute, value, "false") if line.per_minute else (at_ms, value, "false")
                data.append([at, shown])
            if data[0][0] < cutoff:
                data[:] = [point for point in data if point[0] >= cutoff]
            # One point to the browser, not the whole series again.
            ui.run_javascript(
                f"const c = getElement({self.element.id}).chart; if (c) {{ const o = c.getOption();"
                f"const d = o.series[{index}].data.filter(p => p[0] >= {cutoff}); if ({replace_last}) d.pop();"
                f"d.push([{at}, {shown}]); const s = o.series.map(() => ({{}})); s[{index}] = {{data: d}};"
                f"c.setOption({{series: s}}); }}")


def own_snr_chart(measurements: list[dict[str, Any]]) -> None:
    """The receiver's own SNR measurements over the last week (KiwiSDR's /snr), if any."""
    if not measurements:
        return
    series = [("whole span", [[m["ts_ms"], m["snr_all_db"]] for m in measurements if m["snr_all_db"] is not None]),
              ("HF", [[m["ts_ms"], m["snr_hf_db"]] for m in measurements if m["snr_hf_db"] is not None])]
    with ui.column().classes("w-full gap-0"):
        ui.label("SNR measured by the receiver itself, last 7 days (hourly)").classes("font-semibold")
        ui.echart(chart_options([line for line in series if line[1]], "SNR, dB")).classes("w-full h-56")


def find_target(state: LiveState, group_name: str, key: str) -> Any | None:
    group = GROUPS[group_name]
    return next((t for t in group.configured(state.runtime.settings.config) if group.key_of(t) == key), None)


async def render(state: LiveState, principal: Any, group_name: str, key: str,
                 query: Mapping[str, str] | None = None) -> None:
    group = GROUPS[group_name]
    list_path, list_label = LIST_PAGES[group_name]
    header(list_path, principal, state.figures)
    target = find_target(state, group_name, key)
    with ui.column().classes("w-full p-3 gap-3"):
        ui.link(f"← {list_label}", list_path).classes("text-base")
        if target is None:
            ui.label(f"No {group.noun} with the id {key!r} is configured.").classes("text-lg hl-empty")
            return
        await _render_target(state, principal, group_name, target, query or {})


class Subject:
    """The target a page is about, and what its parts share."""

    def __init__(self, state: LiveState, group_name: str, target: Any, freq_mhz: float = 0) -> None:
        self.state, self.group_name, self.target = state, group_name, target
        self.freq_mhz = freq_mhz  # a receiver's readiness is for this frequency (0: any it covers)
        self.group = GROUPS[group_name]
        self.key = self.group.key_of(target)
        self.name = self.group.name_of_target(target)
        self.engine = state.runtime.alerts

    def entry(self) -> Mapping[str, Any]:
        return self.state.entries(self.group_name).get(self.key) or {}

    def covers(self, group_name: str, key: str) -> bool:
        return (group_name, key) == (self.group_name, self.key)


def quiet_html(reason: str | None) -> str:
    """"silenced, ends <time>" (kept current by the browser: "in 59 min"), or the reason as text."""
    if not reason:
        return ""
    head, found, until = reason.partition(" until ")
    if found and until.endswith("Z") and " " not in until:
        return f"{html.escape(head)}, ends {time_tag(html.escape(until))}"
    return html.escape(reason)


class Headline:
    """Its state and since when; an operator may silence it for an hour."""

    def __init__(self, subject: Subject, principal: Any, on_silenced: Any) -> None:
        self.subject, self.on_silenced = subject, on_silenced
        self.client = ui.context.client
        with ui.row().classes("items-center gap-3 hl-live"):
            self.dot = ui.html("", sanitize=False)
            ui.html(f'<h2 class="text-2xl font-semibold">{html.escape(subject.name)}</h2>', sanitize=False)
            self.status = ui.html("", sanitize=False).classes("text-xl")
            self.since = ui.html("", sanitize=False).classes("opacity-80")
            if principal is not None and principal.may("operator"):
                ui.button("Silence 1 h", on_click=self.silence).props(
                    f'outline dense aria-label="Silence alerts of {html.escape(subject.name)} for an hour"')

    def fill(self, entry: Mapping[str, Any]) -> None:
        subject, current = self.subject, entry.get("status", "unknown")
        self.dot.set_content(f'<span class="hl-dot" style="background:{fmt.status_color(current)}"></span>')
        self.status.set_content(" · ".join(filter(None, [html.escape(current), quiet_html(
            subject.engine.quiet_reason(subject.group_name, subject.key))])))
        self.since.set_content(f"since {time_tag(entry.get('since'))}" if entry.get("since") else "")

    async def silence(self) -> None:
        subject, auth = self.subject, self.subject.state.runtime.auth
        if (actor := await page_access.authorised(auth, self.client, "operator")) is None:
            return
        await subject.engine.silence(subject.group_name, subject.key, 60, actor.name)
        await auth.store_call(auth.store.audit, "target silenced", actor.name,
                              f"{subject.group_name}:{subject.key}", None, "60 min")
        ui.notify(f"Alerts of {subject.name} silenced for an hour")
        self.on_silenced()


class Details:
    """All its probe tells, and the uptime over 7 and 30 days; a receiver's readiness at the
    frequency chosen here (kept in the URL, `?freq=`; the map's coverage frequency at first)."""

    def __init__(self, subject: Subject, longer: dict[str, Any]) -> None:
        self.subject, self.longer = subject, longer
        with ui.column().classes("gap-1 min-w-[min(22rem,100%)] max-w-full"):
            if subject.group.keeps_details:
                ui.number("Readiness at MHz", value=subject.freq_mhz or None, min=0, max=1e6, step=0.001, format="%g",
                          on_change=lambda event: self.on_frequency(event.value)) \
                    .props('dense outlined clearable debounce=400 aria-label="Readiness at MHz"').classes("w-44")
            self.box = ui.column().classes("gap-1 max-w-full")

    def on_frequency(self, value: Any) -> None:
        self.subject.freq_mhz = float(value) if isinstance(value, (int, float)) and 0 < value <= 1e6 else 0.0
        keep_param_in_url("freq", f"{self.subject.freq_mhz:g}" if self.subject.freq_mhz else "0")
        self.fill(self.subject.entry())

    def fill(self, entry: Mapping[str, Any]) -> None:
        self.box.clear()
        with self.box:
            for label, text in detail_lines(self.subject.group_name, self.subject.target, entry, self.longer,
                                            self.subject.freq_mhz):
                with ui.row().classes("gap-2 no-wrap max-w-full"):
                    ui.label(label).classes("opacity-70 w-36 shrink-0")
                    if label in ("Checked", "Last answer"):
                        ui.html(time_tag(text), sanitize=False)
                    else:
                        ui.label(text).classes("min-w-0 [overflow-wrap:anywhere]")


class SiteViews:
    """A row per site that checked it: what it saw, when, why; and whether it counted."""

    def __init__(self) -> None:
        ui.label("Seen from each site").classes("text-lg font-semibold")
        self.box = ui.column().classes("gap-1")

    def fill(self, entry: Mapping[str, Any]) -> None:
        self.box.clear()
        with self.box:
            seen_from = entry.get("sites") or {}
            if not seen_from:
                ui.label("not checked yet").classes("hl-empty")
            for site, seen in seen_from.items():
                with ui.row().classes("gap-2 items-center"):
                    ui.html(f'<span class="hl-dot" style="background:{fmt.status_color(seen.get("status"))}"></span>',
                            sanitize=False)
                    ui.label(f"{site}: {seen.get('status')}").classes("font-medium")
                    ui.html(time_tag(seen.get("last_check")), sanitize=False).classes("opacity-80")
                    if not seen.get("counted"):
                        ui.label("not counted (stale, old or set aside)").classes("hl-quiet")
                    if seen.get("reason"):
                        ui.label(seen["reason"]).classes("opacity-70 text-sm break-words")


class AlertsBox:
    """The alert rules that cover it, its open incident, its silences and maintenance."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        ui.label("Alerts and silences").classes("text-lg font-semibold")
        self.box = ui.column().classes("gap-1")

    def fill(self) -> None:
        subject, engine = self.subject, self.subject.engine
        group_name, key = subject.group_name, subject.key
        config = subject.state.runtime.settings.config
        now = int(time.time() * 1000)
        self.box.clear()
        with self.box:
            rules_here = [a.name for a in config.alerts if rules.covers(a.targets, group_name, key)]
            ui.label("Alert rules: " + (", ".join(rules_here) if rules_here else "none covers it")) \
                .classes("" if rules_here else "hl-empty")
            for incident in engine.state.incidents.values():
                if subject.covers(incident.kind, incident.key):
                    acked = f", acknowledged by {incident.acknowledged_by}" if incident.acknowledged_ms else ""
                    ui.html(f"<b>Open incident</b> ({html.escape(incident.alert)}) since "
                            f"{time_tag(iso_from_ms(incident.opened_ms))}{html.escape(acked)}", sanitize=False)
            for what, quietings in (("Silenced", engine.state.silences), ("Maintenance", engine.state.maintenance)):
                for made in quietings:
                    if made.covers(group_name, key, now):
                        by = f" by {made.by}" if made.by else ""
                        note = f": {made.comment}" if made.comment else ""
                        ui.html(f"{what} until {time_tag(iso_from_ms(made.until_ms))}{html.escape(by + note)}",
                                sanitize=False)
            quiet = engine.quiet_reason(group_name, key)
            if quiet and quiet.startswith("in maintenance") and not any(
                    m.covers(group_name, key, now) for m in engine.state.maintenance):
                ui.label(quiet.capitalize())


class StateChanges:
    """Its state changes, the newest first, live."""

    def __init__(self, changes: list[Any], state: LiveState) -> None:
        ui.label("State changes").classes("text-lg font-semibold")
        self.box = ui.column().classes("gap-1")
        for change in changes:
            self.add(state.change_entry(change))
        if not changes:
            with self.box:
                ui.label("none in the kept history").classes("hl-empty")

    def add(self, change: Mapping[str, Any], first: bool = False) -> None:
        for placeholder in [child for child in self.box if "hl-empty" in child.classes]:
            placeholder.delete()
        with self.box, ui.row().classes("gap-2 items-center") as row:
            ui.html(f'<span class="hl-dot" style="background:{fmt.status_color(change.get("to"))}"></span>',
                    sanitize=False)
            ui.label(f"{change.get('from')} → {change.get('to')}").classes("font-medium")
            ui.html(time_tag(change.get("at")), sanitize=False).classes("opacity-80")
            if change.get("reason"):
                ui.label(change["reason"]).classes("opacity-70 text-sm break-words")
        if first:
            row.move(self.box, target_index=0)


async def _render_target(state: LiveState, principal: Any, group_name: str, target: Any,
                         query: Mapping[str, str]) -> None:
    """The page of one target: its parts, and what keeps them live."""
    subject = Subject(state, group_name, target,
                      frequency_in(query, state.runtime.settings.config.map.coverage_freq_mhz))
    history, key = state.runtime.history, subject.key
    now_ms = int(time.time() * 1000)
    buckets = await history.buckets(group_name, key, "minute", now_ms - DAY_MS, now_ms)
    days = await history.buckets(group_name, key, "day", now_ms - 30 * DAY_MS, now_ms)
    longer = {"7 d": uptime_over(days, now_ms - 7 * DAY_MS), "30 d": uptime_over(days, now_ms - 30 * DAY_MS)}

    def fill() -> None:
        entry = subject.entry()
        headline.fill(entry)
        details.fill(entry)
        sites.fill(entry)

    headline = Headline(subject, principal, lambda: (fill(), alerts.fill()))
    with ui.row().classes("w-full gap-6 items-start no-wrap max-lg:flex-wrap hl-live"):
        details = Details(subject, longer)
        with ui.column().classes("flex-1 min-w-0 w-full gap-1"):
            charts = [Chart(replace(RESPONSE, label=kind_of(group_name, target).response_label), buckets)]
    if subject.group.keeps_details:  # two charts a row on a wide screen, one on a phone
        with ui.element("div").classes("w-full grid grid-cols-1 xl:grid-cols-2 gap-x-6 gap-y-2 hl-live"):
            charts += [Chart(spec, buckets) for spec in RECEIVER_CHARTS]
            own_snr_chart(await history.snr_history(group_name, key, now_ms - 7 * DAY_MS, now_ms))
    with ui.row().classes("w-full gap-6 items-start max-lg:flex-wrap hl-live"):
        with ui.column().classes("gap-1 min-w-[min(22rem,100%)]"):
            changes = StateChanges(await history.changes(group_name, key, CHANGES_SHOWN), state)
        with ui.column().classes("gap-1 min-w-[min(22rem,100%)]"):
            alerts = AlertsBox(subject)
        with ui.column().classes("gap-1 min-w-[min(22rem,100%)]"):
            sites = SiteViews()
    fill()
    alerts.fill()

    def on_rows(changed_group: str, before: Mapping[str, Any]) -> None:
        if changed_group != group_name or key not in before:
            return
        fill()
        entry = subject.entry()
        if entry.get("last_check"):
            for chart in charts:
                chart.add(parse_iso_ms(entry["last_check"]), entry)

    def on_change(change: Mapping[str, Any]) -> None:
        if subject.covers(change.get("kind"), change.get("id")):
            changes.add(change, first=True)

    state.rows_changed.subscribe(on_rows)
    state.change_added.subscribe(on_change)
    state.alerts_changed.subscribe(alerts.fill)

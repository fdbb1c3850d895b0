"""A public status page as plain data, and its renderings as plain functions: light HTML
(no script, no socket; readable in a text browser), an Atom feed, the overall state.
Nothing here reads the running gateway (backend/statuspage/page.py gathers the data)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from backend.kinds.status import is_down, is_up
from backend.timefmt import iso_from_ms

DAYS = 90
BAR_W, GAP = 3, 1  # each day's bar, and the gap drawn between bars
STATE_WORDS = {"up": "Operational", "degraded": "Degraded", "down": "Down", "unknown": "Not checked yet"}
OVERALL_WORDS = {"up": "All systems operational", "degraded": "Some systems degraded",
                 "partial": "Partial outage", "down": "Major outage", "unknown": "Not checked yet"}
COLOURS = {"up": "#16a34a", "degraded": "#d97706", "down": "#dc2626", "unknown": "#94a3b8",
           "partial": "#ea580c"}
TYPE_WORDS = {"information": "Information", "maintenance": "Maintenance", "incident": "Incident",
              "resolved": "Resolved"}


def state_of(status: str | None) -> str:
    """A target's status in the public's four words."""
    if is_down(status):
        return "down"
    if status == "degraded":
        return "degraded"
    return "up" if is_up(status) else "unknown"


def overall(states: list[str]) -> str:
    known = [s for s in states if s != "unknown"]
    if not known:
        return "unknown"
    if all(s == "down" for s in known):
        return "down"
    if any(s == "down" for s in known):
        return "partial"
    return "degraded" if any(s == "degraded" for s in known) else "up"


def day_colour(uptime_pct: float | None) -> str:
    if uptime_pct is None:
        return COLOURS["unknown"]
    if uptime_pct >= 99.9:
        return COLOURS["up"]
    return COLOURS["degraded"] if uptime_pct >= 95 else COLOURS["down"]


@dataclass(frozen=True)
class TargetView:
    name: str
    state: str  # up, degraded, down, unknown
    latency_ms: float | None
    days: list[float | None]  # uptime percent per day, the oldest first, DAYS of them; None: no checks
    uptime_pct: float | None  # over the days with checks


@dataclass(frozen=True)
class Outage:
    name: str
    start_ms: int
    end_ms: int | None  # None: still down


@dataclass
class PageView:
    slug: str
    title: str
    description: str
    show_latency: bool
    generated_ms: int
    groups: list[tuple[str, list[TargetView]]]
    announcements: list[dict[str, Any]] = field(default_factory=list)  # current ones
    archived: list[dict[str, Any]] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)

    @property
    def overall(self) -> str:
        return overall([t.state for _, targets in self.groups for t in targets])


def outages(changes: list[dict[str, Any]], names: dict[tuple[str, str], str]) -> list[Outage]:
    """Periods each target was down, newest first, from its state changes (any order)."""
    found: list[Outage] = []
    began: dict[tuple[str, str], int] = {}
    for change in sorted(changes, key=lambda c: c["ts_ms"]):
        target = (change["kind"], change["id"])
        if is_down(change["to"]) and not is_down(change["from"]):
            began[target] = change["ts_ms"]
        elif is_down(change["from"]) and not is_down(change["to"]) and target in began:
            found.append(Outage(names.get(target, change["id"]), began.pop(target), change["ts_ms"]))
    found += [Outage(names.get(target, target[1]), start, None) for target, start in began.items()]
    return sorted(found, key=lambda o: o.start_ms, reverse=True)


def duration(ms: int) -> str:
    minutes = max(1, round(ms / 60_000))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return " ".join(part for part in (f"{days} d" if days else "", f"{hours} h" if hours else "",
                                      f"{minutes} min" if minutes else "") if part)


def bars(days: list[float | None], label: str) -> str:
    """90 days as one small SVG: the runs of days of one colour as one path a colour, the
    gaps between days drawn by a pattern defined once on the page (some 150 bytes a
    target with a few bad days, where a rectangle a day would be several kilobytes)."""
    width = DAYS * BAR_W
    runs: dict[str, list[str]] = {}
    start = 0
    for index in range(1, len(days) + 1):
        if index == len(days) or day_colour(days[index]) != day_colour(days[start]):
            runs.setdefault(day_colour(days[start]), []).append(f"M{start * BAR_W} 0h{(index - start) * BAR_W}v24H{start * BAR_W}z")
            start = index
    paths = "".join(f'<path fill="{colour}" d="{"".join(parts)}"/>' for colour, parts in runs.items())
    return (f'<svg viewBox="0 0 {width} 24" preserveAspectRatio="none" role="img" aria-label={quoteattr(label)}>'
            f'{paths}<rect width="{width}" height="24" fill="url(#gaps)"/></svg>')


STYLE = """body{font-family:system-ui,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
main{max-width:52rem;margin:0 auto;padding:1rem}h1{font-size:1.7rem;margin:.5rem 0}
.overall{color:#fff;padding:.9rem 1rem;border-radius:.5rem;font-size:1.3rem;font-weight:700}
section{margin:1.4rem 0}h2{font-size:1.2rem;border-bottom:1px solid #cbd5e1;padding-bottom:.3rem}
.t{padding:.6rem 0;border-bottom:1px solid #e2e8f0}.row{display:flex;justify-content:space-between;gap:1rem;
flex-wrap:wrap}.name{font-weight:600}.s{font-weight:700}svg{display:block;width:100%;height:1.5rem;margin:.3rem 0}
.small{font-size:.85rem;color:#475569}.gap{fill:#f8fafc}.a{border-left:.35rem solid;padding:.3rem .8rem;margin:.6rem 0;background:#fff}
@media (prefers-color-scheme:dark){body{background:#0f172a;color:#f1f5f9}.gap{fill:#0f172a}.a{background:#1e293b}
.small{color:#cbd5e1}h2{border-color:#334155}.t{border-color:#1e293b}}"""


def render_page(view: PageView) -> str:
    """The page: overall state, current announcements, each listed target with its
    90-day bars, past incidents, the archive of announcements."""
    e = html.escape
    parts = [f'<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
             f'<meta name="viewport" content="width=device-width, initial-scale=1">'
             f'<title>{e(view.title)}</title><link rel="alternate" type="application/atom+xml" '
             f'href="/status/{view.slug}/feed" title="{e(view.title)}"><style>{STYLE}</style></head><body>'
             f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
             f'<pattern id="gaps" width="{BAR_W}" height="24" patternUnits="userSpaceOnUse">'
             f'<rect x="{BAR_W - GAP}" width="{GAP}" height="24" class="gap"/></pattern></defs></svg>'
             f'<main><h1>{e(view.title)}</h1>']
    if view.description:
        parts.append(f"<p>{e(view.description)}</p>")
    state = view.overall
    parts.append(f'<p class="overall" style="background:{COLOURS[state]}">{OVERALL_WORDS[state]}</p>')
    for item in view.announcements:
        parts.append(_announcement(item))
    for label, targets in view.groups:
        if not targets:
            continue
        parts.append(f"<section><h2>{e(label)}</h2>")
        for target in targets:
            latency = (f" · {target.latency_ms:.0f} ms" if view.show_latency and target.latency_ms is not None
                       else "")
            uptime = f"{target.uptime_pct:.2f} % over {DAYS} days" if target.uptime_pct is not None else \
                f"no checks in {DAYS} days"
            parts.append(f'<div class="t"><div class="row"><span class="name">{e(target.name)}</span>'
                         f'<span class="s" style="color:{COLOURS[target.state]}">{STATE_WORDS[target.state]}'
                         f'{latency}</span></div>{bars(target.days, f"{target.name}: {uptime}")}'
                         f'<div class="row small"><span>{DAYS} days ago</span><span>{uptime}</span>'
                         f'<span>today</span></div></div>')
        parts.append("</section>")
    parts.append("<section><h2>Past incidents</h2>")
    if not view.outages:
        parts.append(f"<p>No incidents in the last {DAYS} days.</p>")
    for outage in view.outages[:50]:
        until = (f"until {iso_from_ms(outage.end_ms)[:16].replace('T', ' ')} UTC "
                 f"({duration(outage.end_ms - outage.start_ms)})" if outage.end_ms else "ongoing")
        parts.append(f'<p><span class="name">{e(outage.name)}</span> down from '
                     f'{iso_from_ms(outage.start_ms)[:16].replace("T", " ")} UTC {until}</p>')
    parts.append("</section>")
    if view.archived:
        parts.append("<section><h2>Earlier announcements</h2>")
        parts += [_announcement(item) for item in view.archived[:20]]
        parts.append("</section>")
    parts.append(f'<p class="small">Updated {iso_from_ms(view.generated_ms)[:19].replace("T", " ")} UTC, at most '
                 f'a minute ago. <a href="/status/{view.slug}/feed">Feed (Atom)</a></p></main></body></html>')
    return "".join(parts)


def _announcement(item: dict[str, Any]) -> str:
    e = html.escape
    colour = {"information": "#2563eb", "maintenance": "#7c3aed", "incident": "#dc2626",
              "resolved": "#16a34a"}.get(item["type"], "#64748b")
    return (f'<div class="a" style="border-color:{colour}"><p><b>{TYPE_WORDS.get(item["type"], "")}: '
            f'{e(item["title"])}</b> <span class="small">{iso_from_ms(item["updated_ms"])[:16].replace("T", " ")} '
            f'UTC</span></p><p>{e(item["text"])}</p></div>')


def render_feed(view: PageView, base_url: str, changes: list[dict[str, Any]],
                names: dict[tuple[str, str], str]) -> str:
    """An Atom feed (RFC 4287) of the page's announcements and its targets' state changes."""
    page_url = f"{base_url}/status/{view.slug}"
    entries = []
    for item in view.announcements + view.archived:
        entries.append((item["updated_ms"], f"{page_url}#announcement-{item['id']}-{item['updated_ms']}",
                        f"{TYPE_WORDS.get(item['type'], '')}: {item['title']}", item["text"]))
    for change in changes:
        name = names.get((change["kind"], change["id"]), change["id"])
        words = f"{STATE_WORDS[state_of(change['from'])]} → {STATE_WORDS[state_of(change['to'])]}"
        entries.append((change["ts_ms"], f"{page_url}#change-{change['kind']}-{change['id']}-{change['ts_ms']}",
                        f"{name}: {words}", f"{name} is {STATE_WORDS[state_of(change['to'])].lower()} since "
                                            f"{iso_from_ms(change['ts_ms'])}."))
    entries.sort(key=lambda entry: entry[0], reverse=True)
    updated = iso_from_ms(entries[0][0] if entries else view.generated_ms)
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
           f"<id>{escape(page_url)}</id><title>{escape(view.title)}</title><updated>{updated}</updated>",
           f'<link rel="self" type="application/atom+xml" href={quoteattr(page_url + "/feed")}/>',
           f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(page_url)}/>",
           "<author><name>Heimdall Live</name></author>"]
    for at_ms, entry_id, title, text in entries[:100]:
        out.append(f"<entry><id>{escape(entry_id)}</id><title>{escape(title)}</title>"
                   f"<updated>{iso_from_ms(at_ms)}</updated><link href={quoteattr(page_url)}/>"
                   f"<content type=\"text\">{escape(text)}</content></entry>")
    out.append("</feed>")
    return "\n".join(out)

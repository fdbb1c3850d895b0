"""What every page shares: the header with the connection badge, navigation, theme."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from nicegui import app, ui

STATIC_URL = "/heimdall-static"
STATIC_DIR = Path(__file__).with_name("static")

PAGES = [("/", "Dashboard"), ("/websdrs", "Receivers"), ("/system", "System")]

BADGE_HTML = """
<div class="flex items-center gap-2 no-wrap">
  <span id="hl-badge" data-state="connecting" role="status" aria-live="polite">
    <span class="dot"></span><span id="hl-badge-text">Connecting…</span>
  </span>
  <button id="hl-reconnect" type="button" onclick="heimdallReconnect()" hidden>Reconnect</button>
  <span id="hl-last-update"></span>
</div>
"""


def install() -> None:
    """Once per process: the static files and the tags every page loads."""
    app.add_static_files(STATIC_URL, STATIC_DIR)
    ui.add_head_html(
        f'<link rel="stylesheet" href="{STATIC_URL}/heimdall.css">'
        f'<script src="{STATIC_URL}/heimdall.js" defer></script>',
        shared=True,
    )


def header(active: str, principal: Any = None, figures: Any = None) -> None:
    """The page header, one row on a phone (its pages behind a menu); with `figures`
    (LiveState.figures), also the event-bus-down banner and the gateway's own problem."""
    pages = PAGES + ([("/targets", "Targets")] if principal is not None and principal.may("operator") else []) \
        + ([("/admin", "Admin")] if principal is not None and principal.may("admin") else [])
    with ui.header().classes("items-center justify-between no-wrap px-3 py-1 bg-slate-900 text-white"):
        with ui.row().classes("items-center gap-5 hl-header-row"):
            menu_button = ui.button(icon="menu").props('flat round dense color=white aria-label="Pages"')
            with menu_button.classes("hl-phone-only"), ui.menu():
                for path, label in pages:
                    ui.link(label, path).classes("block px-4 py-2 text-lg no-underline text-inherit")
                if principal is not None and principal.name is not None and principal.via == "session":
                    ui.html('<form method="post" action="/logout" class="px-4 py-2"><button type="submit" '
                            f'class="hl-signout">Sign out {html.escape(principal.name)}</button></form>',
                            sanitize=False)
            ui.html('<h1 class="hl-title">Heimdall Live</h1>', sanitize=False)
            for path, label in pages:
                link = ui.link(label, path).classes("text-lg text-white no-underline hover:underline hl-wide-nav")
                if path == active:
                    link.classes("font-bold underline")
        with ui.row().classes("items-center gap-3 hl-header-row"):
            ui.html(BADGE_HTML, sanitize=False)
            if principal is not None and principal.name is not None:
                ui.label(principal.name).classes("opacity-80 hl-user").tooltip(f"signed in ({principal.via})")
                if principal.via == "session":  # a plain form: the session cookie goes with it
                    ui.html('<form method="post" action="/logout" class="hl-user"><button type="submit" '
                            'class="hl-signout">Sign out</button></form>', sanitize=False)
            # Dark mode lives in the browser (system preference, or the operator's choice kept there).
            ui.button(icon="dark_mode").props('flat round dense color=white aria-label="Switch dark or light mode"') \
                .on("click", js_handler="() => heimdallToggleDark()").tooltip("Dark / light")
    ui.html('<div id="hl-stale-banner" hidden></div>', sanitize=False).classes("w-full")
    if figures is not None:  # several gateways on Redis, and Redis unreachable: say so on every page
        ui.label("Event bus down: this page shows what this instance has; ingested objects are kept and "
                 "published when it returns").classes("hl-problem w-full").props("role=alert") \
            .bind_visibility_from(figures, "event_bus", backward=lambda bus: bus == "down")
        ui.label().classes("hl-problem w-full").props("role=alert") \
            .bind_text_from(figures, "storage", backward=lambda why: f"Storage unavailable ({why}): what "
                            "arrives now is refused with 503 for its sender to retry, and checks are not kept; "
                            "this page shows what was known before") \
            .bind_visibility_from(figures, "storage", backward=bool)
        # The gateway's own problem, while it lasts: target alerts may be held meanwhile.
        ui.label().classes("hl-problem w-full").props("role=alert") \
            .bind_text_from(figures, "gateway_problem", backward=lambda text: f"Gateway problem: {text}") \
            .bind_visibility_from(figures, "gateway_problem", backward=bool)


def empty_table_slot(table: ui.table, text: str) -> None:
    """A calm line when a table has no rows (Quasar's default shows a warning icon)."""
    table.add_slot("no-data", f'<div class="hl-empty">{html.escape(text)}</div>')


def time_tag(iso: str | None) -> str:
    """A relative time ("12 s ago") that the browser keeps current, absolute on hover."""
    return f'<time datetime="{iso}">{iso}</time>' if iso else "—"

"""The pages. For now a front page that says what runs here and where the API is;
the operator dashboard (status, map, detections, connection badge) builds on it."""

from __future__ import annotations

from nicegui import ui

from backend.runtime import Runtime


def register(runtime: Runtime) -> None:
    config = runtime.settings.config

    @ui.page("/")
    def index() -> None:
        with ui.column().classes("w-full max-w-3xl mx-auto p-6 gap-4"):
            ui.label("Heimdall Live").classes("text-3xl font-bold")
            ui.label(
                f"Gateway up: {len(config.services)} services and {len(config.websdrs)} receivers configured."
            ).classes("text-lg")
            with ui.row().classes("gap-4"):
                ui.link("REST API reference", "/docs")
                ui.link("System status (JSON)", "/api/v1/system/status")
                ui.link("Receivers (JSON)", "/api/v1/websdrs")

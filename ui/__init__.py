"""NiceGUI pages. They read the shared state the hub feeds; they never fetch from a target."""

from __future__ import annotations

from fastapi import FastAPI
from nicegui import ui

from backend.runtime import Runtime
from ui import pages


def attach(app: FastAPI, runtime: Runtime) -> None:
    """Mount the pages on the gateway's FastAPI app (after its own routes)."""
    pages.register(runtime)
    ui.run_with(app, title="Heimdall Live", dark=None, show_welcome_message=False, reconnect_timeout=10.0)

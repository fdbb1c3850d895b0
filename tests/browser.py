"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for browser tests."""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("HEIMDALL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# The machine has no internet: no background calls home, no QUIC, a fresh profile.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage",
                 # Every tab is watched here: none is a throttled background tab.
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

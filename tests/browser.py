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


def watch_rows(prefix: str) -> str:
    """JS for page.evaluate: record in window.seenAt when each row whose frequency starts
    with `prefix` (e.g. "146.") first appears, by its "146.0125"-style text."""
    pattern = prefix.replace(".", "\\.")
    return """() => {
    window.seenAt = {};
    new MutationObserver(() => {
        document.querySelectorAll('td').forEach(td => {
            const m = td.textContent.match(/^(%s\\d{4}) MHz$/);
            if (m && !(m[1] in window.seenAt)) window.seenAt[m[1]] = Date.now();
        });
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}""" % pattern

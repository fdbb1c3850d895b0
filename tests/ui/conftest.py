"""What the browser tests share: one fake-target server and one headless Chromium per
module, and a page opened until its socket is connected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, launch
from tests.fake_targets import FakeTargets


@pytest.fixture(scope="module")
def targets():
    with FakeTargets() as fake:
        yield fake


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)")
    with playwright_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def open_page(browser, url: str, width: int = 1600, height: int = 1000):
    """A new tab on `url`, once its socket is connected; its JavaScript errors in `page.errors`."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    # Map tiles come from the internet, which this machine does not reach: do not wait for them.
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                           timeout=15_000)
    return page

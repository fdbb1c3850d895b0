"""Every page at a phone's width (390 px) and a desktop's (1600 px), on the demo and on a
network of 1,000 receivers, in a real Chromium, signed in as an admin (so /admin and
/targets are there too): nothing may scroll sideways (issue 31: a receiver's page was
422 px wide on a 390 px phone). And the screenshots a person looks at before calling the
pages done: the dashboard, a receiver's page and Targets, on desktop and phone, light and
dark, in test-output/screens/."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.auth.test_access import cli
from tests.fake_targets import FakeTargets, refused_url
from tests.gateway import Gateway
from tests.waiting import wait_for

playwright_api = pytest.importorskip("playwright.sync_api")
from tests.browser import CHROMIUM  # noqa: E402

SCREENS = Path(__file__).resolve().parents[2] / "test-output" / "screens"
PASSWORD = "layout-admin-password-1"
PHONE, DESKTOP = (390, 844), (1600, 1000)
RECEIVERS = 1000

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)", allow_module_level=True)


def thousand_config(targets: FakeTargets) -> str:
    """1,000 receivers across north-west Italy (one in eight refusing, a third KiwiSDR, the
    rest OpenWebRX from the real captures), long names and addresses, a service, an alert
    and a public status page: every page has something to lay out."""
    refused = refused_url()
    text = (f'[polling]\nwebsdrs_interval_s = 20\nservices_interval_s = 20\ntimeout_s = 2\n[map]\ntile_url = ""\n'
            f'[[services]]\nname = "inference"\nurl = "{targets.url("svc-inference", "healthy")}health"\n'
            '[[alerts]]\nname = "on-call"\nurls = ["json://127.0.0.1:9/a-rather-long/webhook/path/for-the-team"]\n'
            'targets = ["websdrs:*"]\n'
            '[[status_pages]]\nslug = "public"\ntitle = "Receivers of the north-west"\n'
            'websdrs = ["rx-0000", "rx-0001", "rx-0002"]\n')
    for i in range(RECEIVERS):
        kind = "kiwisdr" if i % 3 == 0 else "openwebrx"
        # One in eight refuses, at a long address that must wrap on a phone.
        url = (refused + "areceiversownstatuspagewithalongaddressthathasnoplacetobreakatall0123456789/") if i % 8 == 7 \
            else targets.url(f"{kind}-{i}")
        text += (f'[[websdrs]]\nid = "rx-{i:04d}"\nname = "Milano - Baggio receiver number {i:04d}"\n'
                 f'url = "{url}"\nkind = "{kind}"\n'
                 f"latitude = {44 + (i % 40) * 0.05:.4f}\nlongitude = {7 + (i // 40) * 0.08:.4f}\n")
    return text


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        from tests.browser import launch

        chromium = launch(playwright)
        yield chromium
        chromium.close()


def started(tmp_path: Path, config: str | None, *extra: str) -> Gateway:
    data = tmp_path / "data"
    accounts = data / "demo" if "--demo" in extra else data  # the demo keeps its data apart (main.py)
    assert cli(accounts, "user", "add", "boss", "--role", "admin", stdin=PASSWORD + "\n").returncode == 0
    path = None
    if config is not None:
        path = tmp_path / "c.toml"
        path.write_text(config)
    return Gateway(path, data, extra_args=extra).start(timeout=60)


@pytest.fixture(scope="module")
def thousand(tmp_path_factory):
    with FakeTargets() as targets:
        gw = started(tmp_path_factory.mktemp("thousand"), thousand_config(targets))
        try:
            wait_for(lambda: sum(w["status"] != "unknown" for w in httpx.get(gw.url + "/api/v1/websdrs").json())
                     == RECEIVERS, timeout=90, interval=0.5)
            yield gw
        finally:
            gw.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    gw = started(tmp_path_factory.mktemp("demo"), None, "--demo")
    try:
        wait_for(lambda: all(w["status"] != "unknown" for w in httpx.get(gw.url + "/api/v1/websdrs").json()),
                 timeout=60)
        yield gw
    finally:
        gw.stop()


def signed_in(browser, gw: Gateway, size: tuple[int, int], dark: bool = False):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=size == PHONE,
                                  has_touch=size == PHONE, color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(gw.url + "/login")
    page.fill("#name", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(gw.url + "/", wait_until="domcontentloaded")
    return context, page


def shown(page, url: str, path: str) -> None:
    """Open `path` and wait until what is laid out last is there."""
    page.goto(url + path, wait_until="domcontentloaded")
    if not path.startswith(("/login", "/status/")):
        page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                               timeout=20_000)
    late = {"/": ".leaflet-container", "/websdrs": "tr[data-key]", "/targets": "text=Alert rules"}
    if path in late:
        page.wait_for_selector(late[path], state="attached", timeout=20_000)
    if path.startswith("/websdrs/"):
        page.wait_for_selector("text=State changes", timeout=20_000)
        page.wait_for_selector("text=Response time, last 24 h", timeout=20_000)


def pages_of(gw: Gateway, receiver: str, public: bool) -> list[str]:
    service = httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]["name"]
    return ["/", "/websdrs", f"/websdrs/{receiver}", f"/services/{service}", "/system", "/targets", "/admin",
            *(["/status/public"] if public else [])]


@pytest.mark.parametrize("network", ["demo", "thousand"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_page_scrolls_sideways(browser, request, network, size):
    gw = request.getfixturevalue(network)
    receiver = "rx-0007" if network == "thousand" else httpx.get(gw.url + "/api/v1/websdrs").json()[0]["id"]
    context, page = signed_in(browser, gw, size)
    try:
        for path in pages_of(gw, receiver, public=network == "thousand") + ["/login"]:
            if path == "/login":
                context.clear_cookies()
            shown(page, gw.url, path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size[0], f"{network}: {path} is {width} px wide on a {size[0]} px screen"
        assert page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_of_the_pages_operators_keep_open(browser, thousand, demo, size, dark):
    """Saved for a person to look at: the demo's dashboard, receiver page and Targets,
    and the dashboard at 1,000 receivers."""
    name = f"{'phone' if size == PHONE else 'desktop'}-{'dark' if dark else 'light'}"
    SCREENS.mkdir(parents=True, exist_ok=True)
    for network, gw in (("demo", demo), ("thousand", thousand)):
        context, page = signed_in(browser, gw, size, dark)
        try:
            first = httpx.get(gw.url + "/api/v1/websdrs").json()[0]["id"]
            wanted = [("dashboard", "/")] if network == "thousand" else [
                ("dashboard", "/"), ("receiver", f"/websdrs/{first}"), ("targets", "/targets")]
            for label, path in wanted:
                shown(page, gw.url, path)
                if path == "/":
                    page.wait_for_selector(".hl-cluster, .hl-receiver", state="attached", timeout=20_000)
                if label == "receiver":  # the charts' own text has the page's contrast (issue 31: dim in dark)
                    page.wait_for_function("""(light) => [...document.querySelectorAll('.nicegui-echart')].every(n => {
                        const c = getElement(n.id.slice(1)).chart;
                        return c && c.getOption().xAxis[0].axisLabel.color === light; })""",
                                           arg="#e5e7eb" if dark else "#374151", timeout=10_000)
                page.screenshot(path=str(SCREENS / f"{network}-{label}-{name}.png"), full_page=True)
            assert page.errors == []
        finally:
            context.close()


def test_targets_lists_a_thousand_receivers_by_name_in_pages_with_a_search(browser, thousand):
    """Issue 31: the Name column showed the id, and every entry was one long page."""
    context, page = signed_in(browser, thousand, DESKTOP)
    try:
        shown(page, thousand.url, "/targets")
        page.get_by_text("Receivers (1000)").wait_for(timeout=20_000)
        assert "of the configuration file (" in page.locator("body").inner_text()
        table = page.locator(".hl-targets-table").first
        table.get_by_text("Milano - Baggio receiver number 0000 (rx-0000)").wait_for(timeout=10_000)
        assert table.locator("tbody tr").count() == 25
        page.get_by_label("Search receivers").fill("number 0999")
        wait_for(lambda: table.locator("tbody tr").count() == 1, timeout=10)
        assert "(rx-0999)" in table.locator("tbody tr").inner_text()
        assert page.errors == []
    finally:
        context.close()


def test_the_demo_says_it_reads_no_file(browser, demo):
    context, page = signed_in(browser, demo, DESKTOP)
    try:
        shown(page, demo.url, "/targets")
        page.get_by_text("of the demo's simulated network").wait_for(timeout=20_000)
        assert "configuration file" not in page.locator("body").inner_text()
    finally:
        context.close()

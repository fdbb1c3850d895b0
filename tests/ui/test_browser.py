"""The pages in a real headless Chromium against a real gateway and real fake targets.

Screenshots of the three pages land in test-output/ for a person to look at.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.fake_targets import FakeTargets, refused_url
from tests.waiting import wait_for

playwright_api = pytest.importorskip("playwright.sync_api")
from tests.browser import CHROMIUM, watch_rows  # noqa: E402
from tests.ui.conftest import open_page  # noqa: E402

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)", allow_module_level=True)


def config(targets: FakeTargets) -> str:
    text = f"""
[polling]
services_interval_s = 1
websdrs_interval_s = 1
timeout_s = 1
down_after = 1

[websocket]
heartbeat_interval_s = 30

[map]  # a tile server that does not answer, like the internet from a closed control room
tile_url = "{refused_url()}{{z}}/{{x}}/{{y}}.png"

[[services]]
name = "inference"
url = "{targets.url('inference', 'healthy')}health"

[[services]]
name = "training"
url = "{targets.url('training', 'healthy')}health"
"""
    for key, name, lat, lon, kind in (("torino", "Torino", 45.044, 7.672, "openwebrx"),
                                      ("genova", "Genova", 44.395, 8.956, "kiwisdr")):
        text += (f'[[websdrs]]\nid = "{key}"\nname = "{name}"\nurl = "{targets.url(key, kind)}"\nkind = "{kind}"\n'
                 f"latitude = {lat}\nlongitude = {lon}\n")
    return text


@pytest.fixture
def gateway(make_gateway, targets):
    for name, behaviour in (("inference", "healthy"), ("training", "healthy")):
        targets.set(name, behaviour)
    return make_gateway(raw=config(targets))


def badge_state(page) -> str:
    return page.get_attribute("#hl-badge", "data-state")


def detection(i: int, **extra) -> dict:
    return {"frequency_mhz": round(145.0 + i * 0.0125, 4), "snr_db": 12.5, "websdr_id": "torino",
            "timestamp": "2026-11-25T12:00:00Z", **extra}


def test_pages_load_without_javascript_errors_and_are_screenshotted(browser, gateway):
    wait_for(lambda: all(s["last_check"] for s in httpx.get(gateway.url + "/api/v1/system/status").json()["services"]))
    httpx.post(gateway.url + "/api/v1/signals", json=detection(1), headers=gateway.auth())
    httpx.post(gateway.url + "/api/v1/localizations", headers=gateway.auth(), json={
        "latitude": 45.07, "longitude": 7.6, "uncertainty_m": 3000, "confidence": 0.8,
        "timestamp": "2026-11-25T12:00:01Z",
        "uncertainty_ellipse": {"semi_major_m": 6000, "semi_minor_m": 2500, "orientation_deg": 30}})
    OUTPUT.mkdir(exist_ok=True)
    for path, name, marker in (("/", "dashboard", "text=Latest detections"),
                               ("/websdrs", "receivers", "tr[data-key=torino]"),
                               ("/websdrs/torino", "receiver", "text=State changes"),
                               ("/services/inference", "service", "text=State changes"),
                               ("/system", "system", "text=Events published")):
        page = open_page(browser, gateway.url + path)
        page.wait_for_selector(marker, timeout=10_000)
        page.wait_for_timeout(1500)  # charts and map draw
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
        assert page.errors == [], f"JavaScript errors on {path}: {page.errors}"
        page.close()


def test_a_service_going_down_turns_red_within_one_poll(browser, gateway, targets):
    page = open_page(browser, gateway.url + "/")
    row = page.locator("tr", has_text="inference")
    row.locator("text=healthy").wait_for(timeout=10_000)
    targets.set("inference", "503")
    changed_at = time.monotonic()
    row.locator("text=unhealthy").wait_for(timeout=10_000)
    assert time.monotonic() - changed_at < 1 + 1 + 2  # one poll interval, one timeout, and slack
    # The row is redrawn every poll: look at whichever dot is there now, until it is red.
    page.wait_for_function("""() => [...document.querySelectorAll('tr')].some(tr =>
        tr.textContent.includes('inference') && tr.querySelector('.hl-dot') &&
        getComputedStyle(tr.querySelector('.hl-dot')).backgroundColor.includes('220, 38, 38'))""", timeout=5_000)
    assert page.errors == []
    page.close()


def test_a_posted_detection_appears_in_the_feed_and_on_the_map(browser, gateway):
    page = open_page(browser, gateway.url + "/")
    on_map = page.locator("path.hl-detection").count()
    response = httpx.post(gateway.url + "/api/v1/signals", json=detection(7, snr_db=21.0), headers=gateway.auth())
    assert response.status_code == 201
    page.locator("td", has_text="145.0875 MHz").wait_for(timeout=5_000)
    page.wait_for_function(f"document.querySelectorAll('path.hl-detection').length > {on_map}", timeout=5_000)
    assert page.locator("tr", has_text="145.0875 MHz").locator("text=21.0 dB").count() == 1
    page.close()


def test_event_to_browser_latency(browser, gateway):
    """Measures publish-to-visible in a real tab and reports it (the target lives in docs/benchmarks.md)."""
    page = open_page(browser, gateway.url + "/")
    page.evaluate(watch_rows("146."))
    sent = {}
    for i in range(40):
        body = detection(0, frequency_mhz=round(146.0 + i * 0.0125, 4))
        sent[f"{body['frequency_mhz']:.4f}"] = time.time() * 1000
        assert httpx.post(gateway.url + "/api/v1/signals", json=body, headers=gateway.auth()).status_code == 201
        page.wait_for_function(f"Object.keys(window.seenAt).length >= {i + 1}", timeout=10_000)  # one at a time
    page.wait_for_function("Object.keys(window.seenAt).length >= 40", timeout=10_000)
    seen = page.evaluate("window.seenAt")
    latencies = sorted(seen[key] - sent[key] for key in sent)
    p50, p95 = statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "browser-latency.json").write_text(json.dumps({"events": len(latencies), "p50_ms": p50, "p95_ms": p95,
                                                             "max_ms": latencies[-1]}))
    print(f"\nPOST sent to row visible in the browser: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms")
    assert len(latencies) == 40
    page.close()


def test_badge_tells_the_truth_through_an_outage_and_reconnect_works_at_once(browser, gateway):
    page = open_page(browser, gateway.url + "/")
    assert badge_state(page) == "connected"
    assert page.locator("#hl-reconnect").is_hidden()
    gateway.stop()
    # Lost: red at once, the figures marked stale, the reason said plainly.
    page.wait_for_function("document.getElementById('hl-badge').dataset.state === 'disconnected'", timeout=5_000)
    assert "hl-stale" in page.evaluate("document.body.className")
    assert "Connection to the gateway lost" in page.inner_text("#hl-stale-banner")
    assert page.locator("#hl-reconnect").is_visible()
    # Then amber, counting the attempts and the seconds to the next one.
    page.wait_for_function("document.getElementById('hl-badge').dataset.state === 'reconnecting'", timeout=5_000)
    page.wait_for_function("document.getElementById('hl-badge-text').textContent.includes('next try in')",
                           timeout=10_000)
    page.wait_for_function("window.heimdallConnection.attempt >= 4", timeout=20_000)  # the next try is 8 s away
    assert badge_state(page) == "reconnecting"
    # The gateway comes back with new data; the button does not wait for the next try.
    gateway.start()
    posted = httpx.post(gateway.url + "/api/v1/signals", json=detection(11), headers=gateway.auth()).json()
    next_try_at = page.evaluate("window.heimdallConnection.nextTryAt")
    assert next_try_at and next_try_at - time.time() * 1000 > 500, "the gateway took too long to start for this test"
    page.click("#hl-reconnect")
    page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                           timeout=10_000)
    assert time.time() * 1000 < next_try_at  # connected before the scheduled try was due
    # The server was restarted, so NiceGUI reloads the page: it shows current figures, not stale ones.
    page.locator("td", has_text=f"{posted['frequency_mhz']:.4f} MHz").wait_for(timeout=10_000)
    page.wait_for_function("!document.body.classList.contains('hl-stale')", timeout=5_000)
    assert page.errors == []
    page.close()


def test_api_docs_render_with_no_network(browser, gateway):
    page = browser.new_page()
    leaving = []

    def only_loopback(route):
        if route.request.url.startswith(gateway.url):
            route.continue_()
        else:
            leaving.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(gateway.url + "/docs")
    page.locator(".swagger-ui .info .title", has_text="Heimdall Live").wait_for(timeout=15_000)
    assert page.locator(".opblock-summary-path", has_text="/api/v1/signals").count() >= 1
    page.goto(gateway.url + "/redoc")
    page.locator("h1", has_text="Heimdall Live").wait_for(timeout=15_000)
    # ReDoc's bundle asks for its own "powered by" logo; nothing the reference needs.
    assert [url for url in leaving if not url.endswith("/logo-mini.svg")] == []
    page.close()


def test_map_says_tiles_are_unavailable_and_has_a_legend_and_labels(browser, gateway):
    page = open_page(browser, gateway.url + "/")
    page.locator(".hl-tiles-notice").wait_for(state="visible", timeout=10_000)
    assert "Map tiles unavailable" in page.inner_text(".hl-tiles-notice")
    assert page.locator(".hl-map-label", has_text="Torino").count() == 1
    assert page.locator(".hl-map-label", has_text="Genova").count() == 1
    legend = page.inner_text(".hl-legend:not(.hl-coverage-legend)")  # the map's own, not the coverage's
    for word in ("online", "degraded", "offline", "detection", "localization"):
        assert word in legend
    assert page.errors == []
    page.close()


def test_headings_language_labels_and_dark_mode_kept_across_pages(browser, gateway):
    page = open_page(browser, gateway.url + "/")
    assert page.get_attribute("html", "lang") == "en-GB"
    assert page.locator("h1").inner_text() == "Heimdall Live"
    toggle = page.get_by_role("button", name="Switch dark or light mode")
    dark_before = "body--dark" in page.evaluate("document.body.className")
    toggle.click()
    page.wait_for_function(f"document.body.classList.contains('body--dark') === {str(not dark_before).lower()}")
    page.goto(gateway.url + "/system", wait_until="domcontentloaded")
    page.wait_for_function(f"document.body.classList.contains('body--dark') === {str(not dark_before).lower()}",
                           timeout=10_000)
    assert page.locator("h2", has_text="State changes").count() == 1
    page.close()


def test_a_dark_system_preference_is_followed_until_the_operator_chooses(browser, gateway):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(gateway.url + "/websdrs", wait_until="domcontentloaded")
    page.wait_for_function("document.body.classList.contains('body--dark')", timeout=10_000)  # followed
    page.get_by_role("button", name="Switch dark or light mode").click()  # the operator chooses light
    page.wait_for_function("!document.body.classList.contains('body--dark')", timeout=10_000)
    page.goto(gateway.url + "/system", wait_until="domcontentloaded")  # the choice outlasts the page
    page.get_by_role("heading", name="State changes").wait_for()
    page.wait_for_function("!document.body.classList.contains('body--dark')", timeout=10_000)
    context.close()


def test_login_flow_in_a_real_browser(browser, tmp_path):
    """Redirect to the login, a wrong password refused, the right one shows the live
    dashboard with a green badge, and signing out ends the session."""
    import subprocess
    import sys

    from tests.gateway import ROOT, Gateway

    (tmp_path / "c.toml").write_text("[auth]\nrequired = true\n")
    data = tmp_path / "data"
    subprocess.run([sys.executable, "main.py", "user", "add", "ops", "--data-dir", str(data)], cwd=ROOT,
                   input="correct horse battery\n", text=True, check=True, capture_output=True)
    gw = Gateway(tmp_path / "c.toml", data).start()
    try:
        page = browser.new_page()
        page.goto(gw.url + "/system")
        assert page.url.startswith(gw.url + "/login")
        page.fill("#name", "ops")
        page.fill("#password", "not the password")
        page.click("button[type=submit]")
        assert "Wrong account name or password" in page.inner_text("[role=alert]")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(gw.url + "/system")
        page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                               timeout=15_000)
        assert badge_state(page) == "connected"
        assert page.locator("text=Events published").count() == 1
        page.click("text=Sign out")
        page.wait_for_url(gw.url + "/login")
        page.goto(gw.url + "/")
        assert page.url.startswith(gw.url + "/login")
        page.close()
    finally:
        gw.stop()


def triangle_config(targets: FakeTargets) -> str:
    """Three OpenWebRX receivers whose 2 m profile covers 145.5 MHz (the captured 1.1.0
    answer), on a triangle around Turin, and a tile server that does not answer."""
    text = f'[polling]\nwebsdrs_interval_s = 1\ntimeout_s = 1\n[map]\ntile_url = "{refused_url()}{{z}}/{{x}}/{{y}}.png"\n'
    for key, lat, lon in (("torino", 45.07, 7.69), ("cuneo", 44.39, 7.55), ("asti", 44.90, 8.21)):
        text += (f'[[websdrs]]\nid = "{key}"\nname = "{key.title()}"\nurl = "{targets.url(key, "openwebrx")}"\n'
                 f'kind = "openwebrx"\nlatitude = {lat}\nlongitude = {lon}\n')
    return text


def test_the_map_draws_coverage_and_localizations_with_their_sigmas(browser, make_gateway, targets):
    gw = make_gateway(raw=triangle_config(targets))
    wait_for(lambda: httpx.get(gw.url + "/api/v1/readiness", params={"freq_mhz": 145.5}).json()["ready"] == 3)
    page = open_page(browser, gw.url + "/")
    note = page.locator(".hl-coverage-note")
    note.filter(has_text="3 of 3 receivers ready at 145.5 MHz; expected 1σ position error:").wait_for(timeout=10_000)
    page.wait_for_selector("img.hl-coverage", state="attached", timeout=5_000)
    OUTPUT.mkdir(exist_ok=True)
    page.locator(".nicegui-leaflet").screenshot(path=str(OUTPUT / "map-coverage-overview.png"))
    # A localization with an ellipse and the receivers that took part (one this gateway does not know).
    response = httpx.post(gw.url + "/api/v1/localizations", headers=gw.auth(), json={
        "latitude": 44.8, "longitude": 7.8, "uncertainty_m": 900, "confidence": 0.8, "frequency_mhz": 145.5,
        "timestamp": "2026-11-25T12:00:01Z", "websdr_ids": ["torino", "cuneo", "asti", "elsewhere"],
        "uncertainty_ellipse": {"semi_major_m": 1200, "semi_minor_m": 400, "orientation_deg": 35}})
    assert response.status_code == 201, response.text
    for sigma in (1, 2, 3):
        page.wait_for_selector(f"path.hl-sigma-{sigma}", state="attached", timeout=5_000)
    assert page.locator("path.hl-localization-link").count() == 3  # the unknown one is listed, not drawn
    # The 3 sigma ellipse is three times as wide as the 1 sigma one, on screen too.
    page.evaluate("""() => { const box = document.querySelector('.nicegui-leaflet');
                             getElement(box.id.slice(1)).map.setView([44.8, 7.8], 13, {animate: false}); }""")
    # Leaflet redraws its paths on the next frame: wait for the 1 sigma one to be drawn at that scale.
    page.wait_for_function("document.querySelector('path.hl-sigma-1').getBBox().width > 20", timeout=5_000)
    widths = page.evaluate("""() => [1, 2, 3].map(s => document.querySelector('path.hl-sigma-' + s)
                                      .getBBox().width)""")
    assert widths[2] / widths[0] == pytest.approx(3, rel=0.1) and widths[1] / widths[0] == pytest.approx(2, rel=0.1)
    page.locator("path.hl-localization-point").click(force=True)
    popup = page.locator(".hl-loc-details")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "1200 × 400 m, major axis 35° from north" in text and "145.5000 MHz" in text
    assert [a.inner_text() for a in popup.locator("a").all()] == ["Torino", "Cuneo", "Asti"]
    assert "elsewhere" in text
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "map-coverage.png"), full_page=True)
    # A receiver stops answering: the layer and its legend follow the readiness.
    targets.set("asti", "hang")
    note.filter(has_text="2 of 3 receivers ready at 145.5 MHz — 2 receivers ready: a position needs at least 3") \
        .wait_for(timeout=10_000)
    # Another frequency, typed by the operator: kept in the URL.
    page.get_by_label("Coverage frequency in MHz").fill("14.1")
    note.filter(has_text="0 of 3 receivers ready at 14.1 MHz").wait_for(timeout=5_000)
    page.wait_for_function("location.search.includes('freq=14.1')", timeout=5_000)
    assert page.errors == []
    page.close()


NEARBY = "".join(f"""
[[websdrs]]
id = "near-{n}"
name = "Receiver near Torino {n}"
url = "http://127.0.0.1:9/"
kind = "openwebrx"
latitude = {45.0 + n * 0.002}
longitude = {7.6 + n * 0.002}
""" for n in range(4)) + """
[[websdrs]]
id = "far"
name = "Genova"
url = "http://127.0.0.1:9/"
kind = "openwebrx"
latitude = 44.4
longitude = 8.9
"""


def test_map_labels_of_nearby_receivers_do_not_overlap(browser, make_gateway):
    gw = make_gateway(raw=NEARBY)
    page = open_page(browser, gw.url + "/")
    page.locator(".hl-map-label", has_text="Genova").wait_for(timeout=15_000)
    boxes = page.evaluate("""() => [...document.querySelectorAll('.hl-map-label')]
        .filter(label => getComputedStyle(label).display !== 'none')
        .map(label => { const r = label.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
    assert 2 <= len(boxes) < 5  # the far one and one of the four close ones; the other three wait for a hover
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    assert page.errors == []
    page.close()


def test_the_coverage_layer_follows_readiness_both_ways_on_an_open_tab(browser, make_gateway, targets):
    """Issue 31: on an open dashboard the layer once stayed green with every receiver
    offline, and was missing after a recovery (the push ran outside any tab's context and
    logged an ERROR each round). All offline: no ready area; back: the same layer again."""
    gw = make_gateway(raw=triangle_config(targets).replace("timeout_s = 1\n", "timeout_s = 1\ndown_after = 1\n", 1))
    wait_for(lambda: httpx.get(gw.url + "/api/v1/readiness", params={"freq_mhz": 145.5}).json()["ready"] == 3)
    page = open_page(browser, gw.url + "/")
    note = page.locator(".hl-coverage-note")
    note.filter(has_text="3 of 3 receivers ready").wait_for(timeout=10_000)
    page.wait_for_selector("img.hl-coverage", state="attached", timeout=5_000)
    drawn = page.get_attribute("img.hl-coverage", "src")
    try:
        for key in ("torino", "cuneo", "asti"):
            targets.set(key, "close")
        note.filter(has_text="0 of 3 receivers ready").wait_for(timeout=15_000)
        page.wait_for_selector("img.hl-coverage", state="detached", timeout=5_000)
        assert page.locator(".hl-card").filter(has_text="Receivers online").inner_text().count("0 / 3") == 1
    finally:
        for key in ("torino", "cuneo", "asti"):
            targets.set(key, "openwebrx")
    note.filter(has_text="3 of 3 receivers ready").wait_for(timeout=15_000)
    page.wait_for_selector("img.hl-coverage", state="attached", timeout=5_000)
    assert page.get_attribute("img.hl-coverage", "src") == drawn
    assert page.errors == []
    page.close()
    output = gw.stop()
    assert " ERROR " not in output and "slot stack" not in output, output[-3000:]


def test_an_empty_dashboard_is_not_green_and_shows_the_way_on(browser, make_gateway):
    """Issue 31: with nothing configured the cards said a green "0 / 0" and nothing led on."""
    gw = make_gateway(raw="[polling]\nservices_interval_s = 30\n")
    page = open_page(browser, gw.url + "/")
    page.get_by_text("Nothing is monitored yet").wait_for(timeout=10_000)
    # Anonymous here: the way on is to sign in as an operator, then Targets.
    assert page.locator(".hl-way-on a").first.get_attribute("href") == "/login?next=/targets"
    cards = page.locator(".hl-card")
    assert cards.filter(has_text="Receivers online").get_attribute("class").count("hl-card-empty") == 1
    assert page.locator(".hl-card-up").count() == 0
    assert page.errors == []
    page.close()

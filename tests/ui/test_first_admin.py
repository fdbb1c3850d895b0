"""The first admin of a fresh install, in a real Chromium: the login page leads to the
setup page, which creates the admin and signs them in, then closes for good."""

from __future__ import annotations

from tests.gateway import ROOT, Gateway, write_config

OUTPUT = ROOT / "test-output"


def test_the_first_admin_is_made_in_the_browser_and_the_setup_closes(browser, tmp_path):
    gw = Gateway(write_config(tmp_path / "c.toml"), tmp_path / "data").start()
    try:
        page = browser.new_page()
        page.goto(gw.url + "/login")
        page.get_by_text("First start: create the admin account").click()
        page.fill("#name", "root")
        page.fill("#password", "short")
        page.fill("#again", "short")
        page.evaluate("document.querySelectorAll('input').forEach(i => i.removeAttribute('minlength'))")
        page.get_by_role("button", name="Create the admin and sign in").click()
        page.get_by_text("at least 12 characters").wait_for()  # the server's own check, at the form
        page.fill("#password", "correct horse battery")
        page.fill("#again", "correct horse battery")
        page.get_by_role("button", name="Create the admin and sign in").click()
        page.wait_for_url("**/admin")
        page.get_by_role("heading", name="API tokens").wait_for()
        closed = browser.new_page()
        closed.goto(gw.url + "/setup")
        assert "this page is closed" in closed.content()
        closed.goto(gw.url + "/login")
        assert "First start" not in closed.content()
    finally:
        gw.stop()


def test_a_new_user_adds_a_receiver_in_the_browser_sees_it_probed_and_kept_after_a_restart(browser, tmp_path):
    """The first ten minutes: the first admin, a receiver of their own (an OpenWebRX-shaped
    fake) tested and saved on /targets, probed, still there after a restart."""
    from tests.fake_targets import FakeTargets

    with FakeTargets() as targets:
        gw = Gateway(write_config(tmp_path / "c.toml", interval=1, timeout=1), tmp_path / "data").start()
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(gw.url + "/setup")
            page.fill("#name", "root")
            page.fill("#password", "correct horse battery")
            page.fill("#again", "correct horse battery")
            page.get_by_role("button", name="Create the admin and sign in").click()
            page.wait_for_url("**/admin")
            page.goto(gw.url + "/targets")
            page.get_by_label("Receiver address").fill(targets.url("asti", "openwebrx"))
            page.get_by_role("button", name="Test the receiver once").click()
            page.get_by_text("kind: openwebrx (told from its answer)").wait_for()
            page.get_by_text("software: OpenWebRX").wait_for()
            assert page.get_by_label("Latitude").input_value() != ""  # from the position it reports
            page.get_by_label("Receiver id").fill("Asti!")
            page.get_by_label("Receiver name").fill("Asti")
            page.get_by_role("button", name="Save receiver").click()
            page.get_by_text("must be lower-case letters").wait_for()  # the file's rule, at the field
            page.get_by_label("Receiver id").fill("asti")
            page.get_by_role("button", name="Save receiver").click()
            page.get_by_text("asti saved").wait_for()
            page.goto(gw.url + "/websdrs?q=asti")
            page.locator("tr", has_text="Asti").get_by_text("online").wait_for()  # probed
            page.screenshot(path=str(OUTPUT / "targets-added.png"), full_page=True)
            gw.restart()
            page.goto(gw.url + "/websdrs?q=asti")
            page.locator("tr", has_text="Asti").get_by_text("online").wait_for()
            page.goto(gw.url + "/targets")
            page.locator("tr", has_text="asti").get_by_text("browser").wait_for()
            page.screenshot(path=str(OUTPUT / "targets-page.png"), full_page=True)
            page.get_by_role("button", name="Edit asti").click()  # edited in place, the id stays
            page.get_by_label("name", exact=True).fill("Asti (roof)")
            page.get_by_role("button", name="Save changes").click()
            page.get_by_text("asti changed").wait_for()
            page.goto(gw.url + "/websdrs?q=asti")
            page.locator("tr", has_text="Asti (roof)").get_by_text("online").wait_for()
        finally:
            gw.stop()

"""The first admin of a fresh install, in a real Chromium: the login page leads to the
setup page, which creates the admin and signs them in, then closes for good."""

from __future__ import annotations

from tests.gateway import Gateway, write_config


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

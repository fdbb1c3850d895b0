"""Issue 29, finding 5, in a real Chromium: an operator's edit dialog showed another
person's bot token, receiver password and webhook key. Secrets are shown redacted; a
field saved as shown keeps the stored secret; a retyped one replaces it."""

from __future__ import annotations

import json
import sqlite3

import httpx

from tests.auth.test_access import cli, create_token
from tests.gateway import ROOT, Gateway, write_config

OUTPUT = ROOT / "test-output"
BOT_TOKEN = "123456789:AAbbCCddEEffGGhhIIjj"
PASSWORD = "receiver-secret-77"


def stored(data, section: str, key: str) -> dict:
    with sqlite3.connect(data / "heimdall.db") as database:
        row = database.execute("SELECT entry FROM managed_targets WHERE section = ? AND key = ?",
                               (section, key)).fetchone()
    return json.loads(row[0])


def test_the_edit_dialog_shows_no_secret_and_saving_keeps_them(browser, tmp_path):
    data = tmp_path / "data"
    assert cli(data, "user", "add", "olga", "--role", "operator", stdin="correct horse battery\n").returncode == 0
    headers = {"Authorization": f"Bearer {create_token(data, 'someone-else', 'read,operator')}"}
    gw = Gateway(write_config(tmp_path / "c.toml"), data).start()
    try:
        rule = {"name": "pager", "targets": ["services:*"], "urls": [f"tgram://{BOT_TOKEN}/12345"]}
        receiver = {"id": "asti", "name": "Asti", "url": f"http://127.0.0.2:9/?password={PASSWORD}",
                    "kind": "http", "latitude": 44.9, "longitude": 8.2}
        for section, entry in (("alerts", rule), ("websdrs", receiver)):
            made = httpx.post(gw.url + "/api/v1/targets", headers=headers, json={"section": section, "entry": entry})
            assert made.status_code == 201, made.text
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(gw.url + "/login")
        page.fill("input[name=name]", "olga")
        page.fill("input[name=password]", "correct horse battery")
        page.locator("button[type=submit]").click()
        page.wait_for_url(gw.url + "/")
        page.goto(gw.url + "/targets")
        page.get_by_role("button", name="Edit pager").click()
        urls = page.get_by_label("urls (one a line)")
        urls.wait_for()
        assert BOT_TOKEN not in urls.input_value() and "AAbb" not in urls.input_value()
        assert BOT_TOKEN not in page.content()
        page.screenshot(path=str(OUTPUT / "targets-edit-redacted.png"), full_page=True)
        page.get_by_label("targets (one a line)").fill("services:*\nwebsdrs:*")
        page.get_by_role("button", name="Save changes").click()
        page.get_by_text("pager changed").wait_for()
        kept = stored(data, "alerts", "pager")
        assert kept["urls"] == [f"tgram://{BOT_TOKEN}/12345"] and kept["targets"] == ["services:*", "websdrs:*"]

        page.get_by_role("button", name="Edit asti").click()
        url = page.get_by_label("url", exact=True)
        url.wait_for()
        assert PASSWORD not in url.input_value() and PASSWORD not in page.content()
        page.get_by_role("button", name="Save changes").click()
        page.get_by_text("asti changed").wait_for()
        assert stored(data, "websdrs", "asti")["url"] == f"http://127.0.0.2:9/?password={PASSWORD}"
        page.get_by_role("button", name="Edit asti").click()
        page.get_by_label("url", exact=True).fill("http://127.0.0.2:9/?password=retyped-secret")
        page.get_by_role("button", name="Save changes").click()
        page.get_by_text("asti changed").wait_for()
        assert stored(data, "websdrs", "asti")["url"] == "http://127.0.0.2:9/?password=retyped-secret"
    finally:
        gw.stop()

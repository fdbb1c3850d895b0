"""The public status page against a real gateway that requires login: anonymous readers
get the page, its Atom feed and its badge, and nothing else; the page shows exactly
what its configuration lists (no URL, no error text, no unlisted target); it is light,
script-free and cached a minute; an announcement posted through the API appears on the
page and in the feed at once."""

from __future__ import annotations

import re
import subprocess
import sys

import feedparser
import httpx
import pytest

from tests.fake_targets import FakeTargets
from tests.gateway import ROOT, Gateway
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("status")
    with FakeTargets() as targets:
        config = tmp_path / "config.toml"
        config.write_text(f"""
[auth]
required = true

[polling]
services_interval_s = 1
websdrs_interval_s = 1
timeout_s = 1

[[services]]
name = "inference"
url = "{targets.url("inference", "healthy")}health"

[[services]]
name = "secret-internal-billing"
url = "{targets.url("billing", "503")}health"

[[websdrs]]
id = "torino"
name = "Torino"
url = "{targets.url("torino", "openwebrx")}"
kind = "openwebrx"
latitude = 45.04
longitude = 7.67

[[status_pages]]
slug = "network"
title = "Heimdall receiver network"
description = "The receivers that listen for Heimdall."
services = ["inference"]
websdrs = ["torino"]
show_latency = true
""")
        made = subprocess.run([sys.executable, "main.py", "token", "create", "oncall", "--scope", "read,operator",
                               "--data-dir", str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True,
                              check=True)
        gw = Gateway(config, tmp_path / "data").start()
        gw.operator = {"Authorization": "Bearer " + made.stdout.strip().splitlines()[-1]}
        # Checked before the first reader comes: the page is then kept a minute as built.
        wait_for(lambda: httpx.get(gw.url + "/api/v1/websdrs", headers=gw.auth()).json()[0]["status"] == "online",
                 timeout=20)
        yield gw, targets
        gw.stop()


def test_anonymous_readers_get_the_page_and_nothing_else(network):
    gw, targets = network
    page = httpx.get(gw.url + "/status/network")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "public, max-age=60"
    text = page.text
    assert "Heimdall receiver network" in text and "Torino" in text and "inference" in text
    assert "Operational" in text and " ms" in text  # show_latency
    assert "90 days" in text and "<svg" in text
    # Nothing beyond what it lists: no unlisted target, no address, no error text, no script or socket.
    for private in ("secret-internal-billing", "billing", f"127.0.0.1:{targets.port}", "HTTP 503", "<script",
                    "_nicegui", "openwebrx"):
        assert private not in text, private
    assert len(page.content) < 100 * 1024
    for path in ("/", "/websdrs", "/system", "/admin", "/api/v1/websdrs", "/api/v1/announcements", "/metrics",
                 "/api/v1/system/status", "/status/network/../../api/v1/websdrs"):
        answer = httpx.get(gw.url + path, follow_redirects=False)
        assert answer.status_code in (303, 401, 404), (path, answer.status_code)
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/login")
    assert httpx.get(gw.url + "/status/elsewhere").status_code == 404
    badge = httpx.get(gw.url + "/status/network/badge.svg")
    assert badge.status_code == 200 and badge.headers["content-type"] == "image/svg+xml"
    assert "all systems operational" in badge.text


def test_the_page_is_built_at_most_once_a_minute(network):
    gw, targets = network
    first = httpx.get(gw.url + "/status/network").text
    stamp = re.search(r"Updated ([0-9: -]+) UTC", first).group(1)
    targets.set("torino", "close")  # the receiver goes down meanwhile
    wait_for(lambda: httpx.get(gw.url + "/api/v1/websdrs", headers=gw.auth()).json()[0]["status"] == "offline")
    for _ in range(20):
        again = httpx.get(gw.url + "/status/network").text
        assert re.search(r"Updated ([0-9: -]+) UTC", again).group(1) == stamp and again == first
    targets.set("torino", "openwebrx")


def test_an_announcement_appears_on_the_page_and_in_the_feed(network):
    gw, _ = network
    body = {"type": "maintenance", "title": "Torino antenna work", "text": "Saturday 09:00-12:00 UTC.",
            "pages": ["network"]}
    assert httpx.post(gw.url + "/api/v1/announcements", json=body, headers=gw.auth()).status_code == 403  # read+ingest
    assert httpx.post(gw.url + "/api/v1/announcements", json={**body, "pages": ["nope"]},
                      headers=gw.operator).status_code == 422
    made = httpx.post(gw.url + "/api/v1/announcements", json=body, headers=gw.operator)
    assert made.status_code == 201, made.text
    page = httpx.get(gw.url + "/status/network").text
    assert "Maintenance: Torino antenna work" in page and "Saturday 09:00-12:00 UTC." in page

    feed = httpx.get(gw.url + "/status/network/feed")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert feed.headers["cache-control"] == "public, max-age=60"
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.feed.title == "Heimdall receiver network" and parsed.feed.updated
    titles = [entry.title for entry in parsed.entries]
    assert "Maintenance: Torino antenna work" in titles
    assert all(entry.id and entry.updated for entry in parsed.entries)
    assert any(title.startswith("Torino: ") for title in titles)  # its state changes too

    # An update, then archived: off the current list, into the archive; the feed keeps it.
    changed = httpx.patch(f"{gw.url}/api/v1/announcements/{made.json()['id']}", json={"type": "resolved"},
                          headers=gw.operator)
    assert changed.status_code == 200 and changed.json()["type"] == "resolved"
    archived = httpx.post(f"{gw.url}/api/v1/announcements/{made.json()['id']}/archive", headers=gw.operator)
    assert archived.status_code == 200 and archived.json()["archived_ms"]
    page = httpx.get(gw.url + "/status/network").text
    assert page.index("Earlier announcements") < page.index("Resolved: Torino antenna work")
    listed = httpx.get(gw.url + "/api/v1/announcements?archived=true", headers=gw.auth()).json()
    assert [a["title"] for a in listed][:1] == ["Torino antenna work"]

"""Probes from several sites, with real processes: a gateway and two agents
(`python main.py agent`) on loopback, each agent bound to its own source address
(127.0.0.2, 127.0.0.3), fake receivers shaped like OpenWebRX 1.1 (tests/fake_targets.py)
that reset connections from chosen source addresses, and a real webhook receiver.
With `[sites] quorum = 2` over three sites (the gateway's own and two agents'):
one site seeing a receiver down sends nothing; two send one DOWN and then one RESOLVED;
a killed agent's site goes stale, is alerted once, and changes no target's state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timezone

import httpx
import pytest

from tests.browser import launch
from tests.fake_targets import FakeTargets
from tests.gateway import ROOT, Gateway
from tests.waiting import wait_for
from tests.webhook import WebhookReceiver

SITES = {"site-a": "127.0.0.2", "site-b": "127.0.0.3"}
OUTPUT = ROOT / "test-output"


def config(picky: FakeTargets, calm: FakeTargets, hooks: WebhookReceiver) -> str:
    return f"""
[polling]
services_interval_s = 1
websdrs_interval_s = 1
timeout_s = 1
down_after = 1

[delivery]
timeout_s = 2
retries = 0

[sites]
quorum = 2

[[websdrs]]
id = "torino"
name = "Torino"
url = "{picky.url("torino", "openwebrx")}"
kind = "openwebrx"
latitude = 45.04
longitude = 7.67

[[websdrs]]
id = "cuneo"
name = "Cuneo"
url = "{calm.url("cuneo", "openwebrx")}"
kind = "openwebrx"
latitude = 44.38
longitude = 7.54

[[websdrs]]
id = "asti"
name = "Asti"
url = "{calm.url("asti", "openwebrx")}"
kind = "openwebrx"
latitude = 44.9
longitude = 8.2

[[alerts]]
name = "on-call"
urls = ["{hooks.url("on-call")}"]
targets = ["websdrs:*"]
failure_threshold = 2
success_threshold = 2
"""


def create_agent_token(data_dir, site: str) -> str:
    made = subprocess.run([sys.executable, "main.py", "token", "create", f"agent-{site}", "--scope", "agent",
                           "--site", site, "--data-dir", str(data_dir)], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return made.stdout.strip().splitlines()[-1]


def start_agent(gw: Gateway, token: str, site: str, *extra: str, out=subprocess.DEVNULL) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}, "HEIMDALL_AGENT_TOKEN": token}
    return subprocess.Popen([sys.executable, "main.py", "agent", "--gateway", gw.url, "--site", site,
                             "--bind-address", SITES[site], *extra], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, text=True)


def receiver(gw: Gateway, key: str) -> dict:
    answer = httpx.get(gw.url + "/api/v1/websdrs", timeout=5).json()
    return next(entry for entry in answer if entry["id"] == key)


def site_views(gw: Gateway, key: str) -> dict[str, str]:
    """Each counted site's status of a receiver."""
    return {site: seen["status"] for site, seen in receiver(gw, key)["sites"].items() if seen["counted"]}


@pytest.fixture
def network(tmp_path):
    with FakeTargets() as picky, FakeTargets() as calm, WebhookReceiver() as hooks:
        path = tmp_path / "config.toml"
        path.write_text(config(picky, calm, hooks))
        tokens = {site: create_agent_token(tmp_path / "data", site) for site in SITES}
        gw = Gateway(path, tmp_path / "data").start()
        agents = {site: start_agent(gw, tokens[site], site) for site in SITES}
        try:
            picky.calm = calm  # the other receivers' server
            yield gw, picky, hooks, agents, tokens
        finally:
            for agent in agents.values():
                agent.kill()
                agent.wait(10)
            gw.stop()


def pages_show_the_disagreement(gw: Gateway) -> None:
    """The receivers list marks Torino; its page has a row per site."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 900})
            page.goto(gw.url + "/websdrs?q=torino", wait_until="domcontentloaded")
            page.get_by_text("down from 1 of 3 sites").wait_for(timeout=15_000)
            page.goto(gw.url + "/websdrs/torino", wait_until="domcontentloaded")
            for seen in ("gateway: online", "site-a: offline", "site-b: online"):
                page.get_by_text(seen).wait_for(timeout=15_000)
            OUTPUT.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT / "sites-receiver.png"), full_page=True)
        finally:
            chromium.close()


def test_a_receiver_is_down_when_two_sites_agree_and_not_when_one_route_fails(network):
    gw, picky, hooks, agents, tokens = network
    wait_for(lambda: site_views(gw, "torino") == {"gateway": "online", "site-a": "online", "site-b": "online"},
             timeout=30)

    # One site's route to Torino breaks: that site sees it down, the two others do not.
    picky.refused_from = {SITES["site-a"]}
    wait_for(lambda: site_views(gw, "torino").get("site-a") == "offline", timeout=15)
    gw.settle(rounds=6)
    torino = receiver(gw, "torino")
    assert torino["status"] == "online" and torino["check_status"] == "online"
    assert "down from site-a only" in torino["error_message"]
    assert hooks.titles("on-call") == []
    pages_show_the_disagreement(gw)

    # A second site agrees: one DOWN, after the alert's threshold.
    picky.refused_from = {SITES["site-a"], SITES["site-b"]}
    wait_for(lambda: hooks.titles("on-call"), timeout=30)
    assert hooks.titles("on-call") == ["DOWN: receiver Torino is offline"]
    down = receiver(gw, "torino")
    assert down["status"] == "offline" and "down from 2 of 3 sites (site-a, site-b)" in down["error_message"]
    gw.settle(rounds=4)
    assert hooks.titles("on-call") == ["DOWN: receiver Torino is offline"]

    # Both routes mended: one RESOLVED.
    picky.refused_from = set()
    wait_for(lambda: len(hooks.titles("on-call")) == 2, timeout=30)
    gw.settle(rounds=4)
    assert hooks.titles("on-call") == ["DOWN: receiver Torino is offline", "RESOLVED: receiver Torino is online again"]

    # What each site saw, in the metrics.
    metrics = httpx.get(gw.url + "/metrics", headers=gw.auth(), timeout=5).text
    failures = [line.rsplit(" ", 1)[0] for line in metrics.splitlines() if line.startswith("heimdall_probe_failures_total")]
    assert any('site="site-a"' in f and 'id="torino"' in f for f in failures)
    assert any('site="site-b"' in f and 'id="torino"' in f for f in failures)
    assert not any('site="gateway"' in f and 'id="torino"' in f for f in failures)
    assert "heimdall_agents 2.0" in metrics


def test_a_killed_agent_goes_stale_is_alerted_once_and_changes_no_target(network):
    gw, picky, hooks, agents, tokens = network
    wait_for(lambda: set(site_views(gw, "cuneo")) == {"gateway", "site-a", "site-b"}, timeout=30)
    before = {key: receiver(gw, key)["since"] for key in ("torino", "cuneo", "asti")}

    agents["site-b"].send_signal(signal.SIGKILL)
    agents["site-b"].wait(10)
    stale = wait_for(lambda: next((s for s in httpx.get(gw.url + "/api/v1/sites", timeout=5).json()
                                   if s["name"] == "site-b" and s["stale"]), None), timeout=15)
    assert stale["state"] == "stale"
    wait_for(lambda: hooks.titles("on-call"), timeout=15)
    gw.settle(rounds=4)
    assert hooks.titles("on-call") == ["SITE PROBLEM: site-b is stale"]
    for key, since in before.items():
        entry = receiver(gw, key)
        assert entry["status"] == "online" and entry["since"] == since  # no target moved
        assert "site-b" not in site_views(gw, key)  # its last votes do not count

    # It comes back: one SITE RESOLVED.
    agents["site-b"] = start_agent(gw, tokens["site-b"], "site-b")
    wait_for(lambda: len(hooks.titles("on-call")) == 2, timeout=30)
    assert hooks.titles("on-call")[1] == "SITE RESOLVED: site-b reports again"


def test_an_agent_token_can_do_nothing_but_report_for_its_own_site(network):
    gw, picky, hooks, agents, tokens = network
    agent = {"Authorization": f"Bearer {tokens['site-a']}"}
    for method, path in (("GET", "/api/v1/websdrs"), ("GET", "/api/v1/system/status"), ("GET", "/metrics"),
                         ("GET", "/api/v1/sites"), ("POST", "/api/v1/signals"), ("POST", "/api/v1/silences"),
                         ("GET", "/api/v1/admin/tokens"), ("GET", "/admin"), ("GET", "/")):
        answer = httpx.request(method, gw.url + path, headers=agent, json={}, timeout=5)
        assert answer.status_code == 403, (method, path, answer.status_code)
    # Its own calls: its site's targets; a round is counted for its site, whatever the body says.
    plan = httpx.get(gw.url + "/api/v1/agent/targets", headers=agent, timeout=5).json()
    assert plan["site"] == "site-a" and {t["key"] for t in plan["targets"]["websdrs"]} == {"torino", "cuneo", "asti"}
    now = datetime.now(timezone.utc).isoformat()  # a valid time today, whatever the calendar says
    posted = httpx.post(gw.url + "/api/v1/agent/results", headers=agent, timeout=5, json={
        "group": "websdrs", "checked_at": now, "site": "site-b", "results": []})
    assert posted.status_code == 422 and posted.json()["field"] == "site"  # no speaking for another site
    # Other tokens may not report at all.
    assert httpx.get(gw.url + "/api/v1/agent/targets", headers=gw.auth(), timeout=5).status_code == 403


def test_rounds_wait_while_the_gateway_is_away_the_oldest_dropped_and_counted(network):
    gw, picky, hooks, agents, tokens = network
    agents["site-a"].kill()
    agents["site-a"].wait(10)
    agents["site-a"] = start_agent(gw, tokens["site-a"], "site-a", "--buffer-rounds", "3", out=subprocess.PIPE)
    lines = agents["site-a"].stdout
    assert "probing 0 services, 3 websdrs" in lines.readline()

    gw.stop()
    assert "not reachable: connection refused" in lines.readline()
    # Six of the agent's rounds while the gateway is away (its connections to Torino count them).
    start = picky.connections_from.get(SITES["site-a"], 0)
    wait_for(lambda: picky.connections_from.get(SITES["site-a"], 0) >= start + 2 * 6, timeout=30)
    gw.start()
    assert "answers again" in lines.readline()
    dropped = lines.readline()
    assert "rounds were dropped while the gateway was unreachable" in dropped
    assert int(dropped.split("] ")[1].split(" ")[0]) >= 3  # six or more rounds, three kept
    site = wait_for(lambda: next((s for s in httpx.get(gw.url + "/api/v1/sites", timeout=5).json()
                                  if s["name"] == "site-a" and s["dropped"]), None), timeout=15)
    assert site["dropped"] == int(dropped.split("] ")[1].split(" ")[0])


def test_a_site_that_reaches_nothing_is_set_aside_and_told_once_not_its_targets(network):
    gw, picky, hooks, agents, tokens = network
    wait_for(lambda: set(site_views(gw, "asti")) == {"gateway", "site-a", "site-b"}, timeout=30)
    # Site A's uplink fails: every receiver resets it, the same way.
    picky.refused_from = picky.calm.refused_from = {SITES["site-a"]}
    wait_for(lambda: hooks.titles("on-call"), timeout=20)
    gw.settle(rounds=4)
    assert hooks.titles("on-call") == ["SITE PROBLEM: site-a has its votes set aside"]
    site = next(s for s in httpx.get(gw.url + "/api/v1/sites", timeout=5).json() if s["name"] == "site-a")
    assert site["state"] == "problem" and "every target failed the same way (connection reset)" in site["problem"]
    for key in ("torino", "cuneo", "asti"):
        assert receiver(gw, key)["status"] == "online"
        assert "site-a" not in site_views(gw, key)
    picky.refused_from = picky.calm.refused_from = set()
    wait_for(lambda: len(hooks.titles("on-call")) == 2, timeout=20)
    assert hooks.titles("on-call")[1] == "SITE RESOLVED: site-a reports again"

"""deploy/: the nginx configuration in front of two gateways on Redis and PostgreSQL,
with Debian's nginx, redis-server and PostgreSQL and a real Chromium; and the compose
file's shape (no Docker engine here to run it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import httpx
import pytest
import yaml

from tests.browser import CHROMIUM, launch
from tests.gateway import ROOT, Gateway, write_config
from tests.nginx_server import NginxServer
from tests.redis_server import RedisServer
from tests.waiting import wait_for

COMPOSE = ROOT / "deploy" / "docker-compose.yml"


def test_the_compose_file_runs_two_gateways_on_redis_and_postgresql_behind_nginx():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"gateway-a", "gateway-b", "redis", "postgres", "nginx"} <= set(services)
    for name in ("gateway-a", "gateway-b"):
        env = services[name]["environment"]
        assert env["HEIMDALL_REDIS_URL"].startswith("redis://redis:")
        assert env["HEIMDALL_DATABASE_URL"].startswith("postgresql://heimdall:${POSTGRES_PASSWORD")  # no password in git
        assert env["HEIMDALL_TRUSTED_PROXIES"] == services["nginx"]["networks"]["heimdall"]["ipv4_address"] + "/32"
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert nginx.count("server gateway-a:8000") == 2 and nginx.count("server gateway-b:8000") == 2
    assert "--appendonly" in services["redis"]["command"]  # a Redis restart keeps the log


def test_the_platform_overlay_joins_the_platforms_network_broker_database_and_realm():
    """deploy/platform/: an overlay on the platform's own docker-compose.yml (its service
    names, its network, its credentials' variables), and a configuration that loads."""
    from backend.config.loading import load_config

    overlay = yaml.safe_load((ROOT / "deploy" / "platform" / "docker-compose.yml").read_text())
    live = overlay["services"]["heimdall-live"]
    assert live["networks"] == ["heimdall-network"]  # the platform's network, by its name in its compose file
    assert {"rabbitmq", "postgres", "redis"} <= set(live["depends_on"])
    env = live["environment"]
    assert env["HEIMDALL_FEED_URL"] == "amqp://${RABBITMQ_DEFAULT_USER:-guest}:${RABBITMQ_DEFAULT_PASS:-guest}@rabbitmq:5672/"
    assert env["HEIMDALL_DATABASE_URL"].startswith("postgresql://${POSTGRES_USER:-heimdall_user}:${POSTGRES_PASSWORD")
    config = load_config(ROOT / "deploy" / "platform" / "heimdall-live.toml", {})
    assert config.feed.publish and config.auth.oidc.issuer == "http://keycloak:8080/realms/heimdall"
    assert {s.name for s in config.services if s.kind == "push"} == {"backend", "training", "inference"}


def test_nginx_configuration_is_valid():
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
    import tempfile
    from pathlib import Path

    from tests.nginx_server import DEPLOYED, configured_for

    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(configured_for(DEPLOYED.read_text(), {"gateway-a:8000": "127.0.0.1:1",
                                                              "gateway-b:8000": "127.0.0.1:2"}, 8, Path(tmp)))
        result = subprocess.run([nginx, "-t", "-p", tmp, "-c", str(conf), "-g", f"pid {tmp}/pid; error_log {tmp}/e;"],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


@pytest.fixture
def behind_nginx(tmp_path, postgres):
    """Two gateways (login required) on one Redis and one PostgreSQL, behind deploy/nginx.conf."""
    for needed in ("nginx", "redis-server"):
        if shutil.which(needed) is None and not os.path.exists(f"/usr/sbin/{needed}"):
            pytest.skip(f"{needed} is not installed; .ci/run installs it")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    started = []
    redis = RedisServer(tmp_path / "redis").start()
    started.append(redis)
    database = postgres.new_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    account = subprocess.run([sys.executable, "main.py", "user", "add", "ops", "--role", "viewer"], cwd=ROOT,
                             input="correct horse battery\n", text=True, capture_output=True, timeout=60,
                             env={**env, "HEIMDALL_DATABASE_URL": database})
    assert account.returncode == 0, account.stderr
    gateways = {}
    for name in ("a", "b"):
        config = write_config(tmp_path / f"{name}.toml", interval=1,
                              extra=f'[auth]\nrequired = true\ntrusted_proxies = ["127.0.0.1/32"]\n'
                                    f'[cluster]\nredis_url = "{redis.url}"\n')
        gateways[name] = Gateway(config, tmp_path / f"data-{name}", env={"HEIMDALL_DATABASE_URL": database}).start()
        started.append(gateways[name])
    nginx = NginxServer(tmp_path / "nginx", {f"gateway-{n}:8000": f"127.0.0.1:{gw.port}"
                                            for n, gw in gateways.items()}).start()
    started.append(nginx)
    yield nginx, gateways
    for thing in reversed(started):
        thing.stop()


def served_by(page) -> str:
    """The instance id the System page marks as its own."""
    text = page.inner_text("text=/Gateway instances:/")
    return next(part.split(" ")[0] for part in text.split(": ", 1)[1].split(", ") if "(this page)" in part)


def test_a_page_behind_nginx_survives_the_death_of_its_gateway(behind_nginx):
    """Sticky pages, shared sessions: after kill -9 of the gateway behind a page, the page
    reconnects through nginx to the other one, still signed in, and stays live."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    nginx, gateways = behind_nginx
    ids = {name: gw.stats_with(gw.auth())["instance_id"] for name, gw in gateways.items()}
    with playwright_api.sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(nginx.url + "/system")
        page.fill("#name", "ops")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(nginx.url + "/system")
        page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                               timeout=15_000)
        page.wait_for_selector("text=(this page)", timeout=15_000)
        first = served_by(page)
        victim = next(name for name, found in ids.items() if found == first)
        survivor = "b" if victim == "a" else "a"

        os.kill(gateways[victim].process.pid, signal.SIGKILL)
        gateways[victim].process.wait()
        # The page reloads itself on the other gateway: still signed in, live again.
        page.wait_for_function(f"document.body.innerText.includes('{ids[survivor]} (poller) (this page)') || "
                               f"document.body.innerText.includes('{ids[survivor]} (this page)')", timeout=30_000)
        page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                               timeout=15_000)
        assert page.url == nginx.url + "/system"  # not sent back to the login
        page.screenshot(path=str(ROOT / "test-output" / "failover-system.png"))

        # Usable: the dashboard shows a detection posted through nginx after the failover.
        page.click("text=Dashboard")
        page.wait_for_url(nginx.url + "/")
        posted = httpx.post(nginx.url + "/api/v1/signals", headers=gateways[survivor].auth(),
                            json={"frequency_mhz": 145.8125, "snr_db": 9.0, "websdr_id": "torino",
                                  "timestamp": "2026-11-26T03:00:00Z"})
        assert posted.status_code == 201
        page.wait_for_selector("text=145.8125 MHz", timeout=10_000)
        browser.close()
    wait_for(lambda: httpx.get(nginx.url + "/healthz").status_code == 200)

"""Single sign-on against a real, OpenID-certified provider: panva/oidc-provider from npm
(tests/oidc/provider.mjs, Keycloak's shape of realm roles), started on a loopback port,
with real sign-ins in headless Chromium. Each role maps; a user with no allowed role, a
token signed by another key, an expired token, a token for another audience and a
replayed state are refused with a clear page; a role taken away at the provider is lost
at the next refresh of the session and at the next sign-in; signing out ends the
session at the provider too."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.browser import launch
from tests.gateway import ROOT, Gateway

HERE = Path(__file__).resolve().parent.parent / "oidc"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
USERS = {"ada": ["admin", "offline_access"], "val": ["viewer"], "olga": ["operator", "viewer"], "svc": ["service"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory) -> Path:
    """oidc-provider as pinned in tests/oidc/package-lock.json, installed from npm."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (Debian: apt-get install npm); .ci/run installs it")
    folder = tmp_path_factory.mktemp("oidc-provider")
    for name in ("package.json", "package-lock.json", "provider.mjs"):
        shutil.copy(HERE / name, folder / name)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True, timeout=300,
                   capture_output=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


class Network:
    """A provider and a gateway that trusts it, each on its own loopback port."""

    def __init__(self, folder: Path, tmp_path: Path) -> None:
        from joserfc.jwk import RSAKey

        self.users_file = tmp_path / "users.json"
        self.data_dir = tmp_path / "data"
        self.set_roles(USERS)
        key = RSAKey.generate_key(2048, parameters={"kid": "provider-key-1", "alg": "RS256", "use": "sig"})
        self.gateway_port, provider_port = free_port(), free_port()
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.issuer = f"http://127.0.0.1:{provider_port}"
        env = {**os.environ, "TEST_JWK": json.dumps(key.as_dict(private=True)),
               "TEST_USERS_FILE": str(self.users_file), "TEST_CLIENT_SECRET": CLIENT_SECRET}
        self.provider = subprocess.Popen(["node", "provider.mjs", str(provider_port), self.gateway_url], cwd=folder,
                                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.provider.stdout.readline()
        while line and "provider listening" not in line:  # its start-up warnings first
            line = self.provider.stdout.readline()
        assert line, "the identity provider did not start"
        config = tmp_path / "config.toml"
        config.write_text(f"""
[auth]
required = true

[auth.oidc]
issuer = "{self.issuer}"
client_id = "heimdall-live"
scopes = ["openid", "profile"]
refresh_interval_s = 5
""")
        # A local account beside single sign-on.
        subprocess.run([sys.executable, "main.py", "user", "add", "local-ops", "--role", "operator", "--data-dir",
                        str(tmp_path / "data")], cwd=ROOT, input="correct horse battery\n", text=True, check=True,
                       capture_output=True)
        self.gateway = Gateway(config, tmp_path / "data", port=self.gateway_port,
                               env={"HEIMDALL_OIDC_CLIENT_SECRET": CLIENT_SECRET}).start()

    def set_roles(self, users: dict[str, list[str]]) -> None:
        self.users_file.write_text(json.dumps(users))

    def tamper(self, mode: str) -> None:
        assert httpx.post(self.issuer + "/test/tamper", json={"mode": mode}, timeout=5).status_code == 200

    def stop(self) -> None:
        self.gateway.stop()
        self.provider.terminate()
        self.provider.wait(10)


@pytest.fixture(scope="module")
def network(node_modules, tmp_path_factory):
    made = Network(node_modules, tmp_path_factory.mktemp("sso"))
    yield made
    made.stop()


def sign_in(browser, network: Network, user: str, context=None):
    """A real sign-in: the gateway's button, the provider's login form (any password: its
    development login), its consent, back to the gateway. Returns the page where it ended."""
    context = context or browser.new_context()
    page = context.new_page()
    page.goto(network.gateway_url + "/login")
    page.get_by_text("Sign in with single sign-on").click()
    page.wait_for_url(network.issuer + "/**")
    if page.locator("input[name=login]").count():
        page.fill("input[name=login]", user)
        page.fill("input[name=password]", "any password")
        page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if page.url.startswith(network.issuer) and page.get_by_role("button", name="Continue").count():
        page.get_by_role("button", name="Continue").click()  # the consent prompt
    page.wait_for_url(network.gateway_url + "/**")
    page.wait_for_load_state()
    return page


def role_seen(page, network: Network) -> int:
    """The status /admin answers this browser: 200 for an admin, 403 for anyone else."""
    return page.context.request.get(network.gateway_url + "/admin", max_redirects=0).status


def test_each_allowed_role_signs_in_and_a_user_without_one_is_refused(browser, network):
    admin = sign_in(browser, network, "ada")
    assert admin.url == network.gateway_url + "/" and role_seen(admin, network) == 200
    viewer = sign_in(browser, network, "val")
    assert role_seen(viewer, network) == 403
    assert viewer.context.request.get(network.gateway_url + "/api/v1/websdrs").status == 200  # reads
    operator = sign_in(browser, network, "olga")
    silence = {"kind": "services", "id": "*", "minutes": 1}
    assert operator.context.request.post(network.gateway_url + "/api/v1/silences", data=silence).status == 201
    assert viewer.context.request.post(network.gateway_url + "/api/v1/silences", data=silence).status == 403
    nobody = sign_in(browser, network, "svc")
    assert nobody.url.startswith(network.gateway_url + "/auth/oidc/callback")
    assert "svc has no role that may sign in here (one of: viewer, operator, admin)" in nobody.content().lower()
    assert role_seen(nobody, network) in (303, 401)  # no session


@pytest.mark.parametrize("mode, says", [
    ("wrong-key", "not signed by the provider's keys"),
    ("expired", "the token has expired"),
    ("wrong-aud", "meant for another application"),
])
def test_a_bad_token_is_refused_with_a_clear_page(browser, network, mode, says):
    network.tamper(mode)
    try:
        page = sign_in(browser, network, "ada")
    finally:
        network.tamper("none")
    assert "Sign-in refused" in page.content() and says in page.content().lower()
    assert role_seen(page, network) in (303, 401)


def test_a_replayed_state_is_refused(browser, network):
    context = browser.new_context()
    callbacks = []
    context.on("request", lambda request: callbacks.append(request.url) if "/auth/oidc/callback" in request.url
               else None)
    page = sign_in(browser, network, "ada", context)
    assert role_seen(page, network) == 200 and len(callbacks) == 1
    page.goto(callbacks[0])
    assert "used already or has expired (a replayed state)" in page.content().lower()


def test_a_role_taken_away_at_the_provider_is_lost_at_the_refresh_and_the_next_sign_in(browser, network):
    page = sign_in(browser, network, "ada")
    page.goto(network.gateway_url + "/admin")
    page.get_by_role("heading", name="API tokens").wait_for()
    network.set_roles({**USERS, "ada": ["viewer"]})
    try:
        page.wait_for_url("**/login**", timeout=30_000)  # the next refresh (5 s) took the admin's page away
        again = sign_in(browser, network, "ada")
        assert role_seen(again, network) == 403
    finally:
        network.set_roles(USERS)


def test_signing_out_ends_the_session_at_the_provider(browser, network):
    context = browser.new_context()
    page = sign_in(browser, network, "ada", context)
    page.locator("form[action='/logout'] button").first.click()
    page.wait_for_url(network.issuer + "/**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(network.gateway_url + "/login**")
    assert role_seen(page, network) in (303, 401)
    # The provider's own session is over: signing in asks for the login again.
    page.get_by_text("Sign in with single sign-on").click()
    page.wait_for_url(network.issuer + "/**")
    page.locator("input[name=login]").wait_for()


def test_local_accounts_and_tokens_work_beside_it_and_the_secret_is_never_shown(network):
    signed = httpx.post(network.gateway_url + "/login", data={"name": "local-ops", "password": "correct horse battery"})
    assert signed.status_code == 303 and "heimdall_session=" in signed.headers["set-cookie"]
    assert httpx.get(network.gateway_url + "/api/v1/websdrs", headers=network.gateway.auth()).status_code == 200
    login = httpx.get(network.gateway_url + "/login").text
    assert "Sign in with single sign-on" in login and 'name="password"' in login
    assert CLIENT_SECRET not in "".join(network.gateway.output)


def test_password_sign_in_can_be_switched_off(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("""
[auth]
required = true
password_login = false

[auth.oidc]
issuer = "http://127.0.0.1:9"
client_id = "heimdall-live"
client_secret = "a-secret-in-the-file-0123456789"
""")
    subprocess.run([sys.executable, "main.py", "user", "add", "local-ops", "--data-dir", str(tmp_path / "data")],
                   cwd=ROOT, input="correct horse battery\n", text=True, check=True, capture_output=True)
    gw = Gateway(config, tmp_path / "data").start()
    try:
        login = httpx.get(gw.url + "/login").text
        assert "Sign in with single sign-on" in login and 'name="password"' not in login
        refused = httpx.post(gw.url + "/login", data={"name": "local-ops", "password": "correct horse battery"})
        assert refused.status_code == 403 and "switched off" in refused.text
        # The provider is down: a clear page, not an error.
        down = httpx.get(gw.url + "/auth/oidc/login")
        assert down.status_code == 502 and "cannot be reached now" in down.text
        assert "a-secret-in-the-file" not in "".join(gw.output)
    finally:
        gw.stop()


def test_a_provider_user_never_takes_over_another_by_a_look_alike_name(browser, network):
    """Issue 29, finding 1: the provider's `_alice` (a viewer) and `alice` (an admin) were
    both cleaned to the local account `alice`, each sign-in rewriting its role. Accounts are
    the provider's subjects now: `alice` gets a name of its own, and nobody inherits a role."""
    network.set_roles({**USERS, "_alice": ["viewer"], "alice": ["admin"]})
    try:
        viewer = sign_in(browser, network, "_alice")
        assert role_seen(viewer, network) == 403
        admin = sign_in(browser, network, "alice")
        assert role_seen(admin, network) == 200
        assert role_seen(viewer, network) == 403  # the viewer's session did not become the admin's
        again = sign_in(browser, network, "_alice")
        assert role_seen(again, network) == 403 and role_seen(admin, network) == 200
        database = sqlite3.connect(network.data_dir / "heimdall.db")
        rows = database.execute("SELECT name, role, oidc_subject FROM accounts WHERE source = 'oidc' "
                                "AND oidc_subject IN ('_alice', 'alice') ORDER BY oidc_subject").fetchall()
        assert rows == [("alice", "viewer", "_alice"), ("alice-2", "admin", "alice")]
        logins = database.execute("SELECT DISTINCT actor FROM audit WHERE action = 'login (single sign-on)' "
                                  "AND actor LIKE 'alice%'").fetchall()
        assert sorted(logins) == [("alice",), ("alice-2",)]  # the audit tells them apart
    finally:
        network.set_roles(USERS)


def test_sign_in_starts_are_bounded_per_address_and_a_long_next_is_not_kept(network):
    """Issue 29, finding 11: 500 anonymous starts with a 4 KB `next` stored 500 rows (2 MB).
    Last in this module: it leaves the address throttled for a minute."""
    with sqlite3.connect(network.data_dir / "heimdall.db") as database:
        before = database.execute("SELECT count(*) FROM oidc_flows").fetchone()[0]
    long_next = "/" + "a" * 4096
    with httpx.Client(base_url=network.gateway_url) as client:
        statuses = [client.get("/auth/oidc/login", params={"next": long_next}).status_code for _ in range(40)]
    # At most 30 a minute from one address (this module's earlier sign-ins count too, which is
    # why this test comes last in it); then 429, until the minute is over.
    first_refused = statuses.index(429)
    assert 1 <= first_refused <= 30 and set(statuses[:first_refused]) == {303} and set(statuses[first_refused:]) == {429}
    with sqlite3.connect(network.data_dir / "heimdall.db") as database:
        rows = database.execute("SELECT next FROM oidc_flows").fetchall()
    assert len(rows) - before <= 30 and all(len(row[0]) <= 512 for row in rows)

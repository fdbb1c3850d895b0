"""Access against a real gateway process: accounts, tokens and scopes, Origin, CORS,
throttling, redaction, the CLI, and the edge limits, each with a real client."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.gateway import ROOT, Gateway

REQUIRED = "[auth]\nrequired = true\n"


def cli(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    return subprocess.run([sys.executable, "main.py", *args, "--data-dir", str(data_dir)], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60, env=env)


def create_token(data_dir: Path, name: str, scopes: str) -> str:
    result = cli(data_dir, "token", "create", name, "--scope", scopes)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def locked(tmp_path):
    """A gateway that requires login, with a viewer account and read-only and ingest tokens."""
    (tmp_path / "c.toml").write_text(REQUIRED + '[http]\nallowed_origins = ["https://tools.example.org"]\n'
                                     '[[services]]\nname = "secret-svc"\n'
                                     'url = "http://user:hunter2@127.0.0.1:9/health?api_key=K3Y"\n')
    data = tmp_path / "data"
    assert cli(data, "user", "add", "ops", "--role", "viewer", stdin="correct horse battery\n").returncode == 0
    tokens = {"read": create_token(data, "dash", "read"), "ingest": create_token(data, "pipeline", "ingest")}
    gw = Gateway(tmp_path / "c.toml", data).start()
    yield gw, tokens
    gw.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


DETECTION = {"frequency_mhz": 145.5, "snr_db": 10.0, "websdr_id": "torino", "timestamp": "2026-11-25T12:00:00Z"}


def test_anonymous_gets_nothing_but_health_login_and_assets(locked):
    gw, _ = locked
    assert httpx.get(gw.url + "/healthz").status_code == 200
    assert httpx.get(gw.url + "/login").status_code == 200
    assert httpx.get(gw.url + "/heimdall-static/heimdall.css").status_code == 200
    for path in ("/api/v1/system/status", "/api/v1/websdrs", "/api/v1/events", "/api/v1/signals", "/openapi.json",
                 "/docs", "/metrics"):
        response = httpx.get(gw.url + path)
        assert response.status_code == 401 and response.json()["detail"], path
        assert response.headers["www-authenticate"] == "Bearer", path  # a scraper is told, not sent to a login
    page = httpx.get(gw.url + "/websdrs?x=1")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fwebsdrs%3Fx%3D1"
    assert httpx.get(gw.url + "/_nicegui_ws/socket.io/?EIO=4&transport=polling").status_code == 401


async def test_anonymous_updates_handshake_is_refused_and_a_token_opens_it(locked):
    gw, tokens = locked
    with pytest.raises(InvalidStatus) as refused:
        async with connect(gw.ws_url):
            pass
    assert refused.value.response.status_code == 403
    async with connect(gw.ws_url, additional_headers=bearer(tokens["read"])) as ws:
        assert json.loads(await ws.recv())["event"] == "connected"
    async with connect(gw.ws_url + "?access_token=" + tokens["read"]) as ws:  # browsers cannot set headers
        assert json.loads(await ws.recv())["event"] == "connected"


def test_scopes_read_cannot_ingest_and_ingest_cannot_read(locked):
    gw, tokens = locked
    assert httpx.get(gw.url + "/api/v1/system/status", headers=bearer(tokens["read"])).status_code == 200
    refused = httpx.post(gw.url + "/api/v1/signals", json=DETECTION, headers=bearer(tokens["read"]))
    assert refused.status_code == 403 and "ingest" in refused.json()["detail"]
    assert httpx.post(gw.url + "/api/v1/signals", json=DETECTION, headers=bearer(tokens["ingest"])).status_code == 201
    assert httpx.get(gw.url + "/api/v1/signals", headers=bearer(tokens["ingest"])).status_code == 403
    # HEIMDALL_API_TOKEN keeps working, with read and ingest.
    assert httpx.post(gw.url + "/api/v1/signals", json={**DETECTION, "snr_db": 11.0}, headers=gw.auth()).status_code == 201
    assert httpx.get(gw.url + "/api/v1/signals", headers=gw.auth()).status_code == 200


def test_origin_foreign_refused_even_with_a_token_own_and_allowed_accepted(locked):
    gw, tokens = locked
    headers = bearer(tokens["read"])
    foreign = httpx.get(gw.url + "/api/v1/system/status", headers={**headers, "Origin": "http://evil.example"})
    assert foreign.status_code == 403
    own = httpx.get(gw.url + "/api/v1/system/status", headers={**headers, "Origin": gw.url})
    assert own.status_code == 200 and "access-control-allow-origin" not in own.headers
    tool = httpx.get(gw.url + "/api/v1/system/status", headers={**headers, "Origin": "https://tools.example.org"})
    assert tool.headers["access-control-allow-origin"] == "https://tools.example.org"
    preflight = httpx.options(gw.url + "/api/v1/signals", headers={
        "Origin": "https://tools.example.org", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and "Authorization" in preflight.headers["access-control-allow-headers"]
    # Only allowed origins get CORS headers, whatever NiceGUI's socket.io would echo.
    own_socket = httpx.get(gw.url + "/_nicegui_ws/socket.io/?EIO=4&transport=polling",
                           headers={**headers, "Origin": gw.url})
    assert not [name for name in own_socket.headers if name.startswith("access-control-")]
    # NiceGUI's socket too, and a cross-site WebSocket.
    assert httpx.get(gw.url + "/_nicegui_ws/socket.io/?EIO=4&transport=polling",
                     headers={"Origin": "http://evil.example"}).status_code == 403
    assert gw.stats_with(headers)["origin_refused"] >= 2


async def test_cross_site_websocket_hijacking_is_refused(locked):
    gw, tokens = locked
    with pytest.raises(InvalidStatus) as refused:
        async with connect(gw.ws_url, origin="http://evil.example", additional_headers=bearer(tokens["read"])):
            pass
    assert refused.value.response.status_code == 403


def test_secrets_in_configured_urls_are_redacted(locked):
    gw, tokens = locked
    text = httpx.get(gw.url + "/api/v1/system/status", headers=bearer(tokens["read"])).text
    text += httpx.get(gw.url + "/api/v1/events", headers=bearer(tokens["read"])).text
    assert "hunter2" not in text and "K3Y" not in text and "user:" not in text
    assert "http://***@127.0.0.1:9/health?api_key=***" in text


def test_failed_tokens_are_throttled_per_address_and_logged(locked):
    gw, tokens = locked
    statuses = [httpx.get(gw.url + "/api/v1/system/status", headers=bearer(f"wrong-{i}")).status_code
                for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    blocked = httpx.get(gw.url + "/api/v1/system/status", headers=bearer("wrong-again"))
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    # A valid token is never refused for someone else's failures, from the same address too.
    assert httpx.get(gw.url + "/api/v1/system/status", headers=bearer(tokens["read"])).status_code == 200
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    assert other.get(gw.url + "/api/v1/system/status", headers=bearer("wrong-x")).status_code == 401
    log = gw.stop()
    assert log.count("refused credentials from 127.0.0.1") == 10
    assert "wrong-" not in log and tokens["read"] not in log  # never the secret


def test_failed_logins_are_throttled_audited_and_the_password_never_logged(locked):
    gw, tokens = locked
    client = httpx.Client(base_url=gw.url)
    for _ in range(10):
        assert client.post("/login", data={"name": "ops", "password": "Wr0ng-guess!"}).status_code == 401
    throttled = client.post("/login", data={"name": "ops", "password": "correct horse battery"})
    # A browser gets the login page with a plain sentence and the wait, not raw JSON.
    assert throttled.status_code == 429 and throttled.headers["content-type"].startswith("text/html")
    assert re.search(r"Try again in \d+ s", throttled.text) and int(throttled.headers["retry-after"]) > 0
    log = gw.stop()
    assert "failed login for account 'ops' from 127.0.0.1" in log and "Wr0ng-guess" not in log


def test_a_colleague_behind_the_same_address_signs_in_after_someone_elses_failures(tmp_path):
    (tmp_path / "c.toml").write_text(REQUIRED)
    data = tmp_path / "data"
    for name in ("ops", "alice"):
        assert cli(data, "user", "add", name, stdin="correct horse battery\n").returncode == 0
    gw = Gateway(tmp_path / "c.toml", data).start()
    try:
        client = httpx.Client(base_url=gw.url)
        statuses = [client.post("/login", data={"name": "ops", "password": f"guess {i}"}).status_code
                    for i in range(12)]
        assert statuses[-1] == 429
        assert client.post("/login", data={"name": "alice", "password": "correct horse battery"}).status_code == 303
    finally:
        gw.stop()


def test_login_cookie_is_httponly_samesite_and_logout_ends_the_session(locked):
    gw, _ = locked
    client = httpx.Client(base_url=gw.url)
    response = client.post("/login", data={"name": "ops", "password": "correct horse battery", "next": "/system"})
    assert response.status_code == 303 and response.headers["location"] == "/system"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP here
    assert client.get("/api/v1/system/status").status_code == 200
    assert client.get("/system").status_code == 200
    # An open redirect is not possible.
    again = client.post("/login", data={"name": "ops", "password": "correct horse battery",
                                        "next": "//evil.example/"})
    assert again.headers["location"] == "/"
    assert client.post("/logout", headers={"Origin": gw.url}).status_code == 303
    assert client.get("/api/v1/system/status").status_code == 401


def test_cli_users_and_tokens(tmp_path):
    data = tmp_path / "data"
    assert cli(data, "user", "add", "alice", "--role", "admin", stdin="short\n").returncode == 2  # too short
    added = cli(data, "user", "add", "alice", "--role", "admin", stdin="a long enough pass\n")
    assert added.returncode == 0, added.stderr
    assert cli(data, "user", "add", "alice", stdin="a long enough pass\n").returncode == 2  # exists
    assert re.search(r"^alice\tadmin\t", cli(data, "user", "list").stdout, re.M)
    assert cli(data, "user", "passwd", "alice", stdin="another long pass\n").returncode == 0
    token = create_token(data, "ci", "read,ingest")
    assert token.startswith("hl_") and len(token) > 40
    listed = cli(data, "token", "list").stdout
    assert "ci\tingest,read" in listed and token not in listed
    assert cli(data, "token", "create", "x", "--scope", "root").returncode == 2
    assert cli(data, "token", "revoke", "ci").returncode == 0
    assert cli(data, "token", "revoke", "ci").returncode == 2
    last = cli(data, "user", "remove", "alice")  # the last admin stays: setup never opens again
    assert last.returncode == 2 and "python main.py user add NAME --role admin" in last.stderr
    assert cli(data, "user", "add", "bob", "--role", "admin", stdin="a long enough pass\n").returncode == 0
    assert cli(data, "user", "remove", "alice").returncode == 0
    assert re.fullmatch(r"bob\tadmin\t.*\n", cli(data, "user", "list").stdout)
    assert oct((data / "heimdall.db").stat().st_mode & 0o777) == "0o600"
    assert oct(data.stat().st_mode & 0o777) == "0o700"


def test_first_start_with_login_required_points_to_the_setup_page_and_keeps_data_private(tmp_path):
    (tmp_path / "c.toml").write_text(REQUIRED)
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data", token=None).start()  # the token file is generated
    try:
        assert any("No admin account yet: open http://127.0.0.1:" in line and "/setup?code=" in line for line in gw.output)
        proxied = httpx.get(gw.url + "/setup", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403  # through a proxy on this machine: the code is needed
        assert not any("password" in line.lower() for line in gw.output)  # no password is printed
        client = httpx.Client(base_url=gw.url)
        made = client.post("/setup", data={"name": "root", "password": "correct horse battery",
                                           "again": "correct horse battery"})
        assert made.status_code == 303 and made.headers["location"] == "/admin"
        admin = client.get("/admin")
        assert admin.status_code == 200 and "Audit log" in admin.text and "first start setup" in admin.text
        for name in ("heimdall.db", "api_token", "session_secret"):
            assert oct((tmp_path / "data" / name).stat().st_mode & 0o777) == "0o600", name
        before = len(gw.output)
        gw.restart()
        assert gw.output[before:] and not any("No admin account yet" in line for line in gw.output[before:])
    finally:
        gw.stop()


def test_a_short_api_token_is_refused_at_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    (tmp_path / "c.toml").write_text("")
    result = subprocess.run([sys.executable, "main.py", "--data-dir", str(tmp_path), "--config", str(tmp_path / "c.toml")],
                            cwd=ROOT, env={**env, "HEIMDALL_API_TOKEN": "tooshort7"}, capture_output=True, text=True,
                            timeout=30)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "shorter than 16" in lines[0] and "tooshort7" not in lines[0]


def test_trusted_header_counts_only_from_trusted_proxies(tmp_path):
    (tmp_path / "c.toml").write_text(REQUIRED + 'trusted_header = "X-Forwarded-User"\n'
                                                'trusted_proxies = ["127.0.0.2/32"]\n')
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data").start()
    try:
        header = {"X-Forwarded-User": "sso-user"}
        assert httpx.get(gw.url + "/api/v1/system/status", headers=header).status_code == 401  # 127.0.0.1: not trusted
        proxy = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        assert proxy.get(gw.url + "/api/v1/system/status", headers=header).status_code == 200
        assert proxy.get(gw.url + "/api/v1/system/status").status_code == 401  # no header: no user
    finally:
        gw.stop()


# -- the edge -------------------------------------------------------------------------------


@pytest.fixture
def edgy(tmp_path):
    (tmp_path / "c.toml").write_text("[http]\nheader_timeout_s = 1\nmax_connections_per_address = 20\n"
                                     "keep_alive_s = 1\n"
                                     '[[services]]\nname = "x"\nurl = "http://127.0.0.1:9/health"\n')
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data").start()
    yield gw
    gw.stop()


def test_headers_not_finished_in_time_are_closed(edgy):
    sock = socket.create_connection(("127.0.0.1", edgy.port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    sock.settimeout(5)
    started = time.monotonic()
    assert sock.recv(100) == b""  # closed
    assert 0.9 < time.monotonic() - started < 3
    assert edgy.stats()["edge_header_timeouts"] >= 1


def test_idle_keep_alive_connections_are_closed(edgy):
    sock = socket.create_connection(("127.0.0.1", edgy.port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    answer = b""
    while not answer.endswith(b'"parts":{"storage":"up"}}'):  # the head and the body may come apart
        chunk = sock.recv(4096)
        assert chunk, answer  # closed before the whole answer: say what came
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    assert sock.recv(100) == b""  # closed by the gateway once idle for keep_alive_s
    assert time.monotonic() - started < 3


def test_oversized_headers_get_431_and_normal_ones_pass(edgy):
    sock = socket.create_connection(("127.0.0.1", edgy.port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 431")
    assert httpx.get(edgy.url + "/healthz", headers={"X-Fine": "a" * 30_000}).status_code == 200


def test_one_address_cannot_take_every_connection(edgy):
    hogs = [socket.create_connection(("127.0.0.1", edgy.port)) for _ in range(20)]
    try:
        extra = socket.create_connection(("127.0.0.1", edgy.port))
        extra.settimeout(5)
        assert extra.recv(100).startswith(b"HTTP/1.1 503")
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        assert other.get(edgy.url + "/healthz").status_code == 200
    finally:
        for sock in hogs:
            sock.close()


def test_unhandled_input_is_a_422_never_a_500(edgy):
    response = httpx.get(edgy.url + "/api/v1/history/services/x?end=9999-12-31T23:59:59-14:00")
    assert response.status_code == 422 and response.headers["content-type"] == "application/json"
    assert "end" in response.json()["detail"]


def test_bound_to_all_interfaces_in_a_loopback_only_namespace():
    """The real deployment shape (0.0.0.0), where nothing can leave the machine."""
    try:
        probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("no unshare here")
    if probe.returncode != 0:
        pytest.skip("cannot make a loopback-only network namespace here (unshare -n, ip)")
    result = subprocess.run(["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {sys.executable} "
                             f"tests/netns_check.py"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 11

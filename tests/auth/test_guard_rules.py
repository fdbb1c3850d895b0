"""The access rules as plain functions and the guard on a bare ASGI app (no server)."""

from __future__ import annotations

import asyncio
import json

import pytest

from backend.auth.networks import forwarded_client, networks
from backend.auth.origin import origin_allowed
from backend.auth.principal import query_token, without_query_token
from backend.auth.throttle import LoginThrottle, Throttle
from backend.safety.redact import redact_text, redact_url


@pytest.mark.parametrize("url, shown", [
    ("http://user:pw@host:8001/health?api_key=K&x=1", "http://***@host:8001/health?api_key=***&x=***"),
    ("http://host/health", "http://host/health"),
    ("https://token@host/", "https://***@host/"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_text_finds_urls_inside_messages():
    assert redact_text("Redirect for url 'http://a:b@h/x?k=v' failed") == "Redirect for url 'http://***@h/x?k=***' failed"


@pytest.mark.parametrize("origin, allowed", [
    ("http://127.0.0.1:8000", True),  # the gateway's own
    ("http://127.0.0.1:8001", False),  # another port is another origin
    ("https://127.0.0.1:8000", False),
    ("http://evil.example", False),
    ("https://tools.example.org", True),  # listed
    ("https://tools.example.org:443", True),
    ("https://heimdall.example.org", True),  # public_url
    ("null", False),
    ("", False),
])
def test_origin_rule(origin, allowed):
    assert origin_allowed(origin, "http", "127.0.0.1:8000", "https://heimdall.example.org/",
                          frozenset({"https://tools.example.org:443"})) is allowed


def test_throttle_blocks_after_ten_failures_a_minute_and_forgives():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    for _ in range(9):
        throttle.failed("a")
    assert throttle.retry_after("a") == 0
    throttle.failed("a")
    assert throttle.retry_after("a") == 60 and throttle.retry_after("b") == 0
    now[0] = 61
    assert throttle.retry_after("a") == 0
    # Failures spread over more than a minute never add up to a block.
    for i in range(30):
        now[0] = 100 + i * 7
        throttle.failed("c")
    assert throttle.retry_after("c") == 0


def test_login_throttle_spares_colleagues_behind_one_address_and_slows_spread_guesses():
    now = [0.0]
    logins = LoginThrottle(clock=lambda: now[0])
    for _ in range(12):
        logins.failed("ops", "203.0.113.5")
    assert logins.retry_after("ops", "203.0.113.5") == 60
    assert logins.retry_after("alice", "203.0.113.5") == 0  # the next desk, same NAT
    assert logins.retry_after("ops", "198.51.100.1") == 0  # ops from home
    # Many accounts from one address: the address is slowed.
    for i in range(LoginThrottle.ADDRESS_LIMIT):
        logins.failed(f"user{i}", "192.0.2.9")
    assert logins.retry_after("anyone", "192.0.2.9") > 0
    # One account from many addresses: the account is slowed.
    for i in range(LoginThrottle.ACCOUNT_LIMIT):
        logins.failed("root", f"10.0.{i // 250}.{i % 250}")
    assert logins.retry_after("root", "10.9.9.9") > 0 and logins.retry_after("alice", "10.9.9.9") == 0
    now[0] = 61
    assert logins.retry_after("ops", "203.0.113.5") == 0


def test_access_token_is_taken_out_of_the_query():
    assert without_query_token(b"initial=none&access_token=hl_x&a=1") == b"initial=none&a=1"


@pytest.mark.parametrize("query", [b"access%5Ftoken=hl_x", b"access_toke%6E=hl_x&a=1", b"a=1&access%5ftoken=hl_x",
                                   b"%61ccess_token=hl_x"])
def test_an_encoded_token_name_is_the_token_too(query):
    # As Starlette decodes a query: any spelling that means access_token to a route is one here.
    assert query_token(query) == "hl_x"
    assert b"hl_x" not in without_query_token(query)


def test_a_parameter_that_only_resembles_the_token_is_kept():
    assert query_token(b"my_access_token=x&access_tokens=y") is None
    assert without_query_token(b"my_access_token=x&access_tokens=y") == b"my_access_token=x&access_tokens=y"


@pytest.mark.parametrize("bound, public, configured, host, ok", [
    ("127.0.0.1", "", [], "127.0.0.1:8000", True),
    ("127.0.0.1", "", [], "localhost:8000", True),
    ("127.0.0.1", "", [], "[::1]:8000", True),
    ("127.0.0.1", "", [], "evil.test", False),  # DNS rebinding
    ("127.0.0.1", "", [], "evil.test:8000", False),
    ("127.0.0.1", "", [], "", False),
    ("127.0.0.1", "", [], "127.0.0.1:80:80", False),
    ("127.0.0.1", "https://heimdall.example.org", [], "heimdall.example.org", True),
    ("127.0.0.1", "", ["dash.example.org"], "DASH.example.org:8443", True),
    ("0.0.0.0", "https://heimdall.example.org", [], "127.0.0.1:8000", False),
    ("0.0.0.0", "https://heimdall.example.org", [], "heimdall.example.org:443", True),
    ("0.0.0.0", "", [], "anything.example", True),  # nobody named the gateway: login is required there
    ("192.0.2.7", "", [], "192.0.2.7:8000", True),
    ("192.0.2.7", "", [], "evil.test", False),
])
def test_the_hosts_the_gateway_answers(bound, public, configured, host, ok):
    from backend.auth.hosts import allowed_hosts, host_allowed
    assert host_allowed(host, allowed_hosts(bound, public, configured)) is ok


def test_security_headers_and_relative_redirects():
    from backend.auth.headers import content_security_policy, secured
    csp = content_security_policy("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", [])
    assert "frame-ancestors 'none'" in csp and "img-src 'self' data: blob: https://*.tile.openstreetmap.org" in csp
    assert "frame-ancestors https://ops.example.org" in content_security_policy("", ["https://ops.example.org"])
    out = dict(secured([(b"location", b"http://127.0.0.1:8000/admin?x=1")], csp=csp.encode(), deny_framing=True,
                       https=True, api=True, host_header="127.0.0.1:8000"))
    assert out[b"location"] == b"/admin?x=1"
    assert out[b"x-frame-options"] == b"DENY" and out[b"x-content-type-options"] == b"nosniff"
    assert out[b"referrer-policy"] == b"same-origin" and out[b"cache-control"] == b"no-store"
    assert out[b"strict-transport-security"].startswith(b"max-age=")
    plain = dict(secured([(b"cache-control", b"max-age=60"), (b"location", b"https://elsewhere.example/x")],
                         csp=b"x", deny_framing=False, https=False, api=True, host_header="127.0.0.1:8000"))
    assert plain[b"cache-control"] == b"max-age=60" and plain[b"location"] == b"https://elsewhere.example/x"
    assert b"x-frame-options" not in plain and b"strict-transport-security" not in plain


def test_an_unhandled_error_is_a_short_json_500_and_one_log_line(tmp_path, caplog):
    from backend.auth.guard import Guard
    from backend.auth.principal import Authenticator
    from backend.auth.store import AuthStore
    from backend.config.schema import Config
    from backend.storage.database import open_database

    database = open_database(tmp_path / "db")
    auth = Authenticator(Config(), database, AuthStore(database), "t" * 20, "s" * 48, login_required=False)

    async def broken(scope, receive, send):
        raise RuntimeError("a bug with a long story")

    from fastapi import FastAPI

    guard = Guard(broken, auth, FastAPI())
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/api/v1/x", "headers": [(b"host", b"127.0.0.1:8000")], "query_string": b"",
             "client": ("127.0.0.1", 5), "scheme": "http"}
    for _ in range(3):
        asyncio.run(guard(scope, receive, send))
    assert sent[0]["status"] == 500 and json.loads(sent[1]["body"]) == {"detail": "internal error"}
    lines = [r for r in caplog.records if r.name == "heimdall.errors"]
    assert len(lines) == 1 and "RuntimeError: a bug with a long story" in lines[0].getMessage()
    assert "Traceback" not in caplog.text and guard.stats.server_errors == 3
    database.connection.close()


@pytest.mark.parametrize("peer, forwarded, client", [
    ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # through the load balancer
    ("10.0.0.5", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the client's own claim on the left is not believed
    ("10.0.0.5", "203.0.113.7, 10.0.0.6", "203.0.113.7"),  # two trusted hops
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not from a trusted proxy: the header is ignored
    ("10.0.0.5", "not-an-address", "10.0.0.5"),
    ("10.0.0.5", "10.0.0.6", "10.0.0.5"),  # only proxies: the peer
    ("10.0.0.5", None, "10.0.0.5"),
])
def test_the_client_behind_trusted_proxies(peer, forwarded, client):
    assert forwarded_client(peer, forwarded, networks(["10.0.0.0/24"])) == client

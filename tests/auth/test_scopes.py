"""Scopes are declared beside each route and page, and the edge's table is derived from
the routes (backend/auth/scopes.py); scopes nest as roles do (issue 29, finding 13)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from backend.auth.scopes import ScopedRouter, granted
from tests.auth.test_access import create_token
from tests.gateway import Gateway

ROOT = Path(__file__).resolve().parents[2]

ASKED = [
    ("GET", "/healthz", None), ("POST", "/healthz", None), ("GET", "/login", None), ("POST", "/login", None),
    ("GET", "/setup", None), ("GET", "/auth/oidc/callback", None), ("GET", "/favicon.ico", None),
    ("GET", "/heimdall-static/heimdall.js", None), ("GET", "/_nicegui/3.18.0/static/quasar.js", None),
    ("GET", "/status/main", None), ("GET", "/status/main/feed", None), ("HEAD", "/status/main/badge.svg", None),
    ("GET", "/_nicegui_ws/socket.io/", "read"), ("GET", "/", "read"), ("GET", "/websdrs/torino", "read"),
    ("GET", "/api/v1/signals", "read"), ("POST", "/api/v1/signals", "ingest"),
    ("POST", "/api/v1/localizations", "ingest"), ("GET", "/admin", "admin"), ("GET", "/targets", "operator"),
    ("GET", "/api/v1/targets", "operator"), ("DELETE", "/api/v1/targets/websdrs/x", "operator"),
    ("POST", "/api/v1/targets/test", "operator"), ("GET", "/api/v1/silences", "read"),
    ("POST", "/api/v1/silences", "operator"), ("POST", "/api/v1/announcements", "operator"),
    ("POST", "/api/v1/incidents/7/acknowledge", "operator"), ("GET", "/api/v1/agent/targets", "agent"),
    ("POST", "/api/v1/agent/results", "agent"), ("GET", "/metrics", "read"), ("GET", "/ws/updates", "read"),
    ("GET", "/_nicegui/client/x/upload", "read"), ("GET", "/api/v1/no-such-path", "read"),
    ("GET", "/openapi.json", "read"),
]
BADGE = "/api/v1/badges/websdrs/torino/status.svg"


@pytest.fixture(scope="module")
def table():
    asked = [[m, p] for m, p, _ in ASKED] + [["GET", BADGE]]
    done = subprocess.run([sys.executable, "-m", "tests.auth.route_scopes"], input=json.dumps(asked), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_route_and_page_of_ours_declares_its_scope(table):
    undeclared = [entry["path"] for entry in table["ours"] if entry["scope"] is None]
    assert not undeclared, f"routes without a declared scope: {undeclared}"
    paths = {entry["path"] for entry in table["ours"]}
    assert {"/admin", "/targets", "/", "/api/v1/targets", "/setup"} <= paths  # pages and routes alike


def test_a_rest_route_cannot_be_made_without_a_scope():
    router = ScopedRouter()
    with pytest.raises(TypeError):
        router.get("/api/v1/undeclared")


@pytest.mark.parametrize("method, path, scope", ASKED)
def test_the_scope_each_path_needs_comes_from_its_route(table, method, path, scope):
    needed = {(m, p): n for m, p, n, _ in table["needed"]}
    assert needed[(method, path)] == scope


def test_badges_are_public_only_when_configured(table):
    badge = next(row for row in table["needed"] if row[1] == BADGE)
    assert badge[2] == "read" and badge[3] is None


def test_scopes_nest_as_roles_do():
    assert granted(frozenset({"admin"})) == {"admin", "operator", "read"}
    assert granted(frozenset({"operator"})) == {"operator", "read"}
    assert granted(frozenset({"ingest"})) == {"ingest"} and granted(frozenset({"agent"})) == {"agent"}


def test_an_admin_token_may_do_what_an_operator_may(tmp_path):
    """The attack's other side: a token made with `--scope read,ingest,admin` (as admins
    made them before the operator scope) got 403 on announcements, targets and silences."""
    (tmp_path / "c.toml").write_text('[auth]\nrequired = true\n[[status_pages]]\nslug = "public"\ntitle = "Public"\n')
    data = tmp_path / "data"
    admin_token, reader_token = create_token(data, "old-admin", "read,ingest,admin"), create_token(data, "r", "read")
    gw = Gateway(tmp_path / "c.toml", data).start()
    try:
        for token, allowed in ((admin_token, True), (reader_token, False)):
            headers = {"Authorization": f"Bearer {token}"}
            announced = httpx.post(gw.url + "/api/v1/announcements", headers=headers,
                                   json={"title": "Planned work", "text": "Torino restarts at 02:00", "type": "maintenance",
                                         "pages": ["public"]})
            silenced = httpx.post(gw.url + "/api/v1/silences", headers=headers,
                                  json={"kind": "services", "id": "*", "minutes": 1})
            listed = httpx.get(gw.url + "/api/v1/targets", headers=headers)
            statuses = (announced.status_code, silenced.status_code, listed.status_code)
            assert statuses == ((201, 201, 200) if allowed else (403, 403, 403)), (announced.text, silenced.text)
    finally:
        gw.stop()

"""The doors of issue 29, each tried as the attack it was: a real gateway process on
loopback, a real client (and real PostgreSQL for the race). Single sign-on look-alike
names are in test_oidc.py (the real identity provider), scopes in test_scopes.py, the
edit dialog in tests/ui/test_targets_secrets.py (Chromium)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import httpx
import psutil
import psycopg
import pytest

from tests.auth.test_access import cli, create_token
from tests.fake_targets import FakeTargets
from tests.gateway import Gateway
from tests.sites.test_agents import create_agent_token
from tests.waiting import wait_for
from tests.webhook import WebhookReceiver

pytestmark = pytest.mark.timeout(180)

ADMIN_PASSWORD = "correct horse battery"


class InternalPages(FakeTargets):
    """What an attacker wants read: pages on the gateway's own host (127.0.0.1)."""


class LanReceivers(FakeTargets):
    """Where the operator's receivers are: another loopback address, allowed."""

    host = "127.0.0.2"


def operator_headers(data) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(data, 'on-call', 'read,operator')}"}


# -- 2. a public status feed cannot fill the gateway's memory ------------------------------


def test_made_up_host_headers_neither_grow_memory_nor_reach_the_feed(tmp_path):
    (tmp_path / "c.toml").write_text('[[status_pages]]\nslug = "public"\ntitle = "Public"\n')
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data").start()
    try:
        feed = httpx.get(gw.url + "/status/public/feed")
        assert feed.status_code == 200 and f"{gw.url}/status/public" in feed.text
        process = psutil.Process(gw.process.pid)
        before = process.memory_info().rss
        with httpx.Client() as client:
            for count in range(300):  # the attack: a port of 50,000+ zeros, a different count each time
                host = "127.0.0.1:" + "0" * (50_000 + count) + "78"
                answer = client.get(gw.url + "/status/public/feed", headers={"Host": host})
                assert answer.status_code == 400
            for host in ("127.0.0.1:65536", "evil host", "127.0.0.1:80:80", "[::1", "a" * 300):
                assert client.get(gw.url + "/status/public/feed", headers={"Host": host}).status_code == 400
            # Loopback names the gateway answers: one cached feed serves both, each with its own links.
            other = client.get(f"http://localhost:{gw.port}/status/public/feed")
            assert other.status_code == 200 and f"http://localhost:{gw.port}/status/public" in other.text
        grown = (process.memory_info().rss - before) / 2**20
        print(f"RSS after 300 requests with made-up Host headers: {grown:+.1f} MiB")
        assert grown < 40  # before the fix: about +270 MiB for 300 (1,000 took 173 MB to 1.09 GB)
    finally:
        gw.stop()


def test_a_flood_of_foreign_origins_is_a_line_now_and_then_not_a_line_each(tmp_path):
    """Anyone can send an Origin: 300 refusals write one line (the rest counted in the
    next), as a refused Host does; a log nobody drains must not fill and block the process."""
    gw = Gateway(None, tmp_path / "data").start()
    try:
        with httpx.Client() as client:
            for _ in range(300):
                answer = client.get(gw.url + "/_nicegui_ws/socket.io/?EIO=4&transport=polling",
                                    headers={"Origin": "http://evil.example"})
                assert answer.status_code == 403
        assert gw.stats()["origin_refused"] == 300
    finally:
        gw.stop()
    lines = [line for line in gw.output if "refused a request from origin" in line]
    assert 1 <= len(lines) <= 2, lines[:5]


# -- 3, 7, 8. the first admin's setup ----------------------------------------------------


def test_setup_stays_closed_once_an_admin_existed_and_the_last_admin_stays(tmp_path):
    (tmp_path / "c.toml").write_text("[auth]\nrequired = true\n")
    data = tmp_path / "data"
    gw = Gateway(tmp_path / "c.toml", data).start()
    try:
        form = {"name": "root", "password": ADMIN_PASSWORD, "again": ADMIN_PASSWORD}
        assert httpx.post(gw.url + "/setup", data=form).status_code == 303  # on the machine itself
        refused = cli(data, "user", "role", "root", "operator")
        assert refused.returncode != 0 and "python main.py user add NAME --role admin" in refused.stderr
        assert cli(data, "user", "remove", "root").returncode != 0
        # Whatever took the last admin away (an older version, a hand-edited database), setup stays shut.
        with sqlite3.connect(data / "heimdall.db") as database:
            database.execute("UPDATE accounts SET role = 'operator'")
        assert httpx.get(gw.url + "/setup").status_code == 404
        assert httpx.post(gw.url + "/setup", data={**form, "name": "intruder"}).status_code == 404
        assert cli(data, "user", "add", "second", "--role", "admin", stdin=ADMIN_PASSWORD + "\n").returncode == 0
        assert cli(data, "user", "role", "root", "viewer").returncode == 0  # not the last admin any more
    finally:
        gw.stop()


@pytest.mark.parametrize("header", ["X-Forwarded-Host", "Via", "X-Client-IP", "True-Client-IP",
                                    "CF-Connecting-IP", "X-Forwarded-Proto", "Fastly-Client-IP"])
def test_setup_through_any_proxy_header_needs_the_code(tmp_path, header):
    gw = Gateway(None, tmp_path / "data").start()
    try:
        assert "Create the admin" in httpx.get(gw.url + "/setup").text  # the machine itself, no proxy
        proxied = httpx.get(gw.url + "/setup", headers={header: "203.0.113.9"})
        assert proxied.status_code == 403 and "setup code" in proxied.text
    finally:
        gw.stop()


def test_wrong_setup_codes_are_throttled_and_never_lock_out_the_right_one(tmp_path):
    gw = Gateway(None, tmp_path / "data").start()
    try:
        code = next(line for line in gw.output if "/setup?code=" in line).split("/setup?code=")[1].split(")")[0]
        code = code.split()[0]
        proxied = {"X-Forwarded-For": "203.0.113.9"}
        statuses = [httpx.get(gw.url + "/setup", params={"code": f"wrong-{n}"}, headers=proxied).status_code
                    for n in range(12)]
        assert statuses[:9] == [403] * 9 and statuses[-1] == 429  # GET counts too
        assert httpx.post(gw.url + "/setup", data={"code": "wrong", "name": "x", "password": "p"},
                          headers=proxied).status_code == 429
        right = httpx.get(gw.url + "/setup", params={"code": code}, headers=proxied)
        assert right.status_code == 200 and "Create the admin" in right.text
        made = httpx.post(gw.url + "/setup", headers=proxied, data={"code": code, "name": "root",
                                                                    "password": ADMIN_PASSWORD,
                                                                    "again": ADMIN_PASSWORD})
        assert made.status_code == 303
    finally:
        gw.stop()


def test_two_first_admins_racing_on_postgresql_make_one(postgres):
    """Two connections adding the first admin at once, 60 times: one admin each time (the
    insert was two statements' worth of race: 43 of 200 rounds left two admins)."""
    from backend.auth.store import AuthError, AuthStore
    from backend.storage.database import open_database

    url = postgres.new_database()
    one, two = open_database(url), open_database(url)
    stores = [AuthStore(one), AuthStore(two)]
    try:
        for round_number in range(60):
            one.connection.execute("DELETE FROM accounts")
            one.connection.execute("DELETE FROM shared_secrets WHERE name = 'setup_closed'")
            start, outcomes = threading.Barrier(2), []

            def add(store: AuthStore, name: str) -> None:
                start.wait()
                try:
                    store.add_first_admin(name, ADMIN_PASSWORD)
                    outcomes.append("made")
                except AuthError:
                    outcomes.append("refused")
            threads = [threading.Thread(target=add, args=(store, f"admin-{n}")) for n, store in enumerate(stores)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sorted(outcomes) == ["made", "refused"], round_number
            assert one.connection.execute("SELECT count(*) FROM accounts WHERE role = 'admin'").fetchone()[0] == 1
    finally:
        one.close_now()
        two.close_now()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    from tests.postgres_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


# -- 4. a destination policy for what is made at run time ---------------------------------


@pytest.fixture
def confined(tmp_path):
    """Receivers on the LAN (127.0.0.2) allowed; the gateway's own host (127.0.0.1) refused,
    as an exposed install would refuse it; an operator token; a receiver of the file's on
    the refused host, which stays probed (the administrator's own entries are free)."""
    with InternalPages() as internal, LanReceivers() as lan, WebhookReceiver() as hooks:
        internal.set("admin-ui", "websdr")  # a page with a <title>
        lan.set("asti", "openwebrx")
        (tmp_path / "c.toml").write_text(f"""
[polling]
services_interval_s = 1
websdrs_interval_s = 1
timeout_s = 2
[targets]
refuse_networks = ["169.254.0.0/16", "fe80::/10", "127.0.0.1/32"]

[[websdrs]]
id = "files-own"
name = "The file's own"
url = "http://127.0.0.1:{internal.port}/files-own/"
kind = "http"
latitude = 45.0
longitude = 7.6
""")
        data = tmp_path / "data"
        headers = operator_headers(data)
        gw = Gateway(tmp_path / "c.toml", data).start()
        try:
            yield gw, internal, lan, hooks, headers
        finally:
            gw.stop()


def trial(gw: Gateway, headers: dict, section: str, entry: dict) -> httpx.Response:
    return httpx.post(gw.url + "/api/v1/targets/test", headers=headers, json={"section": section, "entry": entry},
                      timeout=30)


def test_operators_cannot_make_the_gateway_read_refused_addresses(confined):
    gw, internal, lan, hooks, headers = confined
    port = internal.port
    for url in (f"http://127.0.0.1:{port}/admin-ui/", f"http://0x7f000001:{port}/admin-ui/",
                f"http://localhost:{port}/admin-ui/", f"http://[::ffff:127.0.0.1]:{port}/admin-ui/",
                "http://169.254.169.254/latest/meta-data/"):
        for entry in ({"url": url, "kind": "websdr"}, {"url": url}):  # a kind given, or each kind tried
            answer = trial(gw, headers, "websdrs", entry)
            text = answer.text
            assert "WebSDR Genova" not in text and "admin-ui" not in str(internal.hits), (url, text)
            assert answer.status_code == 422 or "not reached" in answer.json()["error"], (url, text)
    tcp = trial(gw, headers, "services", {"kind": "tcp", "address": f"127.0.0.1:{port}"})
    assert tcp.status_code == 422 and "refuse_networks" in tcp.json()["detail"]
    own = trial(gw, headers, "services", {"url": f"{gw.url}/healthz"})
    assert own.status_code == 422 and "this gateway itself" in own.json()["detail"]
    with_password = trial(gw, headers, "websdrs", {"url": f"http://user:pw@127.0.0.2:{lan.port}/asti/"})
    assert with_password.status_code == 422 and with_password.json()["field"] == "url"
    assert internal.hits.get("admin-ui", 0) == 0  # not one request reached the internal page
    allowed = trial(gw, headers, "websdrs", {"url": f"http://127.0.0.2:{lan.port}/asti/"})
    assert allowed.status_code == 200 and allowed.json()["status"] == "online"  # the LAN's receivers: fine
    # The file's own entry on the refused host is probed as before.
    wait_for(lambda: internal.hits.get("files-own", 0) >= 1, timeout=20)


def test_a_saved_target_is_checked_at_each_connection_not_only_when_saved(confined, tmp_path):
    """Saved while allowed, then the policy tightened (a reload): the next rounds connect
    nowhere, and the receiver says why."""
    gw, internal, lan, hooks, headers = confined
    entry = {"id": "lan-asti", "name": "Asti", "url": f"http://127.0.0.2:{lan.port}/asti/", "kind": "openwebrx",
             "latitude": 44.9, "longitude": 8.2}
    assert httpx.post(gw.url + "/api/v1/targets", headers=headers, json={"section": "websdrs", "entry": entry},
                      timeout=30).status_code == 201
    wait_for(lambda: lan.hits.get("asti", 0) >= 2, timeout=20)
    config = (tmp_path / "c.toml").read_text().replace('"127.0.0.1/32"]', '"127.0.0.0/8"]')
    (tmp_path / "c.toml").write_text(config)
    gw.process.send_signal(1)  # SIGHUP: read the file again

    def refused_now():
        rows = httpx.get(gw.url + "/api/v1/websdrs", headers=gw.auth(), timeout=5).json()
        row = next(r for r in rows if r["id"] == "lan-asti")
        return "not reached" in (row.get("error_message") or "")
    wait_for(refused_now, timeout=30)
    hits = lan.hits.get("asti", 0)
    start = internal.hits.get("files-own", 0)
    wait_for(lambda: internal.hits.get("files-own", 0) >= start + 2, timeout=20)  # two more rounds ran
    assert lan.hits.get("asti", 0) == hits


def test_notification_urls_made_at_run_time_obey_the_policy(confined):
    gw, internal, lan, hooks, headers = confined
    own = {"name": "to-setup", "targets": ["services:*"],
           "urls": [f"form://127.0.0.1:{gw.port}/setup?:name=evil&:password=evil-password-123"]}
    refused = httpx.post(gw.url + "/api/v1/targets", headers=headers, json={"section": "alerts", "entry": own})
    assert refused.status_code == 422 and "this gateway itself" in refused.json()["detail"]
    inside = {"name": "inside", "targets": ["services:*"], "urls": [f"json://127.0.0.1:{hooks.port}/inside"]}
    refused = httpx.post(gw.url + "/api/v1/targets", headers=headers, json={"section": "alerts", "entry": inside})
    assert refused.status_code == 422 and "refuse_networks" in refused.json()["detail"]
    assert hooks.received == []


# -- 5, 6. secrets are shown redacted, everywhere --------------------------------------------

SECRET_URLS = ["pbul://o.gn5kj6nfhv736I7jC3cj3QLRiyhgl98b", "prowl://" + "k" * 40, "ntfy://mysecrettopicname",
               "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "ifttt://WebHookID123@EventName",
               "json://127.0.0.2:8080/health/TOKENINPATH123"]
SECRETS = ["gn5kj6nfhv736I7jC3cj3QLRiyhgl98b", "k" * 40, "mysecrettopicname", "TIiajkdnlazkcOXrIdevi7FQ",
           "WebHookID123", "TOKENINPATH123"]


def test_listed_notification_urls_and_target_paths_hide_their_secrets(tmp_path):
    (tmp_path / "c.toml").write_text("")
    data = tmp_path / "data"
    headers = operator_headers(data)
    gw = Gateway(tmp_path / "c.toml", data).start()
    try:
        rule = {"name": "everywhere", "targets": ["services:*"], "urls": SECRET_URLS}
        made = httpx.post(gw.url + "/api/v1/targets", headers=headers, json={"section": "alerts", "entry": rule})
        assert made.status_code == 201, made.text
        service = {"name": "tokened", "url": "http://127.0.0.2:9/health/TOKENINPATH123"}
        assert httpx.post(gw.url + "/api/v1/targets", headers=headers,
                          json={"section": "services", "entry": service}).status_code == 201
        listed = httpx.get(gw.url + "/api/v1/targets", headers=headers).text
        for secret in SECRETS:
            assert secret.lower() not in listed.lower(), secret
        shown = next(t for t in httpx.get(gw.url + "/api/v1/targets", headers=headers).json()
                     if t["id"] == "everywhere")["entry"]["urls"]
        assert shown[-1] == "json://127.0.0.2:8080/health/T…3"  # what tells two rules apart stays
    finally:
        gw.stop()


def test_apprise_never_logs_a_key(tmp_path):
    key = "ShortProwlKey123"  # malformed: apprise warns about it, quoting it
    (tmp_path / "c.toml").write_text(f'[[alerts]]\nname = "phone"\nurls = ["prowl://{key}"]\ntargets = ["services:*"]\n'
                                     '[delivery]\nretries = 0\n')
    data = tmp_path / "data"
    headers = operator_headers(data)
    gw = Gateway(tmp_path / "c.toml", data).start()
    try:
        assert httpx.post(gw.url + "/api/v1/notifications/test", headers=headers,
                          json={"name": "phone"}).json()["delivered"] is False
        wait_for(lambda: any("phone" in json.dumps(n) and "failed" in json.dumps(n)
                             for n in gw.alerts()["notifications"]), timeout=30)
        output = gw.stop()
    finally:
        gw.stop()
    assert "prowl" in output.lower()  # apprise did say something about it
    assert key.lower() not in output.lower()


# -- 9. CSV export -------------------------------------------------------------------------


def test_a_receiver_name_cannot_be_a_spreadsheet_formula(tmp_path):
    (tmp_path / "c.toml").write_text('[[websdrs]]\nid = "evil"\nname = "=HYPERLINK(\\"http://x.test\\",\\"go\\")"\n'
                                     'url = "http://127.0.0.1:9/"\nkind = "http"\nlatitude = -45.0\n'
                                     'longitude = 7.6\n')
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data").start()
    try:
        text = httpx.get(gw.url + "/api/v1/websdrs/export", params={"format": "csv"}, headers=gw.auth()).text
    finally:
        gw.stop()
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["name"] == "'=HYPERLINK(\"http://x.test\",\"go\")" and row["latitude"] == "-45.0"


# -- 10. an agent's clock ----------------------------------------------------------------------


def test_a_round_dated_ahead_does_not_silence_the_sites_next_rounds(tmp_path):
    (tmp_path / "c.toml").write_text('[polling]\nwebsdrs_interval_s = 2\ntimeout_s = 1\n'
                                     '[[websdrs]]\nid = "torino"\nname = "Torino"\nurl = "http://127.0.0.1:9/"\n'
                                     'kind = "http"\nlatitude = 45.0\nlongitude = 7.6\n')
    data = tmp_path / "data"
    agent = {"Authorization": f"Bearer {create_agent_token(data, 'site-a')}"}
    gw = Gateway(tmp_path / "c.toml", data).start()

    def post(ahead_s: float, status: str, reason: str | None = None) -> httpx.Response:
        at = (datetime.now(timezone.utc) + timedelta(seconds=ahead_s)).isoformat()
        return httpx.post(gw.url + "/api/v1/agent/results", headers=agent, json={
            "group": "websdrs", "checked_at": at, "results": [
                {"key": "torino", "status": status, "error": reason, "response_time_ms": None}]})
    try:
        assert post(299, "offline").status_code == 422  # far ahead: refused
        assert post(25, "offline", "see http://u:topsecret@10.0.0.9/x?token=abc").status_code == 202
        assert post(0, "online").status_code == 202  # the genuine next round counts

        def site_a():
            rows = httpx.get(gw.url + "/api/v1/websdrs", headers=gw.auth(), timeout=5).json()
            return (next(r for r in rows if r["id"] == "torino").get("sites") or {}).get("site-a")
        seen = wait_for(lambda: (site_a() or {}).get("status"), timeout=15)
        assert seen == "online"
        assert post(0, "offline", "see http://u:topsecret@10.0.0.9/x?token=abc").status_code == 202
        reason = wait_for(lambda: (site_a() or {}).get("reason"), timeout=15)
        assert "10.0.0.9" in reason  # redacted, not dropped
        assert "topsecret" not in reason and "abc" not in reason
    finally:
        gw.stop()


# -- 11. anonymous requests do not write to the database ----------------------------------------


def test_made_up_sign_in_callbacks_write_nothing(tmp_path):
    (tmp_path / "c.toml").write_text('[auth.oidc]\nissuer = "http://127.0.0.1:9"\nclient_id = "heimdall-live"\n')
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data", env={"HEIMDALL_OIDC_CLIENT_SECRET": "s" * 32}).start()
    try:
        with httpx.Client() as client:
            for n in range(200):
                client.get(gw.url + "/auth/oidc/callback", params={"error": "access_denied",
                                                                   "error_description": f"row {n} " + "x" * 200})
        with sqlite3.connect(tmp_path / "data" / "heimdall.db") as database:
            assert database.execute("SELECT count(*) FROM audit").fetchone()[0] == 0
    finally:
        gw.stop()


# -- 12. a silence's start ---------------------------------------------------------------------


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z",
                                       "9999-12-31T23:00:00Z", "2019-01-01T00:00:00Z"])
def test_a_silence_far_in_the_past_or_future_is_a_clear_422(tmp_path, starts_at):
    (tmp_path / "c.toml").write_text("")
    data = tmp_path / "data"
    headers = operator_headers(data)
    gw = Gateway(tmp_path / "c.toml", data).start()
    try:
        for path in ("/api/v1/silences", "/api/v1/maintenance"):
            answer = httpx.post(gw.url + path, headers=headers,
                                json={"kind": "services", "id": "*", "minutes": 60, "starts_at": starts_at})
            assert answer.status_code == 422 and "starts_at" in answer.text, answer.text
    finally:
        gw.stop()


def test_two_gateways_on_one_postgresql_make_one_first_admin(tmp_path, postgres):
    """The same race through two real gateways on one database: both take the setup form
    at once; one admin is made, the other is told setup is closed."""
    url = postgres.new_database()
    gateways = [Gateway(None, tmp_path / f"data-{n}", env={"HEIMDALL_DATABASE_URL": url}).start() for n in (1, 2)]
    try:
        start, answers = threading.Barrier(2), []

        def set_up(gw: Gateway, name: str) -> None:
            start.wait()
            answers.append(httpx.post(gw.url + "/setup", data={"name": name, "password": ADMIN_PASSWORD,
                                                               "again": ADMIN_PASSWORD}, timeout=30).status_code)
        threads = [threading.Thread(target=set_up, args=(gw, f"admin-{n}")) for n, gw in enumerate(gateways)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(answers)[0] == 303 and sorted(answers)[1] in (404, 422), answers
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT count(*) FROM accounts WHERE role = 'admin'").fetchone()[0] == 1
    finally:
        for gw in gateways:
            gw.stop()

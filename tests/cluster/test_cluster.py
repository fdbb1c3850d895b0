"""Several gateways on one event log in Redis (and, where a test says so, one PostgreSQL):
real redis-server, real PostgreSQL, real gateway processes, real WebSocket clients."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import time

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from tests.fake_targets import FakeTargets
from tests.gateway import TOKEN, Gateway, write_config
from tests.redis_server import RedisServer
from tests.waiting import eventually, wait_for
from tests.ws.test_ws_updates import detection, post_signal, recv, subscribe

SUBSCRIBE = {"event": "subscribe", "data": {"events": ["signals:detected"]}}


@pytest.fixture
def cluster(tmp_path):
    """Start Redis and gateways on it; everything is stopped at the end of the test."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server); .ci/run installs it")
    started: list = []

    def redis_server(persistent: bool = False) -> RedisServer:
        server = RedisServer(tmp_path / "redis", persistent=persistent).start()
        started.append(server)
        return server

    def gateway(redis: RedisServer, name: str, replay: int = 10_000, interval: float = 30, extra: str = "",
                database_url: str = "", token: str | None = TOKEN) -> Gateway:
        config = write_config(tmp_path / f"{name}.toml", replay=replay, interval=interval,
                              extra=f'[cluster]\nredis_url = "{redis.url}"\n' + extra)
        gw = Gateway(config, tmp_path / f"data-{name}", token=token,
                     env={"HEIMDALL_DATABASE_URL": database_url} if database_url else None).start()
        started.append(gw)
        return gw

    yield redis_server, gateway
    for thing in reversed(started):
        thing.stop()


def rounds_heard(gw: Gateway, count: int) -> int:
    """Wait until `gw` has heard `count` more service rounds (a new `last_check` in its
    status each); the number heard."""
    seen: set = set()

    def heard_enough() -> bool:
        seen.add(httpx.get(gw.url + "/api/v1/system/status", timeout=5).json()["services"][0].get("last_check"))
        return len(seen) > count

    wait_for(heard_enough, timeout=20, interval=0.05)
    return len(seen) - 1


async def connected(gw: Gateway) -> tuple:
    ws = await connect(gw.ws_url)
    hello = await recv(ws)
    assert hello["event"] == "connected"
    return ws, hello["data"]


async def test_event_posted_on_one_instance_reaches_clients_of_the_other(cluster):
    redis_server, gateway = cluster
    redis = redis_server()
    a, b = gateway(redis, "a"), gateway(redis, "b")
    ws_a, hello_a = await connected(a)
    ws_b, hello_b = await connected(b)
    assert hello_a["epoch"] == hello_b["epoch"]  # one epoch for the cluster
    await subscribe(ws_a, SUBSCRIBE)
    await subscribe(ws_b, SUBSCRIBE)
    for i in range(3):
        assert (await post_signal(a if i % 2 == 0 else b, detection(i))).status_code == 201
    got_a = [(await recv(ws_a))["seq"] for _ in range(3)]
    got_b = [(await recv(ws_b))["seq"] for _ in range(3)]
    assert got_a == got_b and got_a == sorted(got_a) and len(set(got_a)) == 3  # one order everywhere
    await ws_a.close()
    await ws_b.close()


async def test_client_resumes_on_another_instance_without_a_gap(cluster):
    redis_server, gateway = cluster
    redis = redis_server()
    a, b = gateway(redis, "a"), gateway(redis, "b")
    ws_a, hello = await connected(a)
    await subscribe(ws_a, SUBSCRIBE)
    await post_signal(a, detection(1))
    position = (await recv(ws_a))["seq"]
    await ws_a.close()  # the client's instance goes away; events go on meanwhile
    for i in range(2, 6):
        await post_signal(a if i % 2 else b, detection(i))
    ws_b, _ = await connected(b)
    answer = await subscribe(ws_b, {**SUBSCRIBE, "data": {**SUBSCRIBE["data"],
                                                           "since": {"epoch": hello["epoch"], "seq": position}}})
    replayed = [m for m in answer if m["event"] == "signals:detected"]
    assert answer[-1]["event"] == "subscribed" and answer[-1]["data"]["recovered"] is True
    assert [m["data"]["frequency_mhz"] for m in replayed] == [detection(i)["frequency_mhz"] for i in range(2, 6)]
    await ws_b.close()


async def test_instance_joining_late_replays_only_what_the_log_still_holds(cluster):
    redis_server, gateway = cluster
    redis = redis_server()
    a = gateway(redis, "a", replay=5)
    ws_a, hello = await connected(a)
    for i in range(40):  # far more than the log keeps (trimmed to about 5, in whole nodes)
        await post_signal(a, detection(i))
    b = gateway(redis, "b", replay=5)
    ws_b, _ = await connected(b)
    answer = await subscribe(ws_b, {**SUBSCRIBE, "data": {**SUBSCRIBE["data"],
                                                           "since": {"epoch": hello["epoch"], "seq": 1}}})
    assert answer[-1]["data"]["recovered"] is False  # b does not claim what it never had
    await ws_a.close()
    await ws_b.close()


async def test_instance_joining_after_the_log_was_trimmed_starts_from_the_current_state(cluster):
    """The latest status lives beside the log: a late joiner shows it, not `unknown`."""
    redis_server, gateway = cluster
    redis = redis_server()
    with FakeTargets() as targets:
        service = f'[[services]]\nname = "inference"\nurl = "{targets.url("svc", "healthy")}health"\n'
        a = gateway(redis, "a", replay=5, interval=60, extra=service)  # one round at start, the next in a minute
        wait_for(lambda: httpx.get(a.url + "/api/v1/system/status").json()["services"][0]["status"] == "healthy")
        for i in range(300):  # the status round leaves the trimmed stream
            await post_signal(a, detection(i))
        b = gateway(redis, "b", replay=5, interval=60, extra=service)
        assert [s["status"] for s in httpx.get(b.url + "/api/v1/system/status").json()["services"]] == ["healthy"]


@pytest.mark.parametrize("persistent", [True, False])
async def test_redis_restart(cluster, persistent):
    """With persistence nothing is lost and clients resume; without it the log starts a
    new epoch and a resuming client learns it may have missed something."""
    redis_server, gateway = cluster
    redis = redis_server(persistent=persistent)
    a = gateway(redis, "a")
    ws, hello = await connected(a)
    await subscribe(ws, SUBSCRIBE)
    await post_signal(a, detection(1))
    position = (await recv(ws))["seq"]
    await ws.close()
    staying, _ = await connected(a)  # connected across the restart
    redis.restart()
    async def accepted() -> bool:  # the gateway reconnects by itself
        return (await post_signal(a, detection(2))).status_code == 201
    await eventually(accepted, timeout=15, interval=0.5)
    # The gateway has read the log again: the new detection, or the new epoch.
    if persistent:
        await asyncio.to_thread(wait_for, lambda: a.stats()["last_seq"] > position)
    else:
        await asyncio.to_thread(wait_for, lambda: a.stats()["epoch"] != hello["epoch"])
    ws, hello_after = await connected(a)
    answer = await subscribe(ws, {**SUBSCRIBE, "data": {**SUBSCRIBE["data"],
                                                         "since": {"epoch": hello["epoch"], "seq": position}}})
    recovered = answer[-1]["data"]["recovered"]
    if persistent:
        assert staying.close_code is None  # nothing happened that it needs to know
        assert hello_after["epoch"] == hello["epoch"] and recovered is True
        assert [m["data"]["frequency_mhz"] for m in answer if m["event"] == "signals:detected"] == \
            [detection(2)["frequency_mhz"]]
    else:
        await asyncio.wait_for(staying.wait_closed(), 5)
        assert staying.close_code == 1012  # its position means nothing in the new epoch
        assert hello_after["epoch"] != hello["epoch"] and recovered is False
    await ws.close()
    await staying.close()


async def test_one_poller_and_failover_after_kill_9(cluster):
    redis_server, gateway = cluster
    redis = redis_server()
    with FakeTargets() as targets:
        service = f'[[services]]\nname = "inference"\nurl = "{targets.url("svc", "healthy")}health"\n'
        a = gateway(redis, "a", interval=1.0, extra=service)
        b = gateway(redis, "b", interval=1.0, extra=service)
        wait_for(lambda: a.stats()["poller_leader"] or b.stats()["poller_leader"])
        stats = [a.stats(), b.stats()]
        assert sorted(s["poller_leader"] for s in stats) == [False, True]
        assert len({s["instance_id"] for s in stats}) == 2 and None not in {s["instance_id"] for s in stats}
        before, started = targets.hits.get("svc", 0), time.monotonic()
        # Each instance's hub hears every round; 5 rounds heard, the target was probed once each.
        await asyncio.to_thread(rounds_heard, a, 5)
        elapsed, polled = time.monotonic() - started, targets.hits["svc"] - before
        # One poller at one round a second probes about once a second; two would probe
        # twice as often (and each instance hears both pollers' rounds, so the rounds
        # heard alone would not tell).
        assert polled <= elapsed + 2, (polled, elapsed)
        assert elapsed < 5 * 2  # and at one round a second, not fewer
        leader, other = (a, b) if stats[0]["poller_leader"] else (b, a)
        os.kill(leader.process.pid, signal.SIGKILL)
        leader.process.wait()
        killed = time.monotonic()
        wait_for(lambda: other.stats()["poller_leader"], timeout=10)
        took = time.monotonic() - killed
        assert took < 2 * 1.0, f"took {took:.2f} s to hand polling over"  # the rule: within two intervals
        hits = targets.hits["svc"]
        wait_for(lambda: targets.hits["svc"] > hits, timeout=5)  # and the new poller probes


async def test_stored_while_redis_is_down_is_published_once_when_it_returns(cluster):
    redis_server, gateway = cluster
    redis = redis_server(persistent=True)
    a = gateway(redis, "a")
    ws, _ = await connected(a)
    await subscribe(ws, SUBSCRIBE)
    redis.stop()
    body = detection(7, id="det-while-down")
    assert (await post_signal(a, body)).status_code == 201  # stored: that is what 201 means
    assert (await post_signal(a, body)).status_code == 200  # a retry: the same record, still waiting
    redis.start()
    event = await recv(ws, timeout=15)  # the client stayed connected through the outage
    assert event["event"] == "signals:detected" and event["data"]["id"] == "det-while-down"
    assert (await post_signal(a, body)).status_code == 200
    await post_signal(a, detection(8))
    following = await recv(ws)
    assert following["data"]["frequency_mhz"] == detection(8)["frequency_mhz"]  # published once, not twice
    await ws.close()


async def test_every_live_instance_is_listed_and_a_dead_one_goes(cluster):
    redis_server, gateway = cluster
    redis = redis_server()
    a, b = gateway(redis, "a"), gateway(redis, "b")
    wait_for(lambda: len(a.stats()["instances"]) == 2)
    stats_a, stats_b = a.stats(), b.stats()
    assert stats_a["event_bus"] == "up"
    assert {i["id"] for i in stats_a["instances"]} == {stats_a["instance_id"], stats_b["instance_id"]}
    os.kill(b.process.pid, signal.SIGKILL)
    b.process.wait()
    wait_for(lambda: [i["id"] for i in a.stats()["instances"]] == [stats_a["instance_id"]], timeout=15)
    redis.stop()
    wait_for(lambda: a.stats()["event_bus"] == "down", timeout=10)  # and the instance still answers


def test_two_instances_announce_a_down_once(cluster, tmp_path):
    """Every instance hears the poller's events; only the poller alerts."""
    from tests.alerting.test_alerts import config as alerting_config
    from tests.webhook import WebhookReceiver

    redis_server, _ = cluster
    redis = redis_server()
    with FakeTargets() as targets, WebhookReceiver() as hooks:
        raw = alerting_config(targets, hooks) + f'\n[cluster]\nredis_url = "{redis.url}"\n'
        gateways = []
        for name in "ab":
            path = tmp_path / f"alerting-{name}.toml"
            path.write_text(raw)
            gateways.append(Gateway(path, tmp_path / f"alerting-data-{name}").start())
        try:
            wait_for(lambda: any(gw.stats()["poller_leader"] for gw in gateways))
            targets.set("inference", "503")
            wait_for(lambda: hooks.titles("on-call"), timeout=15)
            poller = next(gw for gw in gateways if gw.stats()["poller_leader"])
            poller.settle(rounds=3)  # more rounds judged: a second DOWN would have come by now
            for gw in gateways:
                assert gw.alerts()["notifications_pending"] == 0
            assert hooks.titles("on-call") == ["DOWN: service inference is unhealthy"]
        finally:
            for gw in gateways:
                gw.stop()


def test_a_killed_pollers_undelivered_down_is_sent_by_the_next_poller(cluster, postgres, tmp_path):
    """The poller was sending a DOWN to a webhook that hangs when it was killed. The
    incident is shared (PostgreSQL), so the next poller raises no DOWN of its own: it
    sends the one kept in the database, told late, once the dead poller's hold lapsed."""
    from backend.alerting.kept import HOLD_S, RENEW_S
    from tests.alerting.test_alerts import config as alerting_config
    from tests.webhook import WebhookReceiver

    redis_server, _ = cluster
    redis, database = redis_server(), postgres.new_database()
    with FakeTargets() as targets, WebhookReceiver() as hooks:
        hooks.hanging.add("on-call")
        raw = alerting_config(targets, hooks).replace("timeout_s = 2\nretries = 0\n", "timeout_s = 60\nretries = 0\n")
        raw += f'\n[cluster]\nredis_url = "{redis.url}"\n'
        gateways = []
        for name in "ab":
            (tmp_path / f"kept-{name}.toml").write_text(raw)
            gateways.append(Gateway(tmp_path / f"kept-{name}.toml", tmp_path / f"kept-data-{name}",
                                    env={"HEIMDALL_DATABASE_URL": database}).start())
        try:
            wait_for(lambda: any(gw.stats()["poller_leader"] for gw in gateways))
            poller = next(gw for gw in gateways if gw.stats()["poller_leader"])
            other = next(gw for gw in gateways if gw is not poller)
            targets.set("inference", "503")
            wait_for(lambda: poller.alerts()["notifications_pending"] == 1, timeout=15)  # the webhook hangs
            os.kill(poller.process.pid, signal.SIGKILL)
            poller.process.wait()
            hooks.hanging.discard("on-call")
            wait_for(lambda: hooks.titles("on-call"), timeout=HOLD_S + 2 * RENEW_S + 15)
            other.settle(rounds=3)  # a second DOWN, or the kept one twice, would have come by now
            told = [m for m in hooks.received if m["path"] == "/on-call"]
            assert [m["title"] for m in told] == ["DOWN: service inference is unhealthy"]
            assert other.alerts()["notifications_queued"] == 0
            assert "Told late: queued at " in told[0]["message"]
        finally:
            for gw in gateways:
                gw.stop()


async def test_the_same_id_posted_to_two_instances_at_once_is_one_201_one_200_one_event(cluster, postgres):
    redis_server, gateway = cluster
    redis, database = redis_server(), postgres.new_database()
    a, b = gateway(redis, "a", database_url=database), gateway(redis, "b", database_url=database)
    ws, _ = await connected(b)
    await subscribe(ws, SUBSCRIBE)
    rounds = 10
    for n in range(rounds):
        body = detection(n, id=f"twice-{n}")
        answers = await asyncio.gather(post_signal(a, body), post_signal(b, body))
        assert sorted(r.status_code for r in answers) == [200, 201]
        assert answers[0].json() == answers[1].json()  # both answer with the stored record
    got = [(await recv(ws))["data"]["id"] for _ in range(rounds)]
    assert sorted(got) == sorted(f"twice-{n}" for n in range(rounds))
    with pytest.raises(asyncio.TimeoutError):
        await recv(ws, timeout=2)  # and no second event for any of them
    listed = httpx.get(a.url + "/api/v1/signals", params={"limit": 100}, headers=a.auth()).json()
    assert sorted(r["id"] for r in listed) == sorted(f"twice-{n}" for n in range(rounds))  # one store
    await ws.close()


def test_a_login_and_a_generated_token_work_on_every_instance(cluster, postgres):
    """The session secret, the generated ingestion token and the accounts are the database's."""
    redis_server, gateway = cluster
    redis, database = redis_server(), postgres.new_database()
    a = gateway(redis, "a", database_url=database, token=None, extra="[auth]\nrequired = true\n")
    b = gateway(redis, "b", database_url=database, token=None, extra="[auth]\nrequired = true\n")
    said = next(line for line in a.output if "Generated an API token" in line)
    assert not any("Generated an API token" in line for line in b.output)  # generated once, for both
    with psycopg.connect(database) as connection:  # where the start said it is kept; never printed
        token = connection.execute("SELECT value FROM shared_secrets WHERE name = 'api_token'").fetchone()[0]
    assert "shared_secrets" in said and token not in "\n".join(a.output + b.output)
    # Both print the same one-time setup code (kept in the shared database); B takes it.
    codes = [re.search(r"/setup\?code=(\S+)", next(line for line in gw.output if "No admin account yet" in line))
             .group(1) for gw in (a, b)]
    assert codes[0] == codes[1]
    form = {"name": "root", "password": "correct horse battery", "again": "correct horse battery"}
    with httpx.Client(base_url=b.url) as on_b:
        assert on_b.post("/setup", data={**form, "code": codes[0]}).status_code == 303
    assert httpx.post(a.url + "/setup", data={**form, "name": "second", "code": codes[0]}).status_code == 404
    with httpx.Client(base_url=a.url) as on_a:
        assert on_a.post("/login", data={"name": "root", "password": form["password"]}).status_code == 303
        cookies = dict(on_a.cookies)
    with httpx.Client(base_url=b.url, cookies=cookies) as on_b:
        assert on_b.get("/api/v1/system/status").status_code == 200  # the login made on A
    assert httpx.get(b.url + "/api/v1/system/status").status_code == 401
    posted = httpx.post(b.url + "/api/v1/signals", json=detection(1), headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 201


def test_a_reload_with_other_polling_intervals_changes_the_lease_ttl(cluster, tmp_path):
    """Failover within two intervals must hold for the intervals in force, not those at start."""
    import redis as redis_client

    redis_server, gateway = cluster
    redis = redis_server()
    a = gateway(redis, "a", interval=20)  # TTL 10 s
    client = redis_client.Redis(host="127.0.0.1", port=redis.port)
    wait_for(lambda: client.pttl("heimdall:poller") > 5000)
    write_config(tmp_path / "a.toml", interval=1, extra=f'[cluster]\nredis_url = "{redis.url}"\n')
    os.kill(a.process.pid, signal.SIGHUP)
    wait_for(lambda: 0 < client.pttl("heimdall:poller") <= 500, timeout=15)  # TTL 0.5 s from the next renewal


def test_a_new_poller_neither_repeats_a_down_nor_forgets_to_resolve_it(cluster, tmp_path, postgres):
    """The incident the dead poller opened is in the shared database; the new poller takes
    it over: no second DOWN while the target stays down, one RESOLVED when it is back."""
    from tests.alerting.test_alerts import config as alerting_config
    from tests.webhook import WebhookReceiver

    redis_server, _ = cluster
    redis, database = redis_server(), postgres.new_database()
    with FakeTargets() as targets, WebhookReceiver() as hooks:
        raw = alerting_config(targets, hooks) + f'\n[cluster]\nredis_url = "{redis.url}"\n'
        gateways = []
        try:
            for name in "ab":
                path = tmp_path / f"takeover-{name}.toml"
                path.write_text(raw)
                gateways.append(Gateway(path, tmp_path / f"takeover-data-{name}",
                                        env={"HEIMDALL_DATABASE_URL": database}).start())
            wait_for(lambda: any(gw.stats()["poller_leader"] for gw in gateways))
            targets.set("inference", "503")
            wait_for(lambda: hooks.titles("on-call"), timeout=15)
            leader = next(gw for gw in gateways if gw.stats()["poller_leader"])
            other = next(gw for gw in gateways if gw is not leader)
            os.kill(leader.process.pid, signal.SIGKILL)
            leader.process.wait()
            wait_for(lambda: other.stats()["poller_leader"], timeout=10)
            other.settle(rounds=4)  # several rounds of the new poller with the target still down
            assert hooks.titles("on-call") == ["DOWN: service inference is unhealthy"]
            targets.set("inference", "healthy")
            wait_for(lambda: len(hooks.titles("on-call")) == 2, timeout=15)
            assert hooks.titles("on-call")[1].startswith("RESOLVED")
        finally:
            for gw in gateways:
                gw.stop()


def test_a_silence_made_on_the_instance_that_does_not_poll_holds_on_the_poller(cluster, tmp_path, postgres):
    """Alert state is one truth: a silence made through the API of the follower reaches the
    poller; nothing is sent while it lasts, exactly one DOWN once it is lifted; both
    instances show the same silences, incidents and metrics."""
    from tests.alerting.test_alerts import config as alerting_config
    from tests.webhook import WebhookReceiver

    redis_server, _ = cluster
    redis, database = redis_server(), postgres.new_database()
    env = {"HEIMDALL_DATABASE_URL": database}
    with FakeTargets() as targets, WebhookReceiver() as hooks:
        raw = alerting_config(targets, hooks) + f'\n[cluster]\nredis_url = "{redis.url}"\n'
        gateways = []
        try:
            for name in "ab":
                path = tmp_path / f"silence-{name}.toml"
                path.write_text(raw)
                gateways.append(Gateway(path, tmp_path / f"silence-data-{name}", env=env).start())
            wait_for(lambda: any(gw.stats()["poller_leader"] for gw in gateways))
            poller = next(gw for gw in gateways if gw.stats()["poller_leader"])
            follower = next(gw for gw in gateways if gw is not poller)
            operator = {"Authorization": "Bearer " + create_token_on(tmp_path, env, "oncall", "read,operator")}
            viewer = {"Authorization": "Bearer " + create_token_on(tmp_path, env, "wall", "read")}
            body = {"kind": "services", "id": "inference", "minutes": 60, "comment": "upgrade"}
            assert httpx.post(follower.url + "/api/v1/silences", json=body, headers=viewer).status_code == 403
            made = httpx.post(follower.url + "/api/v1/silences", json=body, headers=operator)
            assert made.status_code == 201, made.text
            silence_id = made.json()["id"]
            targets.set("inference", "503")
            wait_for(lambda: poller.alerts()["rounds_evaluated"] > 0)
            poller.settle(rounds=4)  # well past the threshold of 2
            assert hooks.titles("on-call") == []
            for gw in gateways:  # the same state on every instance
                assert [s["id"] for s in gw.alerts()["silences"]] == [silence_id]
                status = httpx.get(gw.url + "/api/v1/system/status").json()["services"]
                assert next(s for s in status if s["name"] == "inference")["maintenance"].startswith("silenced until")
            lifted = httpx.delete(f"{follower.url}/api/v1/silences/{silence_id}", headers=operator)
            assert lifted.status_code == 204
            wait_for(lambda: hooks.titles("on-call"), timeout=15)
            poller.settle(rounds=3)
            assert hooks.titles("on-call") == ["DOWN: service inference is unhealthy"]
            for gw in gateways:  # /metrics is read from each instance's view, refreshed every round
                wait_for(lambda gw=gw: gw.alerts()["open_incidents"] == 1)
                wait_for(lambda gw=gw: "heimdall_open_incidents 1.0" in httpx.get(gw.url + "/metrics").text)
            incident = poller.alerts()["incidents"][0]["incident"]
            acked = httpx.post(f"{follower.url}/api/v1/incidents/{incident}/acknowledge", headers=operator)
            assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "oncall"
        finally:
            for gw in gateways:
                gw.stop()


def create_token_on(tmp_path, env: dict[str, str], name: str, scopes: str) -> str:
    """A token made by the CLI in the shared PostgreSQL database."""
    import subprocess
    import sys

    from tests.gateway import ROOT

    result = subprocess.run([sys.executable, "main.py", "token", "create", name, "--scope", scopes,
                             "--data-dir", str(tmp_path / "cli-data")], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**{k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")},
                                             **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_an_agents_results_posted_to_the_follower_are_counted_by_the_poller(cluster, tmp_path, postgres):
    """Probes from several sites in a cluster: the agent reports to the instance that does
    not poll; its votes reach the poller through the shared database."""
    import subprocess
    import sys

    from tests.gateway import ROOT
    from tests.sites.test_agents import SITES, config, receiver, site_views, start_agent
    from tests.webhook import WebhookReceiver

    redis_server, _ = cluster
    redis, database = redis_server(), postgres.new_database()
    env = {"HEIMDALL_DATABASE_URL": database}
    with FakeTargets() as picky, FakeTargets() as calm, WebhookReceiver() as hooks:
        raw = config(picky, calm, hooks) + f'\n[cluster]\nredis_url = "{redis.url}"\n'
        gateways, agent = [], None
        try:
            for name in "ab":
                path = tmp_path / f"sites-{name}.toml"
                path.write_text(raw)
                gateways.append(Gateway(path, tmp_path / f"sites-data-{name}", env=env).start())
            wait_for(lambda: any(gw.stats()["poller_leader"] for gw in gateways))
            poller = next(gw for gw in gateways if gw.stats()["poller_leader"])
            follower = next(gw for gw in gateways if gw is not poller)
            made = subprocess.run([sys.executable, "main.py", "token", "create", "agent-a", "--scope", "agent",
                                   "--site", "site-a", "--data-dir", str(tmp_path / "cli-data")], cwd=ROOT,
                                  capture_output=True, text=True, timeout=60, check=True,
                                  env={**{k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")},
                                       **env})
            agent = start_agent(follower, made.stdout.strip().splitlines()[-1], "site-a")
            picky.refused_from = {SITES["site-a"]}
            for gw in gateways:  # the poller's verdict, published to every instance
                wait_for(lambda gw=gw: site_views(gw, "torino") == {"gateway": "online", "site-a": "offline"},
                         timeout=30)
            assert receiver(poller, "torino")["status"] == "online"  # quorum 2: one site is not enough
            sites = {s["name"]: s for s in httpx.get(poller.url + "/api/v1/sites", timeout=5).json()}
            assert sites["site-a"]["state"] == "ok"
        finally:
            if agent is not None:
                agent.kill()
                agent.wait(10)
            for gw in gateways:
                gw.stop()


def test_a_target_added_on_the_follower_is_probed_by_the_poller_and_shown_by_both(cluster, tmp_path, postgres):
    """Targets made in the browser or the API are the database's: any instance takes them,
    every instance applies them within its watch (5 s)."""
    redis_server, _ = cluster
    redis, database = redis_server(), postgres.new_database()
    env = {"HEIMDALL_DATABASE_URL": database}
    with FakeTargets() as targets:
        raw = f'[polling]\nwebsdrs_interval_s = 1\ntimeout_s = 1\n\n[cluster]\nredis_url = "{redis.url}"\n'
        gateways = []
        try:
            for name in "ab":
                path = tmp_path / f"targets-{name}.toml"
                path.write_text(raw)
                gateways.append(Gateway(path, tmp_path / f"targets-data-{name}", env=env).start())
            wait_for(lambda: any(gw.stats()["poller_leader"] for gw in gateways))
            poller = next(gw for gw in gateways if gw.stats()["poller_leader"])
            follower = next(gw for gw in gateways if gw is not poller)
            operator = {"Authorization": "Bearer " + create_token_on(tmp_path, env, "oncall", "read,operator")}
            added = httpx.post(follower.url + "/api/v1/targets", headers=operator, json={"section": "websdrs", "entry": {
                "id": "asti", "name": "Asti", "url": targets.url("asti", "openwebrx"), "kind": "openwebrx",
                "latitude": 44.9, "longitude": 8.2}})
            assert added.status_code == 201, added.text
            for gw in gateways:
                wait_for(lambda gw=gw: any(r["id"] == "asti" and r["status"] == "online" for r in
                                           httpx.get(gw.url + "/api/v1/websdrs").json()), timeout=30)
        finally:
            for gw in gateways:
                gw.stop()

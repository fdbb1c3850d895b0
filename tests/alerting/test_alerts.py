"""Notifications against real parts: a gateway process, fake targets on loopback, a real
webhook receiver reached through apprise's json://, a real SMTP server (aiosmtpd)
through mailto://."""

from __future__ import annotations

import os
import signal
import socket
import time
from datetime import datetime, timedelta, timezone

import httpx
import psutil
import pytest

from tests.fake_targets import FakeTargets
from tests.waiting import wait_for
from tests.webhook import WebhookReceiver


def config(targets: FakeTargets, hooks: WebhookReceiver, extra: str = "") -> str:
    return f"""
[polling]
services_interval_s = 1
websdrs_interval_s = 1
timeout_s = 1

[delivery]
timeout_s = 2
retries = 0

[[services]]
name = "inference"
url = "{targets.url("inference", "healthy")}health"

[[services]]
name = "training"
url = "{targets.url("training", "healthy")}health"

[[services]]
name = "ingestion"
url = "{targets.url("ingestion", "healthy")}health"

[[alerts]]
name = "on-call"
urls = ["{hooks.url("on-call")}"]
targets = ["services:inference"]
failure_threshold = 2
success_threshold = 2
{extra}
"""


def rule(hooks: WebhookReceiver, name: str, targets: str, failure_threshold: int, **more) -> str:
    """An `[[alerts]]` rule that notifies the webhook's path `name`."""
    lines = [f'name = "{name}"', f'urls = ["{hooks.url(name)}"]', f'targets = ["{targets}"]',
             f"failure_threshold = {failure_threshold}", *(f"{key} = {value}" for key, value in more.items())]
    return "\n[[alerts]]\n" + "\n".join(lines) + "\n"


@pytest.fixture
def parts():
    with FakeTargets() as targets, WebhookReceiver() as hooks:
        yield targets, hooks


def test_one_down_after_the_threshold_one_resolved_and_none_after_a_restart(make_gateway, parts):
    targets, hooks = parts
    gw = make_gateway(raw=config(targets, hooks))
    wait_for(lambda: httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]["last_check"])
    targets.set("inference", "503")
    wait_for(lambda: hooks.titles("on-call"), timeout=15)
    assert hooks.titles("on-call") == ["DOWN: service inference is unhealthy"]
    assert "HTTP 503" in hooks.received[0]["message"] and f"{gw.url}/services/inference" in hooks.received[0]["message"]  # its page
    gw.restart()  # mid-incident: the incident is kept, no second DOWN
    gw.settle(rounds=3)
    assert hooks.titles("on-call") == ["DOWN: service inference is unhealthy"]
    targets.set("inference", "healthy")
    wait_for(lambda: len(hooks.titles("on-call")) == 2, timeout=15)
    assert hooks.titles("on-call")[1] == "RESOLVED: service inference is healthy again"
    alerts = httpx.get(gw.url + "/api/v1/alerts").json()
    assert alerts["incidents"][0]["resolved_ms"] and alerts["open_incidents"] == 0
    assert [n["event"] for n in alerts["notifications"]] == ["RESOLVED", "DOWN"]
    assert all(n["outcome"] == "sent" for n in alerts["notifications"])


def test_a_readiness_rule_fires_once_and_resolves_once(make_gateway, parts):
    """Three OpenWebRX receivers whose profiles cover 2 m (the captured 1.1.0 answer); the
    rule wants all three ready at 145.5 MHz. One stops answering: one notification, then
    nothing more while it lasts; it comes back: one RESOLVED."""
    targets, hooks = parts
    receivers = "".join(f'[[websdrs]]\nid = "rx{i}"\nname = "Rx {i}"\nurl = "{targets.url(f"rx{i}", "openwebrx")}"\n'
                        f'kind = "openwebrx"\nlatitude = {45 + i / 10}\nlongitude = {7 + (i % 2) / 10}\n'
                        for i in range(3))
    rule = (f'[[readiness_alerts]]\nname = "two-metre"\nurls = ["{hooks.url("two-metre")}"]\n'
            f'freq_mhz = 145.5\nmin_ready = 3\nfor_min = 0\n')
    gw = make_gateway(raw=config(targets, hooks, receivers + rule))
    wait_for(lambda: httpx.get(gw.url + "/api/v1/readiness", params={"freq_mhz": 145.5}).json()["ready"] == 3)
    gw.settle(rounds=2)
    assert hooks.titles("two-metre") == []
    targets.set("rx1", "hang")
    wait_for(lambda: hooks.titles("two-metre"), timeout=15)
    gw.settle(rounds=4)
    assert hooks.titles("two-metre") == ["NOT ENOUGH READY: 2 of 3 receivers at 145.5 MHz (3 needed)"]
    assert "rx1: unusable, not answering" in hooks.received[-1]["message"]
    assert httpx.get(gw.url + "/api/v1/alerts").json()["open_incidents"] == 1
    targets.set("rx1", "openwebrx")
    wait_for(lambda: len(hooks.titles("two-metre")) == 2, timeout=15)
    gw.settle(rounds=4)
    assert hooks.titles("two-metre")[1:] == ["RESOLVED: 3 receivers ready at 145.5 MHz again"]
    incidents = httpx.get(gw.url + "/api/v1/alerts").json()["incidents"]
    assert incidents[0]["kind"] == "readiness" and incidents[0]["id"] == "145.5" and incidents[0]["resolved_ms"]


def test_a_flapping_target_sends_nothing(make_gateway, parts):
    targets, hooks = parts
    gw = make_gateway(raw=config(targets, hooks))
    targets.set("inference", "flap")  # bad and good by turns, check after check
    gw.settle(rounds=6)
    assert targets.hits["inference"] >= 5
    assert hooks.titles("on-call") == []
    assert httpx.get(gw.url + "/api/v1/alerts").json()["open_incidents"] == 0


def test_a_hanging_endpoint_delays_no_other_notification(make_gateway, parts):
    targets, hooks = parts
    hooks.hanging.add("stuck")
    extra = rule(hooks, "stuck", "services:inference", 2)
    gw = make_gateway(raw=config(targets, hooks, extra))
    wait_for(lambda: httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]["last_check"])
    targets.set("inference", "503")
    started = time.monotonic()
    wait_for(lambda: hooks.titles("on-call"), timeout=15)
    assert time.monotonic() - started < 6  # two rounds of 1 s, not the stuck endpoint's timeout
    failed = wait_for(lambda: [n for n in httpx.get(gw.url + "/api/v1/alerts").json()["notifications"]
                               if n["alert"] == "stuck"], timeout=15)
    assert failed[0]["outcome"] == "failed"


def test_nothing_is_sent_during_maintenance(make_gateway, parts):
    targets, hooks = parts
    started = datetime.now(timezone.utc) - timedelta(minutes=1)
    extra = f"""
[[maintenance]]
name = "upgrade"
targets = ["services:inference"]
start = {started.strftime("%Y-%m-%dT%H:%M:%SZ")}
duration_min = 60
"""
    gw = make_gateway(raw=config(targets, hooks, extra))
    targets.set("inference", "503")
    wait_for(lambda: httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]["status"] == "unhealthy")
    gw.settle(rounds=3)
    assert hooks.titles("on-call") == []
    service = httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]
    assert service["maintenance"] == "in maintenance (upgrade)"


def test_a_killed_probe_worker_is_the_gateways_problem_not_every_targets(make_gateway, parts):
    targets, hooks = parts
    extra = rule(hooks, "all", "services:*", 1)
    gw = make_gateway(raw=config(targets, hooks, extra))
    wait_for(lambda: httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]["last_check"])
    children = psutil.Process(gw.process.pid).children(recursive=True)
    worker = next(child for child in children if "spawn_main" in " ".join(child.cmdline()))
    os.kill(worker.pid, signal.SIGKILL)
    # Reported once, and resolved once when the next round runs on a new worker.
    wait_for(lambda: any(t.startswith("GATEWAY RESOLVED") for t in hooks.titles("all")), timeout=15)
    gw.settle(rounds=3)
    assert hooks.titles("all") == ["GATEWAY PROBLEM: probe worker", "GATEWAY RESOLVED: probe worker"]
    assert all(s["status"] == "healthy" for s in httpx.get(gw.url + "/api/v1/system/status").json()["services"])


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_an_orderly_stop_of_the_process_group_sends_nothing_and_exits_0(tmp_path, parts, stop):
    """systemctl stop, docker stop and Ctrl-C signal the whole group, worker included,
    usually in the middle of a round (a target that hangs keeps one in flight)."""
    from tests.gateway import Gateway

    targets, hooks = parts
    extra = f"""
[[services]]
name = "stuck"
url = "{targets.url("stuck", "hang")}"

{rule(hooks, "all", "services:*", 5)}"""
    (tmp_path / "c.toml").write_text(config(targets, hooks, extra))
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data", own_process_group=True).start()
    wait_for(lambda: targets.hits.get("stuck", 0) >= 2)  # a round is in flight now
    group = os.getpgid(gw.process.pid)
    assert group == gw.process.pid and len(psutil.Process(gw.process.pid).children(recursive=True)) >= 1
    os.killpg(group, stop)
    assert gw.process.wait(20) == 0
    output = gw.stop()
    assert f"Heimdall Live stopped ({stop.name})" in output
    assert "Traceback" not in output and "leaked semaphore" not in output and "KeyboardInterrupt" not in output, output
    assert hooks.titles("all") == []  # the process is gone: nothing more can come


def test_a_planned_stop_sends_the_down_that_waits_for_its_group(tmp_path, parts):
    """With group_wait_s the DOWN waits in memory; a deploy's SIGTERM in that wait lost it."""
    from tests.gateway import Gateway

    targets, hooks = parts
    extra = rule(hooks, "grouped", "services:training", 1, group_wait_s=3600)
    (tmp_path / "c.toml").write_text(config(targets, hooks, extra))
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data").start()
    targets.set("training", "503")
    wait_for(lambda: gw.alerts()["notifications_grouped"] == 1)
    assert hooks.titles("grouped") == []  # an hour to wait for its group
    gw.process.send_signal(signal.SIGTERM)
    assert gw.process.wait(20) == 0
    output = gw.stop()
    assert [t.split(":")[0] for t in hooks.titles("grouped")] == ["DOWN"], hooks.titles("grouped")
    assert "not sent" not in output and "Traceback" not in output


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_down_not_delivered_when_the_gateway_stops_is_sent_by_the_next_start(tmp_path, parts, stop):
    """A webhook that hangs while the gateway stops (a deploy) or is killed (out of
    memory): the DOWN stays in the database's queue, and the next start sends it, told
    late, once. A planned stop waits `stop_wait_s` for it, not the webhook's timeout."""
    import sqlite3

    from tests.gateway import Gateway

    targets, hooks = parts
    hooks.hanging.add("stuck")
    extra = rule(hooks, "stuck", "services:training", 1)
    text = config(targets, hooks, extra).replace("timeout_s = 2\nretries = 0\n",
                                                 "timeout_s = 6\nretries = 0\nstop_wait_s = 1\n")
    (tmp_path / "c.toml").write_text(text)
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data").start()
    targets.set("training", "503")
    wait_for(lambda: gw.alerts()["notifications_pending"] == 1)  # being sent, to a webhook that never answers
    gw.process.send_signal(stop)
    assert gw.process.wait(20) == (0 if stop == signal.SIGTERM else -signal.SIGKILL)
    output = gw.stop()
    database = tmp_path / "data" / "heimdall.db"
    queued = sqlite3.connect(database).execute("SELECT alert, event, held_until_ms FROM notification_queue").fetchall()
    assert [row[:2] for row in queued] == [("stuck", "DOWN")], queued
    if stop == signal.SIGTERM:
        assert queued[0][2] == 0  # handed over at once
        said = [line for line in output.splitlines() if "not sent within" in line]
        assert len(said) == 1 and "1 left queued for the next start" in said[0] and "stuck/DOWN" in said[0], output

    hooks.hanging.discard("stuck")
    gw.start()
    try:
        wait_for(lambda: hooks.titles("stuck"), timeout=30)
        gw.settle(rounds=3)
        assert sqlite3.connect(database).execute("SELECT count(*) FROM notification_queue").fetchone()[0] == 0
    finally:
        gw.stop()
    told = [m for m in hooks.received if m["path"] == "/stuck"]
    assert len(told) == 1 and told[0]["title"].startswith("DOWN"), told  # once: the incident was kept too
    assert "Told late: queued at " in told[0]["message"]
    outcomes = sqlite3.connect(database).execute("SELECT event, outcome FROM notifications").fetchall()
    assert outcomes == [("DOWN", "sent")], outcomes


def test_all_services_refusing_at_once_are_alerted(make_gateway, parts):
    """The platform's stack down together: a refused connection proves the network works."""
    from tests.fake_targets import refused_url

    targets, hooks = parts
    services = "".join(f'[[services]]\nname = "{name}"\nurl = "{refused_url()}health"\n\n'
                       for name in ("api", "inference", "training", "ingestion"))
    gw = make_gateway(raw=f"""
[polling]
services_interval_s = 1
timeout_s = 1

{services}
{rule(hooks, "all", "services:*", 2)}""")
    wait_for(lambda: len(hooks.titles("all")) == 4, timeout=20)
    gw.settle(rounds=2)
    assert sorted(hooks.titles("all")) == sorted(f"DOWN: service {n} is unreachable"
                                                 for n in ("api", "inference", "training", "ingestion"))
    assert gw.alerts()["gateway_problems"] == {}


@pytest.mark.parametrize("reference", [False, True])
def test_timeouts_everywhere_hold_alerts_unless_a_reference_endpoint_answers(make_gateway, parts, reference):
    targets, hooks = parts
    services = "".join(f'[[services]]\nname = "{name}"\nurl = "{targets.url(name, "hang")}"\n\n'
                       for name in ("api", "inference", "training"))
    connectivity = f'[connectivity]\nreferences = ["127.0.0.1:{targets.port}"]\ntimeout_s = 1\n' if reference else ""
    gw = make_gateway(raw=f"""
[polling]
services_interval_s = 1
timeout_s = 1

{connectivity}
{services}
{rule(hooks, "all", "services:*", 2)}""")
    if reference:  # the network works after all: the targets' own alerts go out, as one (one host)
        wait_for(lambda: hooks.titles("all"), timeout=30)
        assert hooks.titles("all") == [f"DOWN: 3 on 127.0.0.1:{targets.port}: service api, service inference, "
                                       "service training"]
    else:
        wait_for(lambda: hooks.titles("all"), timeout=20)
        gw.settle(rounds=3)
        assert hooks.titles("all") == ["GATEWAY PROBLEM: the gateway's reach to its services"]
        assert "timeout" in gw.alerts()["gateway_problems"]["network-services"]


def test_a_watch_fires_on_a_match_only_and_keeps_its_cooldown(make_gateway, parts):
    targets, hooks = parts
    extra = f"""
[[watches]]
name = "beacon-2m"
urls = ["{hooks.url("watch")}"]
frequency_mhz = 145.5
tolerance_khz = 5
min_snr_db = 10
cooldown_s = 3600

[[watches]]
name = "marker"
urls = ["{hooks.url("marker")}"]
frequency_mhz = 433.92
"""
    gw = make_gateway(raw=config(targets, hooks, extra))

    def post(frequency: float, snr: float) -> None:
        assert httpx.post(gw.url + "/api/v1/signals", headers=gw.auth(), json={
            "frequency_mhz": frequency, "snr_db": snr, "websdr_id": "torino",
            "timestamp": "2026-11-25T12:00:00Z"}).status_code == 201

    post(146.0, 20)  # another frequency
    post(145.5, 5)  # too weak
    post(145.503, 12)  # the engine takes events in order: the first two were judged before this one
    wait_for(lambda: hooks.titles("watch"), timeout=10)
    assert hooks.titles("watch") == ["HEARD: 145.503 MHz (beacon-2m)"]
    post(145.5, 15)  # within the cooldown
    post(433.92, 15)  # the marker: once its notification is out, the one before was judged
    wait_for(lambda: hooks.titles("marker") and gw.alerts()["notifications_pending"] == 0, timeout=10)
    assert hooks.titles("watch") == ["HEARD: 145.503 MHz (beacon-2m)"]
    replay = httpx.get(gw.url + "/api/v1/events", params={"after": 0, "epoch": gw.stats()["epoch"],
                                                         "topics": "alerts:fired"}).json()
    assert [e["data"]["watch"] for e in replay["events"]] == ["beacon-2m", "marker"]


def test_mail_reaches_a_real_smtp_server(make_gateway, parts):
    aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
    targets, hooks = parts
    mails = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            mails.append(envelope.content.decode(errors="replace"))
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd checks its own readiness on the port it is given
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = aiosmtpd_controller.Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        extra = f"""
[[alerts]]
name = "mail"
urls = ["mailto://127.0.0.1:{port}?from=heimdall@example.org&to=ops@example.org&mode=insecure"]
targets = ["services:inference"]
failure_threshold = 2
"""
        gw = make_gateway(raw=config(targets, hooks, extra))
        wait_for(lambda: httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]["last_check"])
        targets.set("inference", "503")
        wait_for(lambda: mails, timeout=20)
        assert "DOWN: service inference is unhealthy" in mails[0] and "ops@example.org" in mails[0]
    finally:
        smtp.stop()


def test_metrics_parse_and_carry_every_family(make_gateway, parts):
    from prometheus_client.parser import text_string_to_metric_families

    targets, hooks = parts
    gw = make_gateway(raw=config(targets, hooks))
    targets.set("training", "503")
    wait_for(lambda: any(s["status"] == "unhealthy" for s in
                         httpx.get(gw.url + "/api/v1/system/status").json()["services"]), timeout=15)
    httpx.post(gw.url + "/api/v1/signals", headers=gw.auth(), json={
        "frequency_mhz": 145.5, "snr_db": 10.0, "websdr_id": "torino", "timestamp": "2026-11-25T12:00:00Z"})
    text = httpx.get(gw.url + "/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name in ("heimdall_target_up", "heimdall_probe_duration_seconds", "heimdall_probe_failures",
                 "heimdall_ws_connections", "heimdall_events_published", "heimdall_slow_consumers_closed",
                 "heimdall_ingested", "heimdall_notifications", "heimdall_open_incidents"):
        assert name in families, name
    up = {sample.labels["id"]: sample.value for sample in families["heimdall_target_up"].samples}
    assert up["inference"] == 1.0 and up["training"] == 0.0
    failures = [s for s in families["heimdall_probe_failures"].samples if s.name.endswith("_total")]
    assert any(s.labels == {"kind": "services", "id": "training", "site": "gateway", "reason": "HTTP N"}
               for s in failures)
    ingested = [s for s in families["heimdall_ingested"].samples if s.name.endswith("_total")]
    assert any(s.labels == {"kind": "detections", "status": "stored"} and s.value == 1 for s in ingested)


def test_badges_are_well_formed_svg(make_gateway, parts):
    import xml.etree.ElementTree as ElementTree

    targets, hooks = parts
    gw = make_gateway(raw=config(targets, hooks))
    wait_for(lambda: httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]["last_check"])
    for path in ("/api/v1/badges/services/inference/status.svg", "/api/v1/badges/services/inference/uptime.svg",
                 "/api/v1/badges/services/inference/uptime.svg?window=30d"):
        response = httpx.get(gw.url + path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
        assert "max-age=60" in response.headers["cache-control"]
        root = ElementTree.fromstring(response.text)
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and int(root.get("width")) > 40
    assert "healthy" in httpx.get(gw.url + "/api/v1/badges/services/inference/status.svg").text
    assert httpx.get(gw.url + "/api/v1/badges/services/nope/status.svg").status_code == 404
    assert httpx.get(gw.url + "/api/v1/badges/services/inference/uptime.svg?window=1y").status_code == 422


def test_notify_test_sends_through_one_alert(tmp_path, parts):
    import subprocess
    import sys

    from tests.gateway import ROOT

    targets, hooks = parts
    (tmp_path / "c.toml").write_text(config(targets, hooks))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    result = subprocess.run([sys.executable, "main.py", "notify-test", "on-call", "--config", str(tmp_path / "c.toml")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert hooks.titles("on-call") == ["TEST: Heimdall Live notifications work"]
    unknown = subprocess.run([sys.executable, "main.py", "notify-test", "nobody", "--config", str(tmp_path / "c.toml")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "on-call" in unknown.stderr


def test_secrets_in_notification_urls_come_from_the_environment(tmp_path):
    import subprocess
    import sys

    from tests.gateway import ROOT

    (tmp_path / "c.toml").write_text('[[alerts]]\nname = "chat"\nurls = ["tgram://${BOT_TOKEN}/123"]\n'
                                     'targets = ["services:*"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_") and k != "BOT_TOKEN"}
    result = subprocess.run([sys.executable, "main.py", "--config", str(tmp_path / "c.toml"), "--data-dir",
                             str(tmp_path / "d")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "environment variable BOT_TOKEN is not set" in result.stderr


def test_a_test_reports_the_delivery_itself_for_file_and_browser_rules(make_gateway, parts, tmp_path):
    """Issue 31: "Send a test" through a dead webhook once looked like a success, and
    notify-test did not know a rule made in the browser. Both now answer what became of
    the delivery at each URL, for rules of the file and of the browser alike."""
    import subprocess
    import sys

    from tests.auth.test_access import create_token
    from tests.fake_targets import refused_url
    from tests.gateway import ROOT

    targets, hooks = parts
    dead = refused_url().replace("http://", "json://") + "hook"
    gw = make_gateway(raw=config(targets, hooks, f'[[alerts]]\nname = "broken-hook"\nurls = ["{dead}"]\n'
                                                 'targets = ["services:*"]\n'))
    operator = {"Authorization": f"Bearer {create_token(tmp_path / 'data', 'ops', 'read,operator')}"}

    def test(name: str) -> dict:
        answer = httpx.post(gw.url + "/api/v1/notifications/test", headers=operator, json={"name": name}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    good = test("on-call")
    assert good["delivered"] is True and good["urls"][0]["delivered"] is True
    assert hooks.titles("on-call") == ["TEST: Heimdall Live notifications work"]
    broken = test("broken-hook")
    assert broken["delivered"] is False and broken["urls"][0]["url"] == dead
    assert broken["urls"][0]["reason"].startswith("1 attempt: ")
    api = gw.url + "/api/v1/targets"
    for name, url in (("browser-dead", dead), ("browser-good", hooks.url("browser-good"))):
        made = httpx.post(api, headers=operator, json={"section": "alerts", "entry": {
            "name": name, "urls": [url], "targets": ["websdrs:*"]}})
        assert made.status_code == 201, made.text
    wait_for(lambda: httpx.post(gw.url + "/api/v1/notifications/test", headers=operator,
                                json={"name": "browser-dead"}, timeout=30).status_code == 200)
    assert test("browser-dead")["delivered"] is False

    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}

    def notify_test(name: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "main.py", "notify-test", name, "--config", str(gw.config),
                               "--data-dir", str(tmp_path / "data")], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
    failed = notify_test("browser-dead")
    assert failed.returncode == 1 and failed.stdout.startswith(f"FAILED {dead}: 1 attempt: "), failed
    sent = notify_test("browser-good")
    assert sent.returncode == 0 and sent.stdout.startswith("sent"), sent
    assert hooks.titles("browser-good") == ["TEST: Heimdall Live notifications work"]


def test_receivers_of_one_host_are_told_as_one_since_their_first_failed_check(make_gateway, parts):
    """Issue 31: one OpenWebRX host serving three receivers stops answering: one DOWN naming
    the three (Alertmanager's group_by host, on by default), one RESOLVED; "since" is each
    one's first failed check, not the time the alert fired (its third)."""

    targets, hooks = parts
    receivers = "".join(f'[[websdrs]]\nid = "{key}"\nname = "{key.title()}"\nurl = "{targets.url(key, "openwebrx")}"\n'
                        f'kind = "openwebrx"\nlatitude = 45.0\nlongitude = 7.{i}\n\n'
                        for i, key in enumerate(("genova", "milano", "torino")))
    other_host = FakeTargets().__enter__()  # another host: its receiver is told on its own
    elsewhere = f'[[websdrs]]\nid = "asti"\nname = "Asti"\nurl = "{other_host.url("asti", "openwebrx")}"\n' \
                'kind = "openwebrx"\nlatitude = 44.9\nlongitude = 8.2\n'
    try:
        told_apart(make_gateway, targets, hooks, other_host, receivers, elsewhere)
    finally:
        other_host.__exit__(None, None, None)


def told_apart(make_gateway, targets, hooks, other_host, receivers: str, elsewhere: str) -> None:
    from backend.timefmt import parse_iso_ms

    gw = make_gateway(raw=f"""
[polling]
websdrs_interval_s = 1
services_interval_s = 60
timeout_s = 1
down_after = 2

[delivery]
retries = 0

{receivers}
{elsewhere}
{rule(hooks, "radio", "websdrs:*", 3, success_threshold=1)}""")

    def health() -> dict:
        return httpx.get(gw.url + "/api/v1/websdrs/health").json()
    wait_for(lambda: all(e["status"] == "online" for e in health().values()), timeout=20)
    for key in ("genova", "milano", "torino"):
        targets.set(key, "close")
    other_host.set("asti", "close")
    first = wait_for(lambda: (h := health()) and all(h[k]["check_status"] == "offline" for k in ("genova", "torino"))
                     and h, interval=0.05)
    first_failed = {k: first[k]["last_check"] for k in ("genova", "milano", "torino")}
    downs = wait_for(lambda: [m for m in hooks.received if m["title"].startswith("DOWN")] if len(
        [m for m in hooks.received if m["title"].startswith("DOWN")]) >= 2 else None, timeout=20)
    grouped = next(m for m in downs if m["title"].startswith("DOWN: 3 on"))
    assert grouped["title"] == f"DOWN: 3 on 127.0.0.1:{targets.port}: receiver Genova, receiver Milano, receiver Torino"
    assert [m["title"] for m in downs if m is not grouped] == ["DOWN: receiver Asti is offline"]  # another host
    since = [line for line in grouped["message"].split("Down since ")[1:]]
    assert len(since) == 3
    for key, text in zip(("genova", "milano", "torino"), since):
        assert parse_iso_ms(text.split(".\n")[0].rstrip(".")) == parse_iso_ms(first_failed[key]), (key, text)
    for key in ("genova", "milano", "torino"):
        targets.set(key, "openwebrx")
    other_host.set("asti", "openwebrx")
    wait_for(lambda: len([m for m in hooks.received if m["title"].startswith("RESOLVED")]) >= 2, timeout=20)
    gw.settle(rounds=2)
    titles = [m["title"] for m in hooks.received]
    assert titles.count(grouped["title"]) == 1 and len([t for t in titles if t.startswith("DOWN")]) == 2
    resolved = sorted(t for t in titles if t.startswith("RESOLVED"))
    assert resolved == ["RESOLVED: 3 on 127.0.0.1:" + str(targets.port) + ": receiver Genova, receiver Milano, "
                        "receiver Torino", "RESOLVED: receiver Asti is online again"]

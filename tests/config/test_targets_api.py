"""Targets managed through the API against a real gateway and a receiver shaped like
OpenWebRX 1.1 (tests/fake_targets.py): tested once with its kind told from its answer,
added, probed, validated by the file's rules, paused and resumed, kept across a restart,
the file's own entries refused, operators only, audited."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import httpx

from tests.fake_targets import FakeTargets
from tests.gateway import ROOT, Gateway
from tests.waiting import wait_for


def receivers(gw: Gateway) -> dict[str, dict]:
    return {entry["id"]: entry for entry in httpx.get(gw.url + "/api/v1/websdrs", headers=gw.auth()).json()}


def test_a_receiver_added_through_the_api_is_probed_kept_and_managed(tmp_path):
    with FakeTargets() as targets:
        config = tmp_path / "config.toml"
        config.write_text(f"""
[polling]
services_interval_s = 1
websdrs_interval_s = 1
timeout_s = 1

[[services]]
name = "inference"
url = "{targets.url("inference", "healthy")}health"
""")
        made = subprocess.run([sys.executable, "main.py", "token", "create", "oncall", "--scope", "read,operator",
                               "--data-dir", str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True,
                              check=True)
        operator = {"Authorization": "Bearer " + made.stdout.strip().splitlines()[-1]}
        gw = Gateway(config, tmp_path / "data").start()
        try:
            api = gw.url + "/api/v1/targets"
            assert httpx.get(api, headers=gw.auth()).status_code == 403  # a read token: not what is probed
            # Tested once before saving: the kind told from the answer, and what it says of itself.
            trial = httpx.post(api + "/test", headers=operator, json={
                "section": "websdrs", "entry": {"url": targets.url("asti", "openwebrx")}}).json()
            assert trial["kind"] == "openwebrx" and trial["detected"] and trial["status"] == "online"
            assert trial["details"]["software"].startswith("OpenWebRX") and trial["details"]["users_max"] == 20
            assert trial["details"]["reported_position"]["lat"] and trial["details"]["bands_mhz"]
            from ui.targets import answer_lines  # what the Targets page shows of it: the version too

            assert f"software: OpenWebRX {trial['details']['sw_version']}" in answer_lines(trial)
            dead = httpx.post(api + "/test", headers=operator, json={
                "section": "websdrs", "entry": {"url": targets.url("gone", "close")}}).json()
            assert dead["status"] == "offline" and not dead["detected"] and dead["error"]

            service = httpx.post(api + "/test", headers=operator, json={
                "section": "services", "entry": {"url": targets.url("inference") + "health"}}).json()
            assert service["kind"] == "http" and service["status"] == "healthy"
            closed = httpx.post(api + "/test", headers=operator, json={
                "section": "services", "entry": {"kind": "tcp", "address": "127.0.0.1:9"}}).json()
            assert closed["status"] == "unreachable" and closed["error"] == "connection refused"

            entry = {"id": "asti", "name": "Asti", "url": targets.url("asti"), "kind": "openwebrx",
                     "latitude": 44.9, "longitude": 8.2}
            bad = httpx.post(api, headers=operator, json={"section": "websdrs", "entry": {**entry, "latitude": "44.9"}})
            assert bad.status_code == 422 and bad.json()["field"] == "latitude"
            twice = httpx.post(api, headers=operator, json={"section": "services", "entry": {
                "name": "inference", "url": "http://127.0.0.1:9/"}})
            assert twice.status_code == 409 and "configuration file" in twice.json()["detail"]
            added = httpx.post(api, headers=operator, json={"section": "websdrs", "entry": entry})
            assert added.status_code == 201, added.text
            wait_for(lambda: receivers(gw).get("asti", {}).get("status") == "online", timeout=15)

            for method in ("PATCH", "DELETE"):  # the file's own entries stay the file's
                refused = httpx.request(method, api + "/services/inference", headers=operator, json={"paused": True})
                assert refused.status_code == 409, method
            paused = httpx.patch(api + "/websdrs/asti", headers=operator, json={"paused": True})
            assert paused.status_code == 200 and paused.json()["paused"]
            wait_for(lambda: "asti" not in receivers(gw))
            httpx.patch(api + "/websdrs/asti", headers=operator, json={"paused": False})
            wait_for(lambda: "asti" in receivers(gw))
            renamed = httpx.patch(api + "/websdrs/asti", headers=operator, json={"entry": {"name": "Asti (roof)"}})
            assert renamed.status_code == 200 and renamed.json()["entry"]["name"] == "Asti (roof)"

            gw.restart()
            listed = {(t["section"], t["id"]): t for t in httpx.get(api, headers=operator).json()}
            assert listed[("websdrs", "asti")]["source"] == "browser"
            assert listed[("services", "inference")]["source"] == "file"
            wait_for(lambda: receivers(gw).get("asti", {}).get("name") == "Asti (roof)", timeout=15)

            rule = httpx.post(api, headers=operator, json={"section": "alerts", "entry": {
                "name": "on-call", "urls": ["json://ops:hunter2-secret@127.0.0.1:9/hook"], "targets": ["websdrs:*"]}})
            assert rule.status_code == 201, rule.text
            assert "hunter2" not in rule.text and "hunter2" not in httpx.get(api, headers=operator).text
            assert httpx.post(api, headers=operator, json={"section": "alerts", "entry": {
                "name": "x", "urls": ["json://127.0.0.1:9/"], "targets": ["nowhere:*"]}}).json()["field"] == "targets.0"
            assert httpx.delete(api + "/websdrs/asti", headers=operator).status_code == 204
            wait_for(lambda: "asti" not in receivers(gw))
            assert httpx.delete(api + "/websdrs/asti", headers=operator).status_code == 404
            output = gw.stop()
            # Browser and API edits are in the audit log; they are no warning (issue 31). (The
            # rule's own notifications, to a port where nothing listens, may be, on a slow machine.)
            warned = [line for line in output.splitlines() if "WARNING" in line and "notification" not in line]
            assert warned == [], output[-2000:]
        finally:
            gw.stop()
        audit = sqlite3.connect(tmp_path / "data" / "heimdall.db").execute(
            "SELECT action, subject FROM audit WHERE action LIKE 'target %' ORDER BY rowid").fetchall()
        assert audit == [("target added", "websdrs:asti"), ("target paused", "websdrs:asti"),
                         ("target resumed", "websdrs:asti"), ("target changed", "websdrs:asti"),
                         ("target added", "alerts:on-call"), ("target removed", "websdrs:asti")]

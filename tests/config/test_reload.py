"""Configuration reload on SIGHUP against a real gateway process: targets added and
removed in place while a /ws/updates client and a page in Chromium stay connected."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from tests.browser import CHROMIUM
from tests.fake_targets import FakeTargets
from tests.waiting import wait_for


def receiver(key: str, name: str, url: str) -> str:
    return (f'[[websdrs]]\nid = "{key}"\nname = "{name}"\nurl = "{url}"\nkind = "openwebrx"\n'
            f"latitude = 45.0\nlongitude = 7.6\n")


def config(targets: FakeTargets, *keys: str) -> str:
    return "[polling]\nwebsdrs_interval_s = 1\ntimeout_s = 1\n" + "".join(
        receiver(key, key.title(), targets.url(key, "openwebrx")) for key in keys)


def websdr_ids(gw) -> set[str]:
    return {w["id"] for w in httpx.get(gw.url + "/api/v1/websdrs").json()}


async def test_sighup_adds_and_removes_targets_while_clients_stay_connected(make_gateway, tmp_path):
    with FakeTargets() as targets:
        gw = make_gateway(raw=config(targets, "torino", "genova"))
        path = Path(gw.config)
        page = browser = playwright = None
        if Path(CHROMIUM).exists():
            from playwright.async_api import async_playwright

            from tests.browser import CHROMIUM_ARGS
            playwright = await async_playwright().start()
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = await browser.new_page()
            await page.goto(gw.url + "/", wait_until="domcontentloaded")
            await page.wait_for_function("window.heimdallConnection && heimdallConnection.state === 'connected'")
            await page.evaluate("window.stillTheSamePage = true")
        try:
            async with connect(gw.ws_url) as ws:  # a client of the original gateway: never subscribes
                json.loads(await ws.recv())
                path.write_text(config(targets, "torino", "milano"))
                gw.process.send_signal(signal.SIGHUP)
                async with asyncio.timeout(15):
                    while True:
                        message = json.loads(await ws.recv())
                        if message["event"] == "websdrs:status" and set(message["data"]) == {"torino", "milano"}:
                            break
                assert websdr_ids(gw) == {"torino", "milano"}
                milano = await asyncio.to_thread(
                    wait_for, lambda: (m := httpx.get(gw.url + "/api/v1/websdrs/health").json()["milano"])
                    ["last_check"] and m)
                assert milano["status"] == "online"
                if page is not None:
                    await page.locator("td", has_text="Milano").wait_for(timeout=10_000)
                    assert await page.locator("td", has_text="Genova").count() == 0
                    assert await page.evaluate("window.stillTheSamePage") is True  # not reloaded
                    assert await page.evaluate("heimdallConnection.state") == "connected"
                # A bad new file keeps the running configuration.
                path.write_text(config(targets, "torino").replace("timeout_s = 1", "timeout_s = 'soon'"))
                refused_before = gw.stats()["config_reloads"]["refused"]
                gw.process.send_signal(signal.SIGHUP)
                await asyncio.to_thread(wait_for, lambda: gw.stats()["config_reloads"]["refused"] > refused_before)
                assert websdr_ids(gw) == {"torino", "milano"}
                await ws.send(json.dumps({"event": "ping"}))
                async with asyncio.timeout(5):
                    while json.loads(await ws.recv())["event"] != "pong":
                        pass
        finally:
            if browser is not None:
                await browser.close()
                await playwright.stop()
        output = gw.stop()
        refused = [line for line in output.splitlines() if "reload" in line and "refused" in line]
        assert len(refused) == 1 and "polling.timeout_s" in refused[0], output


def test_the_file_changing_is_enough(make_gateway):
    with FakeTargets() as targets:
        gw = make_gateway(raw=config(targets, "torino"))
        path = Path(gw.config)
        written = path.stat().st_mtime_ns
        path.write_text(config(targets, "torino", "asti"))
        os.utime(path, ns=(written + 2_000_000_000, written + 2_000_000_000))  # a different modification time
        wait_for(lambda: websdr_ids(gw) == {"torino", "asti"}, timeout=15)


def test_a_deleted_config_file_is_said_once_and_the_running_configuration_stays(make_gateway):
    with FakeTargets() as targets:
        gw = make_gateway(raw=config(targets, "torino"))
        wait_for(lambda: websdr_ids(gw) == {"torino"})
        Path(gw.config).unlink()
        line = gw.wait_for_line("is gone")
        assert "config file" in line and "the running configuration stays" in line
        assert websdr_ids(gw) == {"torino"}
        Path(gw.config).write_text(config(targets, "torino", "asti"))
        wait_for(lambda: websdr_ids(gw) == {"torino", "asti"}, timeout=15)

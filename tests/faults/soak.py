"""A week of tabs, compressed (issue 33), shared by tests/faults/test_soak.py (a short
one, in CI) and bench/soak.py (the long one): one gateway with many receivers and
rounds every second; page opens and closes in a real Chromium (the dashboard, the
receivers, a receiver's page), /ws/updates connect-subscribe-close cycles, sign-ins and
sign-outs; then the process's own figures (`process` in /api/v1/gateway/stats: memory,
descriptors, asyncio tasks, page sessions) against their warmed-up baseline."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from tests.auth.test_access import cli
from tests.browser import launch
from tests.fake_targets import FakeTargets
from tests.gateway import Gateway
from tests.waiting import wait_for

PASSWORD = "soak-password-long-enough"


def config(targets: FakeTargets, receivers: int) -> str:
    text = ("[polling]\nservices_interval_s = 1\nwebsdrs_interval_s = 1\ntimeout_s = 1\n"
            '[map]\ntile_url = ""\n[http]\nmax_connections_per_address = 5000\n'
            # A small replay window, full within the warm-up: what grows after it is not the
            # window filling up to its bound (32 MiB by default) but something kept.
            "[hub]\nreplay_bytes = 1048576\n")
    for i in range(receivers):
        kind = "kiwisdr" if i % 3 == 0 else "openwebrx"
        text += (f'[[websdrs]]\nid = "rx-{i:04d}"\nname = "Receiver {i:04d}"\nurl = "{targets.url(f"{kind}-{i}")}"\n'
                 f'kind = "{kind}"\nlatitude = {44 + (i % 40) * 0.05:.4f}\nlongitude = {7 + (i // 40) * 0.08:.4f}\n')
    return text


def figures(gw: Gateway) -> dict:
    return httpx.get(gw.url + "/api/v1/gateway/stats", timeout=60).json()["process"]


class Soak:
    def __init__(self, directory: Path, receivers: int) -> None:
        self.directory = directory
        self.targets = FakeTargets().__enter__()
        (directory / "c.toml").write_text(config(self.targets, receivers))
        assert cli(directory / "data", "user", "add", "soak", "--role", "viewer",
                   stdin=PASSWORD + "\n").returncode == 0
        self.gateway = Gateway(directory / "c.toml", directory / "data").start(timeout=60)
        self.receivers = receivers
        self.slow_pages = 0  # tabs not connected within 60 s (a 2-core machine at 1,000 receivers a second)
        self.slow_sign_ins = 0  # sign-ins not answered within 60 s

    def pages(self, browser, count: int) -> None:
        """`count` page opens and closes, in turn on the dashboard, the receivers and one
        receiver's page, each once its socket is connected."""
        from playwright.sync_api import TimeoutError as PageTimeout

        paths = ["/", "/websdrs", "/websdrs/rx-0001"]
        context = browser.new_context()
        for n in range(count):
            page = context.new_page()
            try:
                page.goto(self.gateway.url + paths[n % 3], wait_until="domcontentloaded", timeout=60_000)
                page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                                       timeout=60_000)
            except PageTimeout:  # counted, and the tab closed all the same: what it left behind is measured
                self.slow_pages += 1
            page.close()
        context.close()

    def sockets(self, count: int) -> None:
        async def cycles() -> None:
            for _ in range(count):
                async with connect(self.gateway.ws_url + "?initial=none", open_timeout=60) as ws:
                    await ws.recv()
                    await ws.send(json.dumps({"event": "subscribe", "data": {"events": ["websdrs:status"]}}))
                    while json.loads(await ws.recv())["event"] != "subscribed":
                        pass
        # In a thread of its own: Playwright's sync API keeps an event loop in this one.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, cycles()).result()

    def sign_ins(self, count: int) -> None:
        for _ in range(count):
            # A slow answer is not what this measures (a loaded 2-core machine, 1,000
            # receivers checked every second): counted, and the next one tried.
            with httpx.Client(base_url=self.gateway.url, timeout=60) as client:
                try:
                    assert client.post("/login", data={"name": "soak", "password": PASSWORD}).status_code == 303
                    client.post("/logout")
                except httpx.TimeoutException:
                    self.slow_sign_ins += 1

    def settled(self, baseline: dict, timeout: float) -> dict:
        """The figures once every closed tab's session is gone (NiceGUI keeps one
        `reconnect_timeout` after its socket closed, for a resume)."""
        wait_for(lambda: figures(self.gateway)["page_clients"] == baseline["page_clients"], timeout, 1.0)
        return figures(self.gateway)

    def round(self, browser, pages: int, sockets: int, sign_ins: int) -> None:
        """Tabs, then sockets, then sign-ins: what stays behind each, not the machine's
        share of two cores between them (docs/reliability.md, sign-ins)."""
        self.pages(browser, pages)
        self.sockets(sockets)
        self.sign_ins(sign_ins)

    def stop(self) -> None:
        self.gateway.stop()
        self.targets.__exit__(None, None, None)


def run(directory: Path, receivers: int, load: tuple[int, int, int], rounds: int = 1,
        settle_s: float = 90) -> tuple[dict, dict, float]:
    """(baseline, after, seconds) of a soak: a round of `load` to warm up (the baseline is
    what the process holds once it has seen the load: its caches, its allocator's
    working set), then `rounds` more of it."""
    from playwright.sync_api import sync_playwright

    soak = Soak(directory, receivers)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            soak.round(browser, *load)
            baseline = soak.settled({"page_clients": 0}, settle_s)
            started = time.monotonic()
            for n in range(rounds):
                soak.round(browser, *load)
                now = figures(soak.gateway)  # sessions of the last tabs still kept: a trend, not a result
                print(f"round {n + 1}/{rounds}: {time.monotonic() - started:.0f} s, RSS {now['rss_bytes'] / 2**20:.1f} MiB, "
                      f"{now['page_clients']} sessions kept, {soak.slow_pages} slow tabs and {soak.slow_sign_ins} slow sign-ins so far", flush=True)
            after = {**soak.settled(baseline, settle_s), "slow_pages": soak.slow_pages,
                     "slow_sign_ins": soak.slow_sign_ins}
            browser.close()
        return baseline, after, time.monotonic() - started
    finally:
        soak.stop()

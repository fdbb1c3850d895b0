"""Dashboard clients benchmark: N real browser tabs on the dashboard, events published.

Starts the gateway on 127.0.0.1, opens N tabs of `/` in one headless Chromium (Debian's
/usr/bin/chromium), then publishes detections through the API and prints: server memory
per open dashboard, server CPU per published event (and per tab), the time from the
POST being sent to the row being visible, in every tab (p50/p95/max), and how long the
POST itself takes with the tabs open against the same POSTs with no tab open (the
pages must not be on the publish path).

    python bench/dashboard_clients.py                 # 50 tabs, 30 events
    python bench/dashboard_clients.py --tabs 10 --events 20
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_seconds  # noqa: E402
from tests.browser import launch, watch_rows  # noqa: E402
from tests.gateway import Gateway, write_config  # noqa: E402


def _browser_cpu() -> float:
    """CPU seconds used so far by all Chromium processes on the machine."""
    return cpu_seconds(p for p in psutil.process_iter(["name"]) if "chrom" in (p.info["name"] or ""))


def post_detections(client: httpx.Client, gw: Gateway, events: int, interval: float, base: float,
                    sent: dict[str, float] | None = None) -> list[float]:
    """POST `events` detections `interval` apart; each POST's duration in ms."""
    durations = []
    for i in range(events):
        frequency = round(base + i * 0.0125, 4)
        body = {"frequency_mhz": frequency, "snr_db": 10.0, "websdr_id": "bench", "timestamp": "2026-11-25T12:00:00Z"}
        if sent is not None:
            sent[f"{frequency:.4f}"] = time.time() * 1000
        started = time.perf_counter()
        client.post(gw.url + "/api/v1/signals", json=body, headers=gw.auth()).raise_for_status()
        durations.append((time.perf_counter() - started) * 1000)
        time.sleep(interval)
    return durations


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"p50 {statistics.median(ordered):.1f} ms, p99 {ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms, "
            f"max {ordered[-1]:.1f} ms")


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tabs", type=int, default=50)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        gw = Gateway(write_config(Path(tmp) / "c.toml"), Path(tmp) / "data").start()
        server = psutil.Process(gw.process.pid)
        browser = launch(playwright)
        try:
            time.sleep(2)
            http = httpx.Client()
            post_detections(http, gw, 5, args.interval, 146.0)  # warm-up
            posts_without_tabs = post_detections(http, gw, args.events, args.interval, 146.1)
            rss_before = server.memory_info().rss
            pages = []
            for _ in range(args.tabs):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(gw.url + "/", wait_until="domcontentloaded")
                page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                                       timeout=60_000)
                pages.append(page)
            time.sleep(3)
            rss_open = server.memory_info().rss
            for page in pages:
                page.evaluate(watch_rows("147."))
            sent = {}
            cpu_before = sum(server.cpu_times()[:2])
            browser_before = _browser_cpu()
            wall_before = time.monotonic()
            posts_with_tabs = post_detections(http, gw, args.events, args.interval, 147.0, sent)
            time.sleep(2)
            cpu_used = sum(server.cpu_times()[:2]) - cpu_before
            browser_share = (_browser_cpu() - browser_before) / (time.monotonic() - wall_before)
            latencies, missing = [], 0
            for page in pages:
                seen = page.evaluate("window.seenAt") or {}  # a tab that reloaded has lost its record
                for key, at in sent.items():
                    if key in seen:
                        latencies.append(seen[key] - at)
                    else:
                        missing += 1
        finally:
            browser.close()
            gw.stop()
    latencies.sort()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}; "
          f"browser and server on the same machine")
    print(f"{args.tabs} dashboard tabs, {args.events} detections {args.interval:g} s apart: "
          f"server memory {(rss_open - rss_before) / args.tabs / 2**20:.2f} MiB per open tab; "
          f"server CPU {cpu_used * 1000 / args.events:.1f} ms per event "
          f"({cpu_used * 1000 / args.events / args.tabs:.2f} ms per event per tab, idle time included); "
          f"POST to row visible: p50 {statistics.median(latencies):.0f} ms, "
          f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.0f} ms, max {latencies[-1]:.0f} ms over "
          f"{len(latencies)} updates; {missing} not seen; the browser used {browser_share:.2f} of the "
          f"{psutil.cpu_count()} cores meanwhile")
    print(f"POST /api/v1/signals with no tab open: {spread(posts_without_tabs)}; "
          f"with {args.tabs} tabs open: {spread(posts_with_tabs)}")


if __name__ == "__main__":
    main()

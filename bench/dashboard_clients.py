"""Dashboard clients benchmark: N real browser tabs on the dashboard, events published.

Starts the gateway on 127.0.0.1, opens N tabs of `/` in one headless Chromium (Debian's
/usr/bin/chromium), then publishes detections through the API and prints: server memory
per open dashboard, server CPU per published event (and per tab), and the time from the
POST being sent to the row being visible, in every tab (p50/p95/max).

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
            for i in range(args.events):
                frequency = round(147.0 + i * 0.0125, 4)
                body = {"frequency_mhz": frequency, "snr_db": 10.0, "websdr_id": "bench",
                        "timestamp": "2026-11-25T12:00:00Z"}
                sent[f"{frequency:.4f}"] = time.time() * 1000
                httpx.post(gw.url + "/api/v1/signals", json=body, headers=gw.auth()).raise_for_status()
                time.sleep(args.interval)
            time.sleep(2)
            cpu_used = sum(server.cpu_times()[:2]) - cpu_before
            browser_share = (_browser_cpu() - browser_before) / (time.monotonic() - wall_before)
            latencies, missing = [], 0
            for page in pages:
                seen = page.evaluate("window.seenAt")
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


if __name__ == "__main__":
    main()

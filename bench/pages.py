"""Pages at network scale: a real gateway, N receivers and 100 services from fakes shaped
like the real captures, headless Chromium.

Receivers: a third KiwiSDR (`/status` of a real 1.711), the rest OpenWebRX (a real
1.1.0-dev `status.json`), every eighth refusing connections; services likewise. Each
round, about 1 % of the receivers change state (the fakes are told to close without an
answer, or to answer again), so a round carries what a live network's does.

For each page it prints: time from navigation until the page is useful (counts by state
and the first rows shown), time until a searched receiver is shown, bytes a tab receives
per polling round, the gateway's CPU per round with no tab and with the three pages
open, each tab's JS heap, and the gateway's RSS with ten tabs open.

    python bench/pages.py --receivers 1000
    python bench/pages.py --receivers 100 1000 5000 --peer /tmp/before   # another checkout, same run
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.cpu import cpu_seconds  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.fake_targets import refused_url  # noqa: E402
from tests.gateway import Gateway  # noqa: E402

USEFUL_WAIT_S = 60
LOADS = 3  # each page is loaded this many times; the median is reported, and the slowest


def searched(receivers: int) -> int:
    """"Receiver 0737", the one the issue's colleague on call looks for, where there is one."""
    return 737 if receivers > 737 else receivers * 3 // 4


def useful_rules(receivers: int) -> dict[str, str]:
    """Counts by state and a first row: what "useful" means for each page. The text tests
    read the old pages too (summary cards, cards per receiver), so that a peer checkout
    is measured by the same rule."""
    n = searched(receivers)
    return {
        "/": r"/\d+ online|\d+ \/ \d+/.test(t) && /Receiver \d{4}/.test(t)",
        "/websdrs": r"/\d+ online|\d+ \/ \d+/.test(t) && /Receiver \d{4}/.test(t)",
        "/system": r"/Service \d{3}/.test(t)",
        f"/websdrs?q=Receiver%20{n:04d}": f"/Receiver {n:04d}/.test(t)",
        f"/websdrs/rx-{n:04d}": f"/Receiver {n:04d}/.test(t) && /State changes/.test(t)",
    }


def _serve_targets(pipe) -> None:
    """The fake receivers and services, in a process of their own; told by the pipe which
    to break or mend."""
    import uvloop

    from tests.fake_targets import FakeTargets

    uvloop.install()
    with FakeTargets() as targets:
        pipe.send(targets.port)
        while True:
            message = pipe.recv()
            if message == "stop":
                return
            for name, behaviour in message:
                if behaviour is None:
                    targets.routes.pop(name, None)
                else:
                    targets.set(name, behaviour)


def config_text(port: int, receivers: int, services: int, interval_s: float) -> str:
    rng = random.Random(7)
    refused = refused_url()
    lines = [f"[polling]\nservices_interval_s = {interval_s}\nwebsdrs_interval_s = {interval_s}\ntimeout_s = 2\n"
             "down_after = 1\n", '[map]\ntile_url = ""\n']
    for i in range(services):
        url = refused if i % 8 == 7 else f"http://127.0.0.1:{port}/healthy-{i}/health"
        lines.append(f'[[services]]\nname = "Service {i:03d}"\nurl = "{url}"\n')
    for i in range(receivers):
        kind = "kiwisdr" if i % 3 == 0 else "openwebrx"
        url = refused if i % 8 == 7 else f"http://127.0.0.1:{port}/{kind}-{i}/"
        lat, lon = 36 + rng.random() * 20, -8 + rng.random() * 30  # Europe, roughly
        lines.append(f'[[websdrs]]\nid = "rx-{i:04d}"\nname = "Receiver {i:04d}"\nurl = "{url}"\nkind = "{kind}"\n'
                     f"latitude = {lat:.4f}\nlongitude = {lon:.4f}\n")
    return "\n".join(lines)


class Flipper:
    """About `share` of the receivers change state each round: broken ones mend, others break."""

    def __init__(self, pipe, receivers: int, share: float) -> None:
        self.pipe, self.share = pipe, share
        self.names = [f"{'kiwisdr' if i % 3 == 0 else 'openwebrx'}-{i}" for i in range(receivers) if i % 8 != 7]
        self.broken: list[str] = []
        self.rng = random.Random(11)

    def flip(self) -> None:
        count = max(1, round(len(self.names) * self.share))
        mend, self.broken = self.broken[:count // 2], self.broken[count // 2:]
        fresh = self.rng.sample([n for n in self.names if n not in self.broken], count - len(mend))
        self.broken += fresh
        self.pipe.send([(name, None) for name in mend] + [(name, "close") for name in fresh])


def server_cpu(gateway: Gateway) -> tuple[float, float]:
    """(server process, its children: the probe worker) CPU seconds so far."""
    process = psutil.Process(gateway.process.pid)
    return cpu_seconds([process]), cpu_seconds(process.children(recursive=True))


def time_to_useful(browser, url: str, rule: str) -> float | None:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=USEFUL_WAIT_S * 1000)
        page.wait_for_function(f"() => {{ const t = document.body ? document.body.innerText : ''; return {rule}; }}",
                               polling=50, timeout=USEFUL_WAIT_S * 1000)
        return time.perf_counter() - started
    except Exception:  # noqa: BLE001 - never useful within the wait: reported as such
        return None
    finally:
        page.close()


def time_to_search(browser, base: str, n: int) -> float | None:
    """On /websdrs, type a receiver's name into the search box: until its row shows."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.goto(base + "/websdrs", wait_until="commit", timeout=USEFUL_WAIT_S * 1000)
        box = page.locator("input[type=search]")
        box.wait_for(timeout=USEFUL_WAIT_S * 1000)
        page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'")
        started = time.perf_counter()
        box.fill(f"Receiver {n:04d}")
        page.wait_for_function(f"() => document.querySelector('tr[data-key=\"rx-{n:04d}\"]') && "
                               "document.querySelectorAll('.hl-table tbody tr[data-key]').length === 1",
                               polling=20, timeout=USEFUL_WAIT_S * 1000)
        return time.perf_counter() - started
    except Exception:  # noqa: BLE001 - a page without a search box (a peer) has no figure
        return None
    finally:
        page.close()


def repeat(measure) -> tuple[float, float] | None:
    """(median, slowest) of LOADS runs; None at the first that never got there."""
    times = []
    for _ in range(LOADS):
        taken = measure()
        if taken is None:
            return None
        times.append(taken)
    return statistics.median(times), max(times)


def open_tab(browser, url: str):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.received = 0

    def on_socket(socket) -> None:
        if "socket.io" in socket.url:
            socket.on("framereceived", lambda payload: setattr(page, "received", page.received + len(payload)))

    page.on("websocket", on_socket)
    page.goto(url, wait_until="commit", timeout=USEFUL_WAIT_S * 1000)
    try:
        page.wait_for_function("window.heimdallConnection && window.heimdallConnection.state === 'connected'",
                               timeout=USEFUL_WAIT_S * 1000)
    except Exception:  # noqa: BLE001 - a page that never connects (a peer's, at scale) is measured as it is
        pass
    return page


def heap_mib(page) -> float:
    if page.is_closed():
        return float("nan")
    session = page.context.new_cdp_session(page)
    page.evaluate("() => new Promise(r => setTimeout(r, 10))")
    used = session.send("Runtime.getHeapUsage")["usedSize"]
    session.detach()
    return used / 2 ** 20


def rounds(gateway: Gateway, flipper: Flipper, count: int, interval_s: float, pages=()) -> tuple[float, float, float]:
    """Run `count` polling rounds with ~1 % flipping; (server CPU, worker CPU, wall) per round."""
    server0, worker0 = server_cpu(gateway)
    started = time.monotonic()
    for _ in range(count):
        flipper.flip()
        deadline = time.monotonic() + interval_s
        while time.monotonic() < deadline:
            for page in pages:
                try:
                    page.evaluate("1")  # keep Playwright's event pump (the frame counters) running
                except Exception:  # noqa: BLE001 - the page reloaded itself meanwhile (a peer's, at scale)
                    pass
            time.sleep(0.2)
    server1, worker1 = server_cpu(gateway)
    return (server1 - server0) / count, (worker1 - worker0) / count, (time.monotonic() - started) / count


def measure(checkout: Path, receivers: int, args, browser, pipe, port: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text(config_text(port, receivers, args.services, args.interval))
        gateway = Gateway(config, Path(tmp) / "data", cwd=checkout).start(timeout=120)
        flipper = Flipper(pipe, receivers, args.change)
        result: dict = {"receivers": receivers}
        try:
            time.sleep(args.interval * 2)  # two rounds: every target checked, the history has points
            result["useful"] = {}
            for path, rule in useful_rules(receivers).items():
                result["useful"][path] = repeat(lambda: time_to_useful(browser, gateway.url + path, rule))
            result["search"] = repeat(lambda: time_to_search(browser, gateway.url, searched(receivers)))
            rounds(gateway, flipper, 1, args.interval)  # settle
            result["cpu_idle"] = rounds(gateway, flipper, args.rounds, args.interval)
            pages = [open_tab(browser, gateway.url + path) for path in ("/", "/websdrs", "/system")]
            rounds(gateway, flipper, 1, args.interval, pages)  # settle: first paint done
            for page in pages:
                page.received = 0
            result["cpu_tabs"] = rounds(gateway, flipper, args.rounds, args.interval, pages)
            result["bytes"] = {path: page.received / args.rounds
                               for path, page in zip(("/", "/websdrs", "/system"), pages)}
            result["heap"] = {path: heap_mib(page) for path, page in zip(("/", "/websdrs", "/system"), pages)}
            more = [open_tab(browser, gateway.url + path) for path in ("/", "/websdrs", "/system") * 3][:7]
            rounds(gateway, flipper, 1, args.interval, pages + more)
            result["rss_10_tabs"] = psutil.Process(gateway.process.pid).memory_info().rss / 2 ** 20
            for page in pages + more:
                page.close()
        finally:
            gateway.stop()
            pipe.send([(name, None) for name in flipper.broken])
    return result


def show(label: str, r: dict) -> None:
    def s(value) -> str:
        return f"not within {USEFUL_WAIT_S} s" if value is None else f"median {value[0]:.2f} s, slowest {value[1]:.2f} s"

    print(f"## {label}: {r['receivers']} receivers (each page loaded {LOADS} times; the first load of all is cold)")
    for path, value in r["useful"].items():
        print(f"  useful {path:28} {s(value)}")
    print(f"  search box to row           {s(r['search'])}")
    idle, tabs = r["cpu_idle"], r["cpu_tabs"]
    print(f"  gateway CPU a round: no tab {idle[0]:.3f} s, three tabs {tabs[0]:.3f} s "
          f"(+{(tabs[0] / idle[0] - 1) * 100 if idle[0] else 0:.0f} %); probe worker {idle[1]:.3f} s")
    print("  bytes a round a tab: " + ", ".join(f"{p} {b / 1024:.1f} KiB" for p, b in r["bytes"].items()))
    print("  JS heap: " + ", ".join(f"{p} {h:.1f} MiB" for p, h in r["heap"].items()))
    print(f"  gateway RSS with 10 tabs: {r['rss_10_tabs']:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receivers", type=int, nargs="+", default=[1000])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--change", type=float, default=0.01, help="share of receivers changing state a round")
    parser.add_argument("--peer", type=Path, help="another checkout (e.g. a git worktree of the last release)")
    parser.add_argument("--peer-only", action="store_true", help="measure only the peer")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    parent, child = mp.Pipe()
    targets = mp.get_context("spawn").Process(target=_serve_targets, args=(child,), daemon=True)
    targets.start()
    port = parent.recv()
    print(f"# machine: {platform.platform()}, {psutil.cpu_count()} cores, Python {platform.python_version()}; "
          f"gateway, fakes and Chromium on the same machine; polling every {args.interval:g} s, "
          f"{args.services} services, {args.change:.0%} of receivers changing a round")
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for receivers in args.receivers:
                for label, checkout in (("this checkout", ROOT), ("peer " + str(args.peer), args.peer)):
                    if checkout is None or (args.peer_only and checkout == ROOT):
                        continue
                    show(label, measure(checkout, receivers, args, browser, parent, port))
                    sys.stdout.flush()
            browser.close()
    finally:
        parent.send("stop")
        targets.join(5)


if __name__ == "__main__":
    main()

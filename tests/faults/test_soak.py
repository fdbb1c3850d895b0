"""A week of tabs, compressed for CI (tests/faults/soak.py; bench/soak.py runs the long
one): after page opens and closes in a real Chromium, socket cycles and sign-ins, the
gateway's page sessions, descriptors, asyncio tasks and memory come back to their
warmed-up baseline.

Memory: the issue's bound is +30 MiB for the full soak. This short one (60 tabs, 600
sockets, 100 sign-ins after a round like it) grew 3.0 MiB with closed sessions collected
soon (ui/sessions.py) and 30.8 MiB without (same machine, same run of the code
otherwise): held here to 15 MiB."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM
from tests.faults.soak import run

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


@pytest.mark.timeout(600)
def test_tabs_sockets_and_sign_ins_leave_no_session_descriptor_or_task_behind(tmp_path):
    baseline, after, _ = run(tmp_path, receivers=100, load=(60, 600, 100))
    assert after["page_clients"] == baseline["page_clients"] == 0
    assert abs(after["open_descriptors"] - baseline["open_descriptors"]) <= 10, (baseline, after)
    assert after["asyncio_tasks"] <= baseline["asyncio_tasks"] + 10, (baseline, after)
    assert after["ws_clients"] == 0
    assert after["slow_pages"] == after["slow_sign_ins"] == 0  # 100 receivers: every tab and sign-in answered
    grown = (after["rss_bytes"] - baseline["rss_bytes"]) / 2**20
    print(f"RSS {baseline['rss_bytes'] / 2**20:.1f} → {after['rss_bytes'] / 2**20:.1f} MiB ({grown:+.1f})")
    assert grown <= 15, (baseline, after)
    assert after["collections_after_closed_tabs"] > baseline["collections_after_closed_tabs"]

"""A week of tabs, compressed for CI (tests/faults/soak.py; bench/soak.py runs the long
one): after page opens and closes in a real Chromium, socket cycles and sign-ins, the
gateway's memory, descriptors, asyncio tasks and page sessions come back to their
warmed-up baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM
from tests.faults.soak import run

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


def test_tabs_sockets_and_sign_ins_leave_nothing_behind(tmp_path):
    baseline, after, _ = run(tmp_path, receivers=100, warmup=(15, 100, 20), load=(60, 600, 100))
    assert after["page_clients"] == baseline["page_clients"] == 0
    assert abs(after["open_descriptors"] - baseline["open_descriptors"]) <= 10, (baseline, after)
    assert after["asyncio_tasks"] <= baseline["asyncio_tasks"] + 10, (baseline, after)
    assert after["rss_bytes"] - baseline["rss_bytes"] < 30 * 1024 * 1024, (baseline, after)

"""A week of tabs, compressed for CI (tests/faults/soak.py; bench/soak.py runs the long
one): after page opens and closes in a real Chromium, socket cycles and sign-ins, the
gateway's page sessions, descriptors and asyncio tasks come back to their warmed-up
baseline.

Its memory does not yet (issue 33, open): a receiver's page opened and closed leaves
about 1.4 MiB of RSS behind that tracemalloc does not see in Python's own objects (the
dashboard about 0.05 MiB, sockets and sign-ins nothing); docs/reliability.md has the
figures. It is printed here, not asserted, until it is fixed."""

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
    print(f"RSS {baseline['rss_bytes'] / 2**20:.1f} → {after['rss_bytes'] / 2**20:.1f} MiB")

"""The single-node default on SQLite with its disk full (issue 33: 180 of 181 POSTs got
500 and the reason only inside tracebacks): its data directory on a small filesystem of
its own (a tmpfs, mounted here; skipped where mounting is not allowed), filled, then
freed."""

from __future__ import annotations

import os
import subprocess
import uuid

import httpx
import pytest

from tests.gateway import Gateway
from tests.waiting import wait_for


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.decode().strip()[:100]}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(directory) -> None:
    """Fill the filesystem to its last byte (unbuffered: nothing left to flush at close)."""
    descriptor = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(descriptor)


def test_a_full_disk_is_answered_503_told_on_healthz_and_recovers_when_freed(small_disk, tmp_path):
    (tmp_path / "c.toml").write_text("[polling]\nservices_interval_s = 30\n")
    gw = Gateway(tmp_path / "c.toml", small_disk / "data").start()
    try:
        def post() -> httpx.Response:
            return httpx.post(gw.url + "/api/v1/signals", headers=gw.auth(), timeout=10, json={
                "id": uuid.uuid4().hex, "frequency_mhz": 145.5, "snr_db": 9.0, "websdr_id": "torino",
                "timestamp": "2026-12-07T12:00:00Z", "pad": "x" * 8000})
        assert post().status_code == 201
        fill(small_disk)
        full = wait_for(lambda: (answer := post()).status_code != 201 and answer, 30)
        assert full.status_code == 503 and full.headers["retry-after"] == "5", full.text
        assert "database or disk is full" in full.json()["detail"] and "nothing was kept" in full.json()["detail"]
        health = httpx.get(gw.url + "/healthz").json()
        assert health["status"] == "degraded" and health["parts"]["storage"].startswith("down: database or disk")
        (small_disk / "filler").unlink()
        assert wait_for(lambda: post().status_code == 201, 30)
        assert wait_for(lambda: httpx.get(gw.url + "/healthz").json()["status"] == "ok", 10)
        output = gw.stop()
    finally:
        gw.stop()
    assert "Traceback" not in output and "internal error" not in output, output[-3000:]
    assert "storage unavailable" in output  # said, in one line

"""Run inside a loopback-only network namespace by tests/auth/test_access.py: a gateway bound
to 0.0.0.0 (so login is required without any setting), checked from the same namespace.
Prints one line per check and exits non-zero on the first that fails."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gateway import Gateway  # noqa: E402

DETECTION = {"frequency_mhz": 145.5, "snr_db": 10.0, "websdr_id": "torino", "timestamp": "2026-11-25T12:00:00Z"}


def check(what: str, ok: bool) -> None:
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        sys.exit(1)


async def websocket_refused(url: str, **kwargs) -> bool:
    try:
        async with connect(url, **kwargs):
            return False
    except InvalidStatus as refused:
        return refused.response.status_code == 403


def main() -> int:
    root = Path(tempfile.mkdtemp())
    (root / "c.toml").write_text("")
    data = root / "data"
    subprocess.run([sys.executable, "main.py", "token", "create", "reader", "--scope", "read", "--data-dir",
                    str(data)], cwd=ROOT, check=True, capture_output=True)
    token = subprocess.run([sys.executable, "main.py", "token", "create", "viewer", "--scope", "read", "--data-dir",
                            str(data)], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()[-1]
    gw = Gateway(root / "c.toml", data, extra_args=("--host", "0.0.0.0")).start()
    url = gw.url.replace("0.0.0.0", "127.0.0.1")
    ws_url = url.replace("http://", "ws://") + "/ws/updates"
    read = {"Authorization": f"Bearer {token}"}
    try:
        check("login required is announced", any("Login required" in line for line in gw.output))
        check("anonymous REST read is 401", httpx.get(url + "/api/v1/system/status").status_code == 401)
        check("anonymous /ws/updates is refused", asyncio.run(websocket_refused(ws_url)))
        check("a read token reads", httpx.get(url + "/api/v1/system/status", headers=read).status_code == 200)
        check("a read token cannot ingest",
              httpx.post(url + "/api/v1/signals", json=DETECTION, headers=read).status_code == 403)
        check("a foreign Origin is refused even with a valid token",
              httpx.get(url + "/api/v1/system/status", headers={**read, "Origin": "http://evil.example"}
                        ).status_code == 403
              and asyncio.run(websocket_refused(ws_url, origin="http://evil.example", additional_headers=read)))
        check("the gateway's own origin is accepted",
              httpx.get(url + "/api/v1/system/status", headers={**read, "Origin": url}).status_code == 200)
        # The first admin, listening beyond loopback: only with the code the start printed.
        printed = next(line for line in gw.output if "No admin account yet" in line)
        code = printed.split("/setup?code=", 1)[1].split(" ", 1)[0]
        form = {"name": "root", "password": "correct horse battery", "again": "correct horse battery"}
        check("setup without the code is refused, even from this machine",
              httpx.get(url + "/setup").status_code == 403
              and httpx.post(url + "/setup", data=form).status_code == 403)
        check("setup with a wrong code is refused", httpx.get(url + "/setup?code=wrong").status_code == 403)
        made = httpx.post(url + "/setup", data={**form, "code": code})
        check("setup with the printed code creates the admin and signs in",
              made.status_code == 303 and made.headers["location"] == "/admin" and "heimdall_session=" in
              made.headers.get("set-cookie", ""))
        check("setup is closed once an admin exists",
              httpx.get(url + f"/setup?code={code}").status_code == 404
              and httpx.post(url + "/setup", data={**form, "name": "second", "code": code}).status_code == 404)
    finally:
        gw.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

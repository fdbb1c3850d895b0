"""A real gateway process on 127.0.0.1 for the integration tests and benchmarks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789"

# Tests reach nothing but loopback: a config with no targets unless a test adds some.
QUIET_CONFIG = """
[polling]
services_interval_s = {interval}
websdrs_interval_s = {interval}
timeout_s = {timeout}

[websocket]
heartbeat_interval_s = {heartbeat}
send_queue_bytes = {queue}

[hub]
replay_buffer = {replay}
"""


# One service and one receiver at a loopback port where nothing answers: configured
# targets that stay down, for tests that need names but no traffic.
ONE_OF_EACH = """
[[services]]
name = "inference"
url = "http://127.0.0.1:9/health"

[[websdrs]]
id = "torino"
name = "Torino"
url = "http://127.0.0.1:9/"
kind = "openwebrx"
latitude = 45.044
longitude = 7.672
"""


def write_config(path: Path, heartbeat: float = 30, queue: int = 1024 * 1024, replay: int = 10_000,
                 interval: float = 30, timeout: float = 5, extra: str = "") -> Path:
    path.write_text(QUIET_CONFIG.format(heartbeat=heartbeat, queue=queue, replay=replay, interval=interval,
                                        timeout=timeout) + extra)
    return path


class Gateway:
    """`python main.py` in a subprocess, on a port the OS picks."""

    def __init__(self, config: Path | None, data_dir: Path, token: str | None = TOKEN, port: int = 0,
                 extra_args: tuple[str, ...] = (), cwd: Path = ROOT, env: dict[str, str] | None = None,
                 own_process_group: bool = False) -> None:
        self.own_process_group = own_process_group  # as systemd or a shell job runs it: signals go to the group
        self.cwd = cwd  # another checkout's main.py, for a benchmark's peer
        self.config = config
        self.data_dir = data_dir
        self.token = token
        self.port = port
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.output: list[str] = []  # the process's log, line by line, read as it is written
        self._said = threading.Condition()
        self._reader: threading.Thread | None = None
        self.extra_args = extra_args
        self.env = env or {}  # HEIMDALL_DATABASE_URL, say

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/updates"

    def start(self, timeout: float = 30) -> "Gateway":
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
        if self.token:
            env["HEIMDALL_API_TOKEN"] = self.token
        env.update(self.env)
        command = [sys.executable, "main.py", "--port", str(self.port), "--data-dir", str(self.data_dir),
                   *(["--config", str(self.config)] if self.config else []), *self.extra_args]
        self.process = subprocess.Popen(command, cwd=self.cwd, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=self.own_process_group)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("gateway exited at start:\n" + "".join(self.output))
            self.output.append(line)
            found = re.search(r"listening on (http://[\d.]+:(\d+))/", line)
            if found:
                self.url = found.group(1)
                self.port = int(found.group(2))  # a restart comes back on the same port
                # Read the log as it comes: a pipe nobody reads fills up and blocks the gateway
                # on its next log line (a flood of them stopped the soak's gateway once).
                self._reader = threading.Thread(target=self._read_log, args=(self.process.stdout,), daemon=True)
                self._reader.start()
                self._wait_ready(deadline)
                return self
        raise RuntimeError("gateway did not start in time:\n" + "".join(self.output))

    def _read_log(self, stream) -> None:
        for line in stream:
            with self._said:
                self.output.append(line)
                self._said.notify_all()

    def wait_for_line(self, text: str, timeout: float = 30) -> str:
        """The first line of the log so far, or to come, that contains `text`."""
        with self._said:
            found = self._said.wait_for(lambda: next((line for line in self.output if text in line), None), timeout)
        if found is None:
            raise AssertionError(f"the gateway did not say {text!r} in {timeout} s:\n" + "".join(self.output[-40:]))
        return found

    def _wait_ready(self, deadline: float) -> None:
        def answering() -> bool:
            try:
                return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        wait_for(answering, max(0.1, deadline - time.monotonic()), 0.05)

    def stop(self) -> str:
        """Stop the process (if it still runs) and answer everything it wrote."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(10)  # the pipe ends when the process (and any child holding it) has
            self._reader = None
        if self.process and self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()
        return "".join(self.output)

    def restart(self) -> "Gateway":
        self.stop()
        return self.start()

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stats(self) -> dict:
        return httpx.get(self.url + "/api/v1/gateway/stats", timeout=5).json()

    def alerts(self, headers: dict[str, str] | None = None) -> dict:
        return httpx.get(self.url + "/api/v1/alerts", headers=headers or self.auth(), timeout=5).json()

    def settle(self, rounds: int = 3, timeout: float = 30, headers: dict[str, str] | None = None) -> None:
        """Wait until the alert rules have seen `rounds` more rounds and every notification
        they queued is out: what would have been sent by then has been (waits on the
        gateway's own counters, not on a clock)."""
        start = self.alerts(headers)["rounds_evaluated"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.alerts(headers)
            if answer["rounds_evaluated"] >= start + rounds and answer["notifications_pending"] == 0:
                return
        raise AssertionError(f"the alert engine did not evaluate {rounds} rounds in {timeout} s")

    def stats_with(self, headers: dict[str, str]) -> dict:
        return httpx.get(self.url + "/api/v1/gateway/stats", headers=headers, timeout=5).json()

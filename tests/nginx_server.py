"""Debian's nginx on a loopback port, in a temporary directory, running deploy/nginx.conf
with only the upstream addresses, the port and the log path changed. Never the system
service."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

from tests.gateway import ROOT
from tests.redis_server import free_port
from tests.waiting import wait_for

DEPLOYED = ROOT / "deploy" / "nginx.conf"


def configured_for(text: str, upstreams: dict[str, str], port: int, directory: Path) -> str:
    """deploy/nginx.conf pointed at loopback: `gateway-a:8000` -> `127.0.0.1:PORT`, ..."""
    for name, address in upstreams.items():
        assert f"server {name};" in text or f"server {name} " in text, name
        text = text.replace(f"server {name}", f"server {address}")
    assert "listen 80;" in text
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    return text.replace("/var/log/nginx/access.log", str(directory / "access.log"))


class NginxServer:
    def __init__(self, directory: Path, upstreams: dict[str, str]) -> None:
        self.directory = directory
        self.port = free_port()
        self.upstreams = upstreams
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "NginxServer":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "nginx.conf"
        conf.write_text(configured_for(DEPLOYED.read_text(), self.upstreams, self.port, self.directory))
        globals_ = (f"daemon off; pid {self.directory}/nginx.pid; error_log {self.directory}/error.log warn;")
        self.process = subprocess.Popen([binary, "-p", str(self.directory), "-c", str(conf), "-g", globals_],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        def answering() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError("nginx exited: " + self.process.stderr.read().decode(errors="replace"))
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return True
            except httpx.HTTPError:
                return False
        wait_for(answering, 10)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

"""A real PostgreSQL (Debian's package) on a loopback port, in a temporary directory.
Never the system service: `initdb` + `pg_ctl`, started by the tests and stopped by them.

PostgreSQL refuses to run as root; as root, the server runs as Debian's `postgres` user
(created by the package) through `runuser`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.redis_server import free_port


def binary_dir() -> Path | None:
    """Debian keeps them in /usr/lib/postgresql/<major>/bin, off the PATH."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    def __init__(self) -> None:
        self.bin = binary_dir()
        self.port = free_port()
        self.directory: Path | None = None
        self._counter = 0

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return list(command)

    def start(self) -> "PostgresServer":
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        # Not under pytest's 0700 tmp tree: the postgres user must be able to reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="heimdall-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        data = self.directory / "data"
        subprocess.run(self._as_owner(str(self.bin / "initdb"), "-D", str(data), "-U", "heimdall", "--auth=trust",
                                      "-E", "UTF8", "--no-sync"),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self.resume()

    def resume(self) -> "PostgresServer":
        """Start the server on its data directory (again, after `halt`)."""
        assert self.directory is not None and self.bin is not None
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.directory} "
                   "-c fsync=off -c max_connections=200")
        subprocess.run(self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-o", options,
                                      "-w", "-t", "60", "-l", str(self.directory / "log"), "start"),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def halt(self) -> None:
        """Stop it as an operator would for maintenance (fast shutdown), keeping its data."""
        assert self.directory is not None and self.bin is not None
        subprocess.run(self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast",
                                      "-w", "stop"), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://heimdall@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.directory is None:
            return
        subprocess.run(self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate",
                                      "stop"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

"""Secrets the gateway generates when none is configured: the ingestion token and the
session secret.

One gateway (SQLite): each is generated once, written 0600 in a 0700 data directory,
and read back at every start. Several gateways on one PostgreSQL: kept in its
`shared_secrets` table instead, so a login or token made on one is valid on all; the
first gateway to start generates them, the others read them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_FILE = "api_token"
SESSION_SECRET_FILE = "session_secret"
MIN_TOKEN_CHARS = 16


class SecretError(ValueError):
    """A configured secret that cannot be used (one line for stderr)."""


def private_directory(path: Path) -> None:
    """Create the data directory readable by this user only (0700), and make it so."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)


def _kept_or_new(path: Path, make) -> tuple[str, bool]:
    if path.exists():
        os.chmod(path, 0o600)
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value, False
    value = make()
    write_private(path, value)
    return value, True


class SharedSecrets:
    """The `shared_secrets` table: insert if absent, then read what won (another gateway
    starting at the same moment may have inserted first)."""

    def __init__(self, database) -> None:
        self._c = database.connection

    def kept_or_new(self, name: str, make) -> tuple[str, bool]:
        created = self._c.execute("INSERT INTO shared_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                                  (name, make())).rowcount == 1
        (value,) = self._c.execute("SELECT value FROM shared_secrets WHERE name = ?", (name,)).fetchone()
        return value, created


def _kept(data_dir: Path, shared: SharedSecrets | None, name: str, make) -> tuple[str, bool]:
    return shared.kept_or_new(name, make) if shared is not None else _kept_or_new(data_dir / name, make)


def load_or_create_token(data_dir: Path, configured: str | None,
                         shared: SharedSecrets | None = None) -> tuple[str, bool]:
    """The ingestion token, and whether it was generated just now (to print it once)."""
    if configured is not None:
        if len(configured) < MIN_TOKEN_CHARS:
            raise SecretError(f"HEIMDALL_API_TOKEN is shorter than {MIN_TOKEN_CHARS} characters; "
                              f"use a random one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return configured, False
    return _kept(data_dir, shared, TOKEN_FILE, lambda: secrets.token_urlsafe(32))


def load_or_create_session_secret(data_dir: Path, configured: str | None, shared: SharedSecrets | None = None) -> str:
    if configured is not None:
        if len(configured) < 32:
            raise SecretError("HEIMDALL_SESSION_SECRET is shorter than 32 characters")
        return configured
    return _kept(data_dir, shared, SESSION_SECRET_FILE, lambda: secrets.token_urlsafe(48))[0]

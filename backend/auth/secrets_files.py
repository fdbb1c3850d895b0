"""Secrets kept in the data directory: the ingestion token and the session secret.

Each is generated once, written 0600 in a 0700 directory, and read back at every start.
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


def load_or_create_token(data_dir: Path, configured: str | None) -> tuple[str, bool]:
    """The ingestion token, and whether it was generated just now (to print it once)."""
    if configured is not None:
        if len(configured) < MIN_TOKEN_CHARS:
            raise SecretError(f"HEIMDALL_API_TOKEN is shorter than {MIN_TOKEN_CHARS} characters; "
                              f"use a random one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return configured, False
    return _kept_or_new(data_dir / TOKEN_FILE, lambda: secrets.token_urlsafe(32))


def load_or_create_session_secret(data_dir: Path, configured: str | None) -> str:
    if configured is not None:
        if len(configured) < 32:
            raise SecretError("HEIMDALL_SESSION_SECRET is shorter than 32 characters")
        return configured
    return _kept_or_new(data_dir / SESSION_SECRET_FILE, lambda: secrets.token_urlsafe(48))[0]

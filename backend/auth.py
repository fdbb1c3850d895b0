"""The ingestion API token: configured, or generated once and kept in the data dir."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

TOKEN_FILE = "api_token"


def load_or_create_token(data_dir: Path, configured: str | None) -> tuple[str, bool]:
    """The token to require, and whether it was generated just now (to print it once)."""
    if configured:
        return configured, False
    path = data_dir / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, False
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token, True


def bearer_matches(header: str | None, token: str) -> bool:
    """True when an Authorization header carries exactly `Bearer <token>`."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def token_acceptable(header: str | None, token: str) -> bool:
    """Reading needs no token; but a token that is given must be the gateway's, so that a
    client with a wrong one hears so at once instead of later, on its first write."""
    return header is None or bearer_matches(header, token)

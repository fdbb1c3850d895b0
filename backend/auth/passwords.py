"""Password hashing with argon2id (argon2-cffi, its RFC 9106 low-memory profile)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id, time_cost 3, memory 64 MiB (RFC 9106's second choice), in one lane: an
# attacker's cost per guess is the same with one lane or four, but four take every core
# of a small server for each sign-in, and a burst of them starved the dashboard on two
# cores (docs/reliability.md). One lane leaves the other core to the pages.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
# Verifying against this when an account does not exist costs the same time as a real
# check, so an attacker cannot tell names that exist from names that do not.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password[:MAX_PASSWORD_CHARS]) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True for a hash made with other parameters (an older release's four lanes, say):
    the next successful sign-in stores it again with these."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"a password needs at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"a password has at most {MAX_PASSWORD_CHARS} characters"
    return None


def random_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits

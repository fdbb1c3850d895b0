"""Password hashing with argon2id (argon2-cffi, its RFC 9106 low-memory profile)."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

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

T = TypeVar("T")

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


class PasswordsBusy(RuntimeError):
    """More password checks are waiting than the lane takes: try again in a moment."""


class PasswordLane:
    """Argon2 work, one at a time on a thread of its own. Not on the database thread: a
    burst of sign-ins held every store behind it there (detections POSTed waited on
    password checks). One at a time: a burst takes one core at most, whatever its size.
    At most `max_waiting` wait; more are refused (PasswordsBusy), not queued for minutes."""

    def __init__(self, max_waiting: int = 32) -> None:
        self.max_waiting = max_waiting
        self.waiting = 0
        self.refused = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="passwords")

    def run(self, fn: Callable[..., T], *args: Any) -> "asyncio.Future[T]":
        """`fn(*args)` in the lane, to be awaited; refused at once when the lane is full."""
        if self.waiting >= self.max_waiting:
            self.refused += 1
            raise PasswordsBusy(f"{self.waiting} password checks are waiting")
        self.waiting += 1
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: asyncio.Future) -> None:
        self.waiting -= 1

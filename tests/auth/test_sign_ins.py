"""What a sign-in costs the server, bounded: argon2 in one lane and off the database thread,
a bounded wait for it, older hashes moved onto today's parameters, and sessions kept per account."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher

from backend.auth.passwords import PasswordLane, PasswordsBusy, hash_password, verify_password
from backend.auth.principal import Authenticator
from backend.auth.store import Account, AuthStore
from backend.config.schema import Config
from backend.storage import open_database
from tests.auth.test_access import cli
from tests.gateway import Gateway

PASSWORD = "correct horse battery staple"


def test_new_hashes_take_one_lane_and_the_rfc_memory():
    """One lane: four took both cores of a small server for each sign-in (issue 33)."""
    assert hash_password(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=1$")


async def test_a_four_lane_hash_of_an_older_release_still_signs_in_and_is_stored_again(tmp_path):
    database = open_database(tmp_path / "heimdall.db")
    store = AuthStore(database)
    store.add_account("ops", "admin", PASSWORD)
    auth = Authenticator(Config(), database, store, "e" * 20, "s" * 48, login_required=True)
    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash(PASSWORD)  # argon2-cffi's default
    database.connection.execute("UPDATE accounts SET password_hash = ? WHERE name = 'ops'", (old,))

    def stored() -> str:
        return database.connection.execute("SELECT password_hash FROM accounts WHERE name = 'ops'").fetchone()[0]

    assert await auth.check_password("ops", "not the password") is None
    assert stored() == old  # a failed try changes nothing
    assert await auth.check_password("ops", PASSWORD) == Account("ops", "admin")
    assert stored() != old and ",p=1$" in stored() and verify_password(stored(), PASSWORD)
    assert await auth.check_password("ops", PASSWORD) == Account("ops", "admin")
    database.close_now()


async def test_sign_ins_do_not_hold_the_database_thread(tmp_path):
    """Argon2 ran on the database thread, so a burst of sign-ins held every store behind
    it (a detection POSTed waited for the password checks queued before it)."""
    database = open_database(tmp_path / "heimdall.db")
    store = AuthStore(database)
    store.add_account("ops", "admin", PASSWORD)
    auth = Authenticator(Config(), database, store, "e" * 20, "s" * 48, login_required=True)
    done: list[str] = []

    async def sign_in(n: int) -> None:
        assert await auth.check_password("ops", PASSWORD if n % 2 else "a wrong guess") == (
            Account("ops", "admin") if n % 2 else None)
        done.append("sign-in")

    async def store_something() -> None:  # started last: queued behind the sign-ins' first database calls
        await database.run(store.count_accounts)
        done.append("store")

    await asyncio.gather(*(sign_in(n) for n in range(8)), store_something())
    assert done.index("store") < 2, done  # not after eight password checks
    database.close_now()


async def test_a_full_password_lane_refuses_rather_than_queues():
    lane = PasswordLane(max_waiting=2)
    release = threading.Event()
    held = [lane.run(release.wait, 30) for _ in range(2)]  # both taken by the lane at once
    with pytest.raises(PasswordsBusy):
        lane.run(verify_password, None, PASSWORD)
    assert lane.refused == 1 and lane.waiting == 2
    release.set()
    assert await asyncio.gather(*held) == [True, True]
    assert await lane.run(verify_password, hash_password(PASSWORD), PASSWORD) is True
    assert lane.waiting == 0


def test_a_login_while_the_lane_is_full_is_asked_to_come_back(tmp_path):
    """Beyond `password_checks_waiting`: a page the browser shows, with the wait, and 503
    + Retry-After for a script; the sign-ins the lane took go through."""
    (tmp_path / "c.toml").write_text("[auth]\nrequired = true\npassword_checks_waiting = 1\n")
    assert cli(tmp_path / "data", "user", "add", "ops", "--role", "viewer", stdin=PASSWORD + "\n").returncode == 0
    gw = Gateway(tmp_path / "c.toml", tmp_path / "data").start()
    start = threading.Barrier(8)

    def sign_in(_: int) -> httpx.Response:
        start.wait()
        return httpx.post(gw.url + "/login", data={"name": "ops", "password": PASSWORD}, timeout=30)

    try:
        with ThreadPoolExecutor(8) as clients:
            answers = list(clients.map(sign_in, range(8)))
        counted = gw.stats_with({"cookie": next(a for a in answers if a.status_code == 303).headers["set-cookie"]
                                 .split(";")[0]})["sign_ins_busy"]
    finally:
        output = gw.stop()
    busy = [a for a in answers if a.status_code == 503]
    assert busy and all(a.status_code == 303 for a in answers if a not in busy), [a.status_code for a in answers]
    assert all(a.headers["retry-after"] == "2" and "Try again in 2 s." in a.text for a in busy)
    assert counted == len(busy)
    assert "password checks already waiting" in output and PASSWORD not in output


def test_an_account_keeps_its_newest_sessions_and_the_oldest_end(database_location, monkeypatch):
    """A script that signs in and never out cannot grow the sessions without bound."""
    from backend.auth import store as store_module

    clock = iter(range(1_000_000, 2_000_000, 1000))
    monkeypatch.setattr(store_module, "now_ms", lambda: next(clock))
    monkeypatch.setattr(store_module, "MAX_SESSIONS_PER_ACCOUNT", 3)
    database = open_database(database_location)
    store = AuthStore(database)
    store.add_account("ops", "viewer", PASSWORD)
    store.add_account("boss", "admin", PASSWORD)
    theirs = store.open_session("boss")
    opened = [store.open_session("ops") for _ in range(5)]
    assert [store.session(s) for s in opened] == [None, None] + [Account("ops", "viewer")] * 3
    assert store.session(theirs) == Account("boss", "admin")  # another account's are not counted
    database.close_now()

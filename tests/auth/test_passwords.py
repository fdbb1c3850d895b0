"""Password hashes: the parameters new ones get, and an older hash moved onto them."""

from __future__ import annotations

from argon2 import PasswordHasher

from backend.auth.passwords import hash_password, verify_password
from backend.auth.store import Account, AuthStore
from backend.storage import open_database

PASSWORD = "correct horse battery staple"


def test_new_hashes_take_one_lane_and_the_rfc_memory():
    """One lane: four took both cores of a small server for each sign-in (issue 33)."""
    assert hash_password(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=1$")


def test_a_four_lane_hash_of_an_older_release_still_signs_in_and_is_stored_again(tmp_path):
    database = open_database(tmp_path / "heimdall.db")
    store = AuthStore(database)
    store.add_account("ops", "admin", PASSWORD)
    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash(PASSWORD)  # argon2-cffi's default
    database.connection.execute("UPDATE accounts SET password_hash = ? WHERE name = 'ops'", (old,))

    def stored() -> str:
        return database.connection.execute("SELECT password_hash FROM accounts WHERE name = 'ops'").fetchone()[0]

    assert store.check_password("ops", "not the password") is None
    assert stored() == old  # a failed try changes nothing
    assert store.check_password("ops", PASSWORD) == Account("ops", "admin")
    assert stored() != old and ",p=1$" in stored() and verify_password(stored(), PASSWORD)
    assert store.check_password("ops", PASSWORD) == Account("ops", "admin")
    database.close_now()

"""What a start says about access, and the first admin account where login is required."""

from __future__ import annotations

from backend.auth.passwords import random_password
from backend.auth.store import AuthError
from backend.runtime import Runtime

FIRST_ADMIN = "admin"


def announce_access(runtime: Runtime, host: str, port: int) -> None:
    settings, store = runtime.settings, runtime.auth.store
    if not settings.login_required:
        print(f"Reading is open to anyone who can reach {host}:{port} (loopback, [auth] required = false); "
              f"ingestion needs a token.", flush=True)
        return
    print("Login required: pages, REST reads and /ws/updates need an account or a token.", flush=True)
    if store.count_accounts() == 0:
        password = random_password()
        try:
            store.add_account(FIRST_ADMIN, "admin", password)
        except AuthError:  # another gateway on the same database, starting at the same moment
            return
        store.audit("account added", "first start", FIRST_ADMIN, None, "role admin")
        # Printed once; only the hash is kept. Change it with `python main.py user passwd admin`.
        print(f"Created the first account: {FIRST_ADMIN} (role admin), password {password} "
              f"(shown once; change it with: python main.py user passwd {FIRST_ADMIN})", flush=True)

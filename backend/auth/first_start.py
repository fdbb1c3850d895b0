"""What a start says about access, and the first admin: on an install with no admin
account, a setup page (`/setup`, backend/web/setup.py) creates one. It answers a
visitor on the gateway's own machine when the gateway listens on loopback only, and
anyone else only with the one-time setup code the start prints (kept in the database,
so every gateway on it prints and takes the same one). Once an admin exists, the page
and the code are gone for good."""

from __future__ import annotations

import hmac
import secrets

from backend.auth.secrets_files import SharedSecrets
from backend.config.loading import is_loopback

SETUP_CODE = "setup_code"  # its name in the shared_secrets table


def admin_exists(store) -> bool:
    """Whether setup is closed: this database has had an admin (even if none is left)."""
    return store.setup_closed()


def setup_code(database) -> str:
    """The one-time code, made once for the database."""
    return SharedSecrets(database).kept_or_new(SETUP_CODE, lambda: secrets.token_urlsafe(12))[0]


def forget_setup_code(database) -> None:
    database.connection.execute("DELETE FROM shared_secrets WHERE name = ?", (SETUP_CODE,))


# A request that came through a proxy: every header a proxy or CDN adds to say so, or to
# name the client or the host it was sent to. Behind a proxy on the same host every
# visitor comes from loopback, so any one of these makes the request not local.
# Via, Forwarded, X-Forwarded-*, X-Real-IP, X-Client-IP, True-Client-IP, CF-Connecting-IP,
# Fastly-Client-IP, X-Cluster-Client-IP, X-Original-Forwarded-For, ...
PROXY_HEADER_PARTS = ("forwarded", "client-ip", "real-ip", "connecting-ip", "original", "proxy", "cluster-client")


def came_through_proxy(header_names) -> bool:
    """Whether any header says the request was forwarded (named, or by its shape)."""
    for name in header_names:
        lowered = name.lower()
        if lowered == "via" or any(part in lowered for part in PROXY_HEADER_PARTS):
            return True
    return False


def may_set_up(listening_on_loopback: bool, client: str | None, proxied: bool, given_code: str, code: str) -> bool:
    """Whether this visitor may create the first admin: a browser on the machine itself
    while the gateway listens on loopback alone, or anyone with the setup code. A request
    through a proxy (forwarding headers) takes the code even from loopback: behind a
    proxy on the same host every visitor would look local."""
    if listening_on_loopback and not proxied and client is not None and is_loopback(client):
        return True
    return bool(given_code) and hmac.compare_digest(given_code.encode(), code.encode())


def announce_access(login_required: bool, store, database, host: str, port: int, data_hint: str = "") -> None:
    """What the start says about who may read, and the way to the first admin."""
    if not login_required:
        print(f"Reading is open to anyone who can reach {host}:{port} (loopback, [auth] required = false); "
              f"ingestion needs a token.", flush=True)
    else:
        print("Login required: pages, REST reads and /ws/updates need an account or a token.", flush=True)
    if admin_exists(store):
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    code = setup_code(database)
    where = (f"open http://{shown}:{port}/setup in a browser on this machine (from elsewhere: "
             f"/setup?code={code})" if is_loopback(host) else f"open http://{shown}:{port}/setup?code={code}")
    print(f"No admin account yet: {where} to create it; the code works until an admin exists "
          f"(or: python main.py user add NAME --role admin{data_hint}).", flush=True)

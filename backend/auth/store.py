"""Accounts, API tokens, sessions and the audit log, in the gateway's database.

Passwords are argon2id hashes; tokens and session ids are random 256-bit values kept
only as SHA-256 digests (a digest of a random value needs no slow hash). The methods
are synchronous, for the command line and for the database thread; `Database.run`
calls them from the server.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from backend.auth.passwords import hash_password, verify_password
from backend.storage.database import Database

ROLES = ("viewer", "operator", "admin")
# operator: on call; silences, acknowledges, sets maintenance, sends test notifications.
# agent: a probe agent's (backend/sites): fetch its site's targets, post its site's results; nothing else.
SCOPES = ("read", "ingest", "operator", "admin", "agent")
ROLE_SCOPES = {"viewer": frozenset({"read"}), "operator": frozenset({"read", "operator"}),
               "admin": frozenset({"read", "operator", "admin"})}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
TOKEN_PREFIX = "hl_"
SESSION_DAYS = 7
FLOW_MS = 10 * 60_000  # a sign-in at the identity provider must come back within this


class AuthError(ValueError):
    """A request the store refuses (one line, for people)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Account:
    name: str
    role: str

    @property
    def scopes(self) -> frozenset[str]:
        return ROLE_SCOPES[self.role]


@dataclass(frozen=True)
class ApiToken:
    name: str
    scopes: frozenset[str]
    site: str | None = None  # an agent token's site


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise AuthError("a name is 1 to 64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit")
    return name


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(scopes - set(SCOPES))
    if not scopes or unknown:
        raise AuthError(f"scopes are a comma-separated choice of {', '.join(SCOPES)}"
                        + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return scopes


SITE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # as backend/config/schema.py SITE_NAME


def check_agent_site(scopes: frozenset[str], site: str | None) -> str | None:
    """An agent token names its site and has no other scope; no other token names one."""
    if "agent" in scopes:
        if scopes != {"agent"}:
            raise AuthError("an agent token has the agent scope alone")
        if not site or not SITE.match(site):
            raise AuthError("an agent token needs --site: lower-case letters, digits, '_', '.', '-' (at most 64)")
        return site
    if site:
        raise AuthError("--site is for agent tokens (--scope agent)")
    return None


class AuthStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._c = db.connection

    # -- accounts ----------------------------------------------------------------------

    def add_account(self, name: str, role: str, password: str) -> Account:
        check_name(name)
        if role not in ROLES:
            raise AuthError(f"role is one of {', '.join(ROLES)}")
        # One statement: two gateways on one database adding the same name cannot both succeed.
        if self._c.execute("INSERT INTO accounts (name, role, password_hash, created_ms) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (name) DO NOTHING",
                           (name, role, hash_password(password), now_ms())).rowcount == 0:
            raise AuthError(f"an account named {name!r} exists already")
        return Account(name, role)

    def account(self, name: str) -> Account | None:
        row = self._c.execute("SELECT name, role FROM accounts WHERE name = ?", (name,)).fetchone()
        return Account(*row) if row else None

    def accounts(self) -> list[dict]:
        rows = self._c.execute("SELECT name, role, created_ms FROM accounts ORDER BY name").fetchall()
        return [{"name": n, "role": r, "created_ms": c} for n, r, c in rows]

    def count_admins(self) -> int:
        return self._c.execute("SELECT count(*) FROM accounts WHERE role = 'admin'").fetchone()[0]

    def add_first_admin(self, name: str, password: str) -> Account:
        """The first admin, only while there is none (one statement: two setups racing
        on one database cannot both succeed)."""
        check_name(name)
        added = self._c.execute(
            "INSERT INTO accounts (name, role, password_hash, created_ms) SELECT ?, 'admin', ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin') ON CONFLICT (name) DO NOTHING",
            (name, hash_password(password), now_ms())).rowcount
        if added == 0:
            raise AuthError("an admin exists already, or an account of that name does")
        return Account(name, "admin")

    def count_accounts(self) -> int:
        return self._c.execute("SELECT count(*) FROM accounts").fetchone()[0]

    def set_password(self, name: str, password: str) -> None:
        if self._c.execute("UPDATE accounts SET password_hash = ? WHERE name = ?",
                           (hash_password(password), name)).rowcount == 0:
            raise AuthError(f"no account named {name!r}")
        self._c.execute("DELETE FROM sessions WHERE account = ?", (name,))  # signed out everywhere

    def set_role(self, name: str, role: str) -> None:
        if role not in ROLES:
            raise AuthError(f"role is one of {', '.join(ROLES)}")
        if self._c.execute("UPDATE accounts SET role = ? WHERE name = ?", (role, name)).rowcount == 0:
            raise AuthError(f"no account named {name!r}")

    def remove_account(self, name: str) -> None:
        if self._c.execute("DELETE FROM accounts WHERE name = ?", (name,)).rowcount == 0:
            raise AuthError(f"no account named {name!r}")
        self._c.execute("DELETE FROM sessions WHERE account = ?", (name,))

    def check_password(self, name: str, password: str) -> Account | None:
        row = self._c.execute("SELECT name, role, password_hash FROM accounts WHERE name = ? AND source = 'local'",
                              (name,)).fetchone()
        ok = verify_password(row[2] if row else None, password)
        return Account(row[0], row[1]) if ok and row else None

    # -- API tokens ----------------------------------------------------------------------

    def create_token(self, name: str, scopes: frozenset[str], site: str | None = None) -> str:
        """A new token; the only time its text exists outside the client's hands."""
        check_name(name)
        site = check_agent_site(scopes, site)
        if self._c.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,)).fetchone():
            raise AuthError(f"a token named {name!r} exists already")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self._c.execute("INSERT INTO api_tokens (name, scopes, token_hash, created_ms, site) VALUES (?, ?, ?, ?, ?)",
                        (name, ",".join(sorted(scopes)), digest(token), now_ms(), site))
        return token

    def token(self, token: str) -> ApiToken | None:
        """The token's name and scopes, noting its use (the server asks at most every few seconds)."""
        found = self.token_named_by(token)
        if found is not None:
            self._c.execute("UPDATE api_tokens SET last_used_ms = ? WHERE token_hash = ?", (now_ms(), digest(token)))
        return found

    def token_named_by(self, token: str) -> ApiToken | None:
        """The token's name and scopes, without noting a use (a recheck of an open socket)."""
        row = self._c.execute("SELECT name, scopes, site FROM api_tokens WHERE token_hash = ?",
                              (digest(token),)).fetchone()
        return ApiToken(row[0], frozenset(row[1].split(",")), row[2]) if row else None

    def tokens(self) -> list[dict]:
        rows = self._c.execute("SELECT name, scopes, created_ms, last_used_ms, site FROM api_tokens "
                               "ORDER BY name").fetchall()
        return [{"name": n, "scopes": s.split(","), "created_ms": c, "last_used_ms": u, "site": site}
                for n, s, c, u, site in rows]

    def revoke_token(self, name: str) -> None:
        if self._c.execute("DELETE FROM api_tokens WHERE name = ?", (name,)).rowcount == 0:
            raise AuthError(f"no token named {name!r}")

    # -- sessions -------------------------------------------------------------------------

    def open_session(self, account: str, oidc_tokens: str | None = None, refresh_due_ms: int | None = None) -> str:
        session_id = secrets.token_urlsafe(32)
        now = now_ms()
        self._c.execute("DELETE FROM sessions WHERE expires_ms < ?", (now,))
        self._c.execute("INSERT INTO sessions (id_hash, account, created_ms, expires_ms, oidc_tokens, refresh_due_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (digest(session_id), account, now,
                                                      now + SESSION_DAYS * 86_400_000, oidc_tokens, refresh_due_ms))
        return session_id

    # -- single sign-on (backend/auth/oidc.py) ----------------------------------------------

    def oidc_account(self, name: str, role: str) -> Account:
        """The account of a user the identity provider vouches for, with the role its
        claims give now. A local account of that name is never taken over."""
        check_name(name)
        if role not in ROLES:
            raise AuthError(f"role is one of {', '.join(ROLES)}")
        self._c.execute("INSERT INTO accounts (name, role, password_hash, created_ms, source) "
                        "VALUES (?, ?, '!', ?, 'oidc') ON CONFLICT (name) DO UPDATE SET role = excluded.role "
                        "WHERE accounts.source = 'oidc'", (name, role, now_ms()))
        row = self._c.execute("SELECT source, role FROM accounts WHERE name = ?", (name,)).fetchone()
        if row[0] != "oidc":
            raise AuthError(f"a local account named {name!r} exists; the identity provider's user cannot take it")
        return Account(name, row[1])

    def oidc_sessions_due(self, now: int, limit: int = 100) -> list[tuple[str, str, str]]:
        """(session digest, account, sealed tokens) of single sign-on sessions whose claims are due again."""
        return self._c.execute("SELECT id_hash, account, oidc_tokens FROM sessions WHERE oidc_tokens IS NOT NULL "
                               "AND refresh_due_ms <= ? AND expires_ms >= ? ORDER BY refresh_due_ms LIMIT ?",
                               (now, now, limit)).fetchall()

    def oidc_session_refreshed(self, id_hash: str, oidc_tokens: str, refresh_due_ms: int) -> None:
        self._c.execute("UPDATE sessions SET oidc_tokens = ?, refresh_due_ms = ? WHERE id_hash = ?",
                        (oidc_tokens, refresh_due_ms, id_hash))

    def end_session_by_digest(self, id_hash: str) -> None:
        self._c.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    def oidc_tokens_of(self, session_id: str) -> str | None:
        row = self._c.execute("SELECT oidc_tokens FROM sessions WHERE id_hash = ?", (digest(session_id),)).fetchone()
        return row[0] if row else None

    def put_flow(self, state: str, nonce: str, verifier: str, next_path: str) -> None:
        now = now_ms()
        self._c.execute("DELETE FROM oidc_flows WHERE created_ms < ?", (now - FLOW_MS,))
        self._c.execute("INSERT INTO oidc_flows (state_hash, nonce, verifier, next, created_ms) VALUES (?, ?, ?, ?, ?)",
                        (digest(state), nonce, verifier, next_path, now))

    def take_flow(self, state: str) -> tuple[str, str, str] | None:
        """(nonce, verifier, next) of a sign-in under way, once: a second use finds nothing."""
        row = self._c.execute("DELETE FROM oidc_flows WHERE state_hash = ? RETURNING nonce, verifier, next, created_ms",
                              (digest(state),)).fetchone()
        if row is None or row[3] < now_ms() - FLOW_MS:
            return None
        return row[0], row[1], row[2]

    def session(self, session_id: str) -> Account | None:
        row = self._c.execute(
            """SELECT a.name, a.role FROM sessions s JOIN accounts a ON a.name = s.account
               WHERE s.id_hash = ? AND s.expires_ms >= ?""", (digest(session_id), now_ms())).fetchone()
        return Account(*row) if row else None

    def close_session(self, session_id: str) -> None:
        self._c.execute("DELETE FROM sessions WHERE id_hash = ?", (digest(session_id),))

    # -- audit ------------------------------------------------------------------------------

    def audit(self, action: str, actor: str | None = None, subject: str | None = None, address: str | None = None,
              detail: str | None = None) -> None:
        self._c.execute("INSERT INTO audit (ts_ms, actor, action, subject, address, detail) VALUES (?, ?, ?, ?, ?, ?)",
                        (now_ms(), actor, action, subject, address, detail))

    def audit_log(self, limit: int = 200) -> list[dict]:
        rows = self._c.execute("SELECT ts_ms, actor, action, subject, address, detail FROM audit "
                               "ORDER BY ts_ms DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        return [dict(zip(("ts_ms", "actor", "action", "subject", "address", "detail"), row)) for row in rows]

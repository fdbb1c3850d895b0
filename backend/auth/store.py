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

from backend.auth.passwords import hash_password
from backend.storage.database import Database

ROLES = ("viewer", "operator", "admin")
# operator: on call; silences, acknowledges, sets maintenance, sends test notifications.
# agent: a probe agent's (backend/sites): fetch its site's targets, post its site's results; nothing else.
SCOPES = ("read", "ingest", "push", "operator", "admin", "agent")
ROLE_SCOPES = {"viewer": frozenset({"read"}), "operator": frozenset({"read", "operator"}),
               "admin": frozenset({"read", "operator", "admin"})}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
TOKEN_PREFIX = "hl_"
SESSION_DAYS = 7
# Open sessions an account keeps (every screen of a control room signed in as one viewer
# fits); beyond, a new sign-in ends the oldest: a script that signs in and never out
# cannot grow the table without bound.
MAX_SESSIONS_PER_ACCOUNT = 1000
FLOW_MS = 10 * 60_000  # a sign-in at the identity provider must come back within this
MAX_FLOWS = 1000  # sign-ins under way at once, for the whole database (anonymous requests start them)
SETUP_CLOSED = "setup_closed"  # its name in shared_secrets: the database has had an admin


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


def _distinct_names(name: str, tries: int = 50):
    """`name`, then `name-2`, `name-3`, ... within the 64 characters a name may have."""
    yield name
    for number in range(2, tries + 2):
        suffix = f"-{number}"
        yield name[:64 - len(suffix)] + suffix


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

    def setup_closed(self) -> bool:
        """Whether this database ever had an admin: then /setup never opens again, not
        even when no admin is left (the command line makes another)."""
        if self._c.execute("SELECT 1 FROM shared_secrets WHERE name = ?", (SETUP_CLOSED,)).fetchone():
            return True
        if self.count_admins() > 0:
            self._close_setup()
            return True
        return False

    def _close_setup(self) -> bool:
        """Closes setup for good; True for the one caller that closed it (the primary key
        decides between racing gateways, on SQLite and PostgreSQL alike)."""
        return self._c.execute("INSERT INTO shared_secrets (name, value) VALUES (?, 'yes') "
                               "ON CONFLICT (name) DO NOTHING", (SETUP_CLOSED,)).rowcount == 1

    def add_first_admin(self, name: str, password: str) -> Account:
        """The first admin, once for the database: closing setup and adding the admin are
        one transaction, and only the caller that closed it adds one."""
        check_name(name)
        password_hash = hash_password(password)  # before the transaction: it takes a while
        with self._db.transaction():
            if self.count_admins() > 0 or not self._close_setup():
                raise AuthError("the first admin exists already: this database's setup is closed")
            if self._c.execute("INSERT INTO accounts (name, role, password_hash, created_ms) VALUES (?, 'admin', ?, ?) "
                               "ON CONFLICT (name) DO NOTHING", (name, password_hash, now_ms())).rowcount == 0:
                raise AuthError(f"an account named {name!r} exists already")
        return Account(name, "admin")

    def _refuse_last_admin(self, name: str) -> None:
        """Removing or demoting the last admin is refused: setup stays closed, so nobody
        could make another through the browser."""
        row = self._c.execute("SELECT role FROM accounts WHERE name = ?", (name,)).fetchone()
        if row and row[0] == "admin" and self.count_admins() <= 1:
            raise AuthError(f"{name!r} is the last admin; make another first "
                            f"(python main.py user add NAME --role admin, or user role NAME admin)")

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
        if role != "admin":
            self._refuse_last_admin(name)
        if self._c.execute("UPDATE accounts SET role = ? WHERE name = ?", (role, name)).rowcount == 0:
            raise AuthError(f"no account named {name!r}")

    def remove_account(self, name: str) -> None:
        self._refuse_last_admin(name)
        if self._c.execute("DELETE FROM accounts WHERE name = ?", (name,)).rowcount == 0:
            raise AuthError(f"no account named {name!r}")
        self._c.execute("DELETE FROM sessions WHERE account = ?", (name,))

    def password_hash_of(self, name: str) -> tuple[Account, str] | None:
        """A local account and its password hash (checked off the database thread:
        backend/auth/passwords.py PasswordLane)."""
        row = self._c.execute("SELECT name, role, password_hash FROM accounts WHERE name = ? AND source = 'local'",
                              (name,)).fetchone()
        return (Account(row[0], row[1]), row[2]) if row and row[2] else None

    def replace_password_hash(self, name: str, old_hash: str, new_hash: str) -> None:
        """The same password stored with today's parameters, unless it changed meanwhile."""
        self._c.execute("UPDATE accounts SET password_hash = ? WHERE name = ? AND password_hash = ?",
                        (new_hash, name, old_hash))

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
        self._c.execute("DELETE FROM sessions WHERE account = ? AND id_hash NOT IN (SELECT id_hash FROM sessions "
                        "WHERE account = ? ORDER BY created_ms DESC LIMIT ?)",
                        (account, account, MAX_SESSIONS_PER_ACCOUNT))
        return session_id

    # -- single sign-on (backend/auth/oidc.py) ----------------------------------------------

    def oidc_account(self, issuer: str, subject: str, name: str, role: str) -> Account:
        """The account of the provider's user `subject` (its stable `sub` at `issuer`),
        with the role its claims give now. Found by the subject alone: `name`, made from
        a display name, only names a new account, and a name already taken (by a local
        account or another provider user) gets a distinct one ("alice-2")."""
        if role not in ROLES:
            raise AuthError(f"role is one of {', '.join(ROLES)}")
        for _ in range(3):  # another gateway may add this user between our look and our insert
            found = self._oidc_account_of(issuer, subject, name)
            if found is not None:
                self._c.execute("UPDATE accounts SET role = ? WHERE name = ?", (role, found))
                return Account(found, role)
            for candidate in _distinct_names(check_name(name)):
                if self._c.execute("INSERT INTO accounts (name, role, password_hash, created_ms, source, oidc_issuer, "
                                   "oidc_subject) VALUES (?, ?, '!', ?, 'oidc', ?, ?) ON CONFLICT DO NOTHING",
                                   (candidate, role, now_ms(), issuer, subject)).rowcount:
                    return Account(candidate, role)
                if self._c.execute("SELECT 1 FROM accounts WHERE oidc_issuer = ? AND oidc_subject = ?",
                                   (issuer, subject)).fetchone():
                    break  # the conflict was this user, added meanwhile: look again
        raise AuthError("no account name is free for this user; ask an admin")

    def _oidc_account_of(self, issuer: str, subject: str, name: str) -> str | None:
        row = self._c.execute("SELECT name FROM accounts WHERE oidc_issuer = ? AND oidc_subject = ?",
                              (issuer, subject)).fetchone()
        if row:
            return row[0]
        # An account made by single sign-on before subjects were kept: taken only by the
        # user whose name claim is exactly its name (never by a cleaned one like "_alice").
        if self._c.execute("UPDATE accounts SET oidc_issuer = ?, oidc_subject = ? WHERE name = ? AND source = 'oidc' "
                           "AND oidc_subject IS NULL", (issuer, subject, name)).rowcount:
            return name
        return None

    def oidc_subject_of(self, account: str) -> tuple[str, str] | None:
        row = self._c.execute("SELECT oidc_issuer, oidc_subject FROM accounts WHERE name = ?", (account,)).fetchone()
        return (row[0], row[1]) if row and row[1] is not None else None

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
        if self._c.execute("SELECT count(*) FROM oidc_flows").fetchone()[0] >= MAX_FLOWS:
            raise AuthError("too many sign-ins are under way; try again in a few minutes")
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

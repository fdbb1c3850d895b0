"""Who a request comes from, and the one place that finds out: a trusted proxy's header,
a session cookie, or an API token (Authorization: Bearer, or `access_token` in the query
for browsers' WebSockets, which cannot set headers)."""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

from backend.auth.headers import content_security_policy
from backend.auth.hosts import allowed_hosts
from backend.auth.networks import address_in, networks
from backend.auth.origin import normalize
from backend.auth.passwords import PasswordLane, hash_password, needs_rehash, verify_password
from backend.auth.scopes import granted
from backend.auth.store import SESSION_DAYS, Account, AuthStore
from backend.auth.throttle import LoginThrottle, Throttle
from backend.config.schema import Config
from backend.storage.database import Database

log = logging.getLogger("heimdall.auth")

SESSION_COOKIE = "heimdall_session"
CACHE_S = 5.0  # a revoked token or a closed session stops working within this
ENV_TOKEN_NAME = "HEIMDALL_API_TOKEN"
ENV_TOKEN_SCOPES = frozenset({"read", "ingest"})


SIGN_IN_STARTS_PER_MINUTE = 30


@dataclass(frozen=True)
class Principal:
    name: str | None  # None: anonymous
    via: str  # "anonymous", "session", "token", "proxy"
    scopes: frozenset[str]
    role: str | None = None
    # What was presented ("session:<id>", "token:<text>", "proxy:<name>", "env", ""): how an
    # open page or socket is checked again later. Never printed.
    credential: str = field(default="", repr=False, compare=False)
    site: str | None = None  # an agent token's site: the only one it may report for

    def may(self, scope: str) -> bool:
        """Scopes nest as roles do: admin holds operator, operator holds read."""
        return scope in granted(self.scopes)


def _proxy_principal(name: str, account: Account | None) -> Principal:
    """A user a trusted proxy vouches for: their account's role, or a viewer without one."""
    role = account.role if account else "viewer"
    return Principal(name, "proxy", account.scopes if account else frozenset({"read"}), role, "proxy:" + name)


class BadCredentials(Exception):
    """Credentials were given and are not valid (counted by the throttle)."""


def headers_of(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}


QUERY_TOKEN = "access_token"


def _query_pairs(query: bytes) -> list[tuple[str, str]]:
    # Exactly as Starlette reads a query (QueryParams), so that no spelling of the name
    # (`access%5Ftoken`, `access_toke%6E`) means the token to a route but not to the guard.
    return parse_qsl(query.decode("latin-1"), keep_blank_values=True)


def query_token(query: bytes) -> str | None:
    """The `access_token` of a query string, its name and value decoded."""
    for key, value in _query_pairs(query):
        if key == QUERY_TOKEN:
            return value
    return None


def without_query_token(query: bytes) -> bytes:
    """The query string without any parameter whose decoded name is `access_token`."""
    return b"&".join(part for part in query.split(b"&")
                     if unquote_plus(part.split(b"=", 1)[0].decode("latin-1")) != QUERY_TOKEN)


def bearer(headers: dict[str, str], scope: dict[str, Any]) -> str | None:
    """The token a request presents, from the header or the `access_token` query parameter."""
    authorization = headers.get("authorization")
    if authorization is not None:
        kind, _, value = authorization.partition(" ")
        if kind.lower() != "bearer" or not value.strip():
            raise BadCredentials("Authorization is not 'Bearer <token>'")
        return value.strip()
    return query_token(scope.get("query_string", b""))


class Authenticator:
    def __init__(self, config: Config, database: Database, store: AuthStore, env_token: str, session_secret: str,
                 login_required: bool, bound_host: str = "127.0.0.1") -> None:
        self._bound_host = bound_host
        self.passwords = PasswordLane(config.auth.password_checks_waiting)  # argon2's own thread
        self.reconfigure(config)
        if self.allowed_hosts is None:
            log.warning("answering any Host header: set [http] public_url or allowed_hosts to the names browsers use")
        self.login_required = login_required
        self._db = database
        self.store = store
        self._env_token = env_token
        self._signer = Signer(session_secret, salt="heimdall-session")
        self.flow_signer = URLSafeTimedSerializer(session_secret, salt="heimdall-oidc-flow")  # backend/web/sso.py
        self.throttle = Throttle()  # failed token checks, per address
        self.logins = LoginThrottle()  # failed password logins (and setup codes)
        # Single sign-on starts, per address: each stores a sign-in under way (backend/web/sso.py).
        self.sign_in_starts = Throttle(limit=SIGN_IN_STARTS_PER_MINUTE, window_s=60.0, block_s=60.0)
        self._cache: dict[str, tuple[float, Any]] = {}

    def reconfigure(self, config: Config) -> None:
        """A reload: origins, proxies and the like take effect; whether login is required
        (it depends on the address bound) stays as it started."""
        self.config = config
        self.passwords.max_waiting = config.auth.password_checks_waiting
        self._proxies = networks(config.auth.trusted_proxies)
        # Normalized once here, not for every request the guard sees.
        self.allowed_origins = frozenset(o for o in (normalize(x) for x in config.http.allowed_origins) if o)
        self.allowed_hosts = allowed_hosts(self._bound_host, config.http.public_url, config.http.allowed_hosts)
        self.csp = content_security_policy(config.map.tile_url, config.http.frame_ancestors,
                                           config.auth.oidc.issuer if config.auth.oidc else "").encode()

    @property
    def trusted_proxies(self):
        return self._proxies

    def anonymous(self) -> Principal:
        return Principal(None, "anonymous", frozenset() if self.login_required else frozenset({"read"}))

    def forget_credential(self, principal: Principal) -> None:
        """After a recheck found it changed: no cached answer outlives it."""
        kind, _, value = principal.credential.partition(":")
        if kind in ("session", "token"):
            self.forget(f"{kind}:{value}")

    async def _cached(self, key: str, lookup, *args):
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_S:
            return hit[1]
        value = await self._db.run(lookup, *args)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now, value)
        return value

    async def store_call(self, fn, *args):
        """Run a store method on the database thread."""
        return await self._db.run(fn, *args)

    async def check_password(self, name: str, password: str) -> Account | None:
        """The account a name and password sign in as, or None. The row is read on the
        database thread; argon2 runs in the password lane (PasswordsBusy when it is full)."""
        found = await self._db.run(self.store.password_hash_of, name)
        stored = found[1] if found else None
        if not await self.passwords.run(verify_password, stored, password) or found is None:
            return None
        if needs_rehash(stored):  # the password is at hand only now: stored again with today's parameters
            fresh = await self.passwords.run(hash_password, password)
            await self._db.run(self.store.replace_password_hash, name, stored, fresh)
        return found[0]

    def forget(self, key: str) -> None:
        self._cache.pop(key, None)

    def forget_all(self) -> None:
        """After a revocation here: no cached answer outlives it."""
        self._cache.clear()

    async def identify(self, scope: dict[str, Any], headers: dict[str, str], address: str | None) -> Principal:
        """The principal of a request; BadCredentials when what it presents is not valid."""
        header = self.config.auth.trusted_header
        if header and headers.get(header.lower()) and address_in(address, self._proxies):
            name = headers[header.lower()].strip()
            account: Account | None = await self._cached("account:" + name, self.store.account, name)
            return _proxy_principal(name, account)
        token = bearer(headers, scope)
        if token is not None:
            if hmac.compare_digest(token.encode(), self._env_token.encode()):
                return Principal(ENV_TOKEN_NAME, "token", ENV_TOKEN_SCOPES, credential="env")
            found = await self._cached("token:" + token, self.store.token, token)
            if found is None:
                raise BadCredentials("unknown token")
            return Principal(found.name, "token", found.scopes, credential="token:" + token, site=found.site)
        session_id = self.session_id(headers)
        if session_id is not None:
            account = await self._cached("session:" + session_id, self.store.session, session_id)
            if account is not None:
                return Principal(account.name, "session", account.scopes, account.role, "session:" + session_id)
        return self.anonymous()

    async def recheck(self, principals: list[Principal]) -> dict[str, Principal | None]:
        """What each principal's credential gives now, asked of the store, not the cache:
        None where it gives nothing any more (session ended, token revoked, account
        removed). One trip to the database thread for all of them; keyed by credential."""
        wanted = {p.credential for p in principals if p.credential.partition(":")[0] in ("session", "token", "proxy")}
        answers: dict[str, Principal | None] = {p.credential: p for p in principals if p.credential not in wanted}

        def look_up() -> dict[str, Principal | None]:
            found: dict[str, Principal | None] = {}
            for credential in wanted:
                kind, _, value = credential.partition(":")
                if kind == "session":
                    account = self.store.session(value)
                    found[credential] = account and Principal(account.name, "session", account.scopes, account.role,
                                                              credential)
                elif kind == "token":
                    token = self.store.token_named_by(value)
                    found[credential] = token and Principal(token.name, "token", token.scopes, credential=credential,
                                                            site=token.site)
                else:
                    found[credential] = _proxy_principal(value, self.store.account(value))
            return found

        if wanted:
            answers.update(await self._db.run(look_up))
        return answers

    # -- sessions in a signed cookie ------------------------------------------------------

    def session_id(self, headers: dict[str, str]) -> str | None:
        raw = headers.get("cookie")
        if not raw:
            return None
        cookie = SimpleCookie()
        try:
            cookie.load(raw)
        except Exception:
            return None
        morsel = cookie.get(SESSION_COOKIE)
        if morsel is None:
            return None
        try:
            return self._signer.unsign(morsel.value).decode()
        except BadSignature:
            return None

    def session_cookie(self, session_id: str, secure: bool) -> str:
        value = self._signer.sign(session_id).decode()
        return (f"{SESSION_COOKIE}={value}; Path=/; Max-Age={SESSION_DAYS * 86400}; HttpOnly; SameSite=Lax"
                + ("; Secure" if secure else ""))

    @staticmethod
    def clear_cookie(secure: bool) -> str:
        return f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")

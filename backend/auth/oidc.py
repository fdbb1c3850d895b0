"""Single sign-on with the platform's OpenID Connect provider (Keycloak, or any).

The authorization code flow with PKCE, `state` and `nonce` (Authlib's OAuth client over
httpx); discovery from `{issuer}/.well-known/openid-configuration`; the provider's keys
(JWKS) cached and fetched again when a token names a key not seen yet (rotation); the
ID token checked by joserfc: signature, `iss`, `aud`, `exp`, `nonce`. The role comes
from a claim (`realm_access.roles`, Keycloak's realm roles), mapped to the gateway's
roles, at each sign-in and at each refresh of the session's claims.

Each sign-in under way is one row in the database, taken once: a replayed `state` (a
callback URL used again, or forged) finds nothing. The session's refresh and ID tokens
are kept sealed with a key derived from the session secret, for the refresh and for
logging out at the provider (RP-initiated logout).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from backend.config.schema import OidcSettings

log = logging.getLogger("heimdall.auth")

ROLE_ORDER = ("viewer", "operator", "admin")  # the highest mapped role wins
METADATA_TTL_S = 3600
KEYS_REFETCH_AFTER_S = 30  # a token naming an unknown key fetches the keys again, at most this often
LEEWAY_S = 60  # clocks differ
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
NAME_CHARS = re.compile(r"[^A-Za-z0-9_.@-]")


class OidcError(Exception):
    """A sign-in refused; the message is for the person signing in."""


# -- plain rules ---------------------------------------------------------------------------

def claim_at(claims: dict[str, Any], path: str) -> Any:
    """A claim by its dotted path: `realm_access.roles`."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_from(roles: Any, settings: OidcSettings) -> str | None:
    """The gateway role the provider's roles give: the highest of the allowed ones that
    map to a gateway role; None when none may sign in."""
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list):
        return None
    mapped = {settings.role_map[r] for r in roles if isinstance(r, str) and r in settings.allowed_roles
              and r in settings.role_map}
    return max(mapped, key=ROLE_ORDER.index) if mapped else None


def account_name(claims: dict[str, Any], settings: OidcSettings) -> str:
    """The account name for the user: their name claim (or `sub`), in the characters
    account names allow."""
    raw = claims.get(settings.name_claim) or claims.get("sub") or ""
    name = NAME_CHARS.sub("_", str(raw))[:64].lstrip("_.@-")
    if not name:
        raise OidcError("the identity provider gave no user name")
    return name


def validate_id_token(id_token: str, keys: KeySet, issuer: str, client_id: str, nonce: str | None,
                      now: float | None = None) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, expiry and nonce are
    right; OidcError saying which is not."""
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except JoseError as exc:
        raise OidcError(f"the identity provider's token is not signed by the provider's keys ({exc.error})") from None
    except ValueError:
        raise OidcError("the identity provider's token is not a signed JWT") from None
    claims = token.claims
    if claims.get("iss") != issuer:
        raise OidcError(f"the token was issued by {claims.get('iss')!r}, not by {issuer!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise OidcError("the token is meant for another application (its audience is not this gateway)")
    if len(audiences) > 1 and claims.get("azp") not in (None, client_id):
        raise OidcError("the token was given to another application (azp)")
    moment = time.time() if now is None else now
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or expires + LEEWAY_S < moment:
        raise OidcError("the token has expired; sign in again")
    if nonce is not None and claims.get("nonce") != nonce:
        raise OidcError("the token does not belong to this sign-in (nonce)")
    return claims


def sealer(session_secret: str) -> Fernet:
    """Seals the session's tokens at rest, with a key derived from the session secret."""
    key = hashlib.sha256(b"heimdall-live oidc tokens\0" + session_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class SignedIn:
    name: str  # what a new account would be called; never how the user is found
    role: str
    sealed_tokens: str  # refresh and ID token, sealed
    issuer: str = ""
    subject: str = ""  # the provider's stable id of the user (`sub`): with the issuer, the account's key


# -- the client ------------------------------------------------------------------------------

class OidcClient:
    def __init__(self, settings: OidcSettings, client_secret: str, redirect_uri: str, session_secret: str) -> None:
        self.settings = settings
        self._secret = client_secret
        self.redirect_uri = redirect_uri
        self._seal = sealer(session_secret)
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._asked_for: set[str] = set()  # key ids the keys were fetched again for

    def _oauth(self, metadata: dict[str, Any]) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id, client_secret=self._secret or None,
            token_endpoint_auth_method="client_secret_basic" if self._secret else "none",
            scope=" ".join(self.settings.scopes), redirect_uri=self.redirect_uri, code_challenge_method="S256",
            timeout=self.settings.timeout_s, trust_env=False)

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, cached an hour; its issuer must be ours."""
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL_S:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            found = await self._get_json(url, "discovery")
            if found.get("issuer") != self.settings.issuer:
                raise OidcError(f"the identity provider says its issuer is {found.get('issuer')!r}, "
                                f"not {self.settings.issuer!r} as configured")
            for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(found.get(endpoint), str):
                    raise OidcError(f"the identity provider's discovery has no {endpoint}")
            self._metadata, self._metadata_at = found, time.monotonic()
        return self._metadata

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_s, trust_env=False) as client:
                answer = await client.get(url)
                answer.raise_for_status()
                found = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC %s at %s failed: %s", what, url, type(exc).__name__)
            raise OidcError(f"the identity provider cannot be reached now ({what}); try again later") from None
        if not isinstance(found, dict):
            raise OidcError(f"the identity provider's {what} is not a JSON object")
        return found

    async def keys(self, again_for: str | None = None) -> KeySet:
        """The provider's signing keys, cached; fetched again when a token names a key not
        in the cache (the provider rotated its keys): at once for a key id not asked for
        yet, else at most every 30 s (tokens with made-up key ids cost no fetch each)."""
        again = again_for is not None and (again_for not in self._asked_for
                                           or time.monotonic() - self._keys_at > KEYS_REFETCH_AFTER_S)
        if again:
            if len(self._asked_for) > 100:
                self._asked_for.clear()
            self._asked_for.add(again_for)
        if self._keys is None or again:
            document = await self._get_json((await self.metadata())["jwks_uri"], "keys")
            try:
                self._keys = KeySet.import_key_set(document)
            except (JoseError, ValueError, TypeError):
                raise OidcError("the identity provider's keys cannot be read") from None
            self._keys_at = time.monotonic()
        return self._keys

    async def _claims(self, id_token: str, nonce: str | None) -> dict[str, Any]:
        issuer, client_id = self.settings.issuer, self.settings.client_id
        try:
            return validate_id_token(id_token, await self.keys(), issuer, client_id, nonce)
        except OidcError:
            unknown = self._unknown_key(id_token)
            if unknown is None:
                raise
        return validate_id_token(id_token, await self.keys(again_for=unknown), issuer, client_id, nonce)

    def _unknown_key(self, id_token: str) -> str | None:
        """The key id a token names, when the cached keys do not have it."""
        try:
            header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
        except (ValueError, IndexError):
            return None
        kid = header.get("kid") if isinstance(header, dict) else None
        if not isinstance(kid, str) or self._keys is None or any(k.kid == kid for k in self._keys.keys):
            return None
        return kid[:200]

    async def begin(self, next_path: str) -> tuple[str, tuple[str, str, str]]:
        """The provider's authorization URL, and (state, nonce, verifier) to keep."""
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        async with self._oauth(metadata) as oauth:
            url, _ = oauth.create_authorization_url(metadata["authorization_endpoint"], state=state, nonce=nonce,
                                                    code_verifier=verifier)
        return url, (state, nonce, verifier)

    async def finish(self, code: str, nonce: str, verifier: str) -> SignedIn:
        """Exchange the code, check the ID token, find the user's name and role."""
        metadata = await self.metadata()
        async with self._oauth(metadata) as oauth:
            try:
                token = await oauth.fetch_token(metadata["token_endpoint"], grant_type="authorization_code",
                                                code=code, code_verifier=verifier)
            except Exception as exc:  # the provider refused the code: expired, used, or not ours
                log.warning("OIDC code exchange refused: %s", type(exc).__name__)
                raise OidcError("the identity provider did not accept this sign-in (the code was refused); "
                                "sign in again") from None
        return await self._signed_in(token, nonce)

    async def _signed_in(self, token: dict[str, Any], nonce: str | None) -> SignedIn:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the identity provider sent no ID token")
        claims = await self._claims(id_token, nonce)
        roles = claim_at(claims, self.settings.roles_claim)
        if roles is None and isinstance(token.get("access_token"), str):
            roles = claim_at(await self._access_claims(token["access_token"]), self.settings.roles_claim)
        role = role_from(roles, self.settings)
        name = account_name(claims, self.settings)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise OidcError("the identity provider's token names no subject (sub)")
        if role is None:
            allowed = ", ".join(self.settings.allowed_roles)
            raise OidcError(f"{name} has no role that may sign in here (one of: {allowed})")
        sealed = self._seal.encrypt(json.dumps({"refresh_token": token.get("refresh_token"),
                                                "id_token": id_token}).encode()).decode()
        return SignedIn(name, role, sealed, str(claims["iss"]), subject)

    async def _access_claims(self, access_token: str) -> dict[str, Any]:
        """Keycloak puts realm roles in the access token: read them only from one signed
        by the provider's keys, for this issuer."""
        try:
            decoded = jwt.decode(access_token, await self.keys(), algorithms=ALGORITHMS)
        except (JoseError, ValueError):
            return {}
        return decoded.claims if decoded.claims.get("iss") == self.settings.issuer else {}

    async def refresh(self, sealed: str) -> SignedIn:
        """The session's claims asked again with its refresh token: the role as the
        provider gives it now; OidcError when the provider refuses or no role is left."""
        kept = self._unseal(sealed)
        if not kept.get("refresh_token"):
            raise OidcError("the session has no refresh token")
        metadata = await self.metadata()
        async with self._oauth(metadata) as oauth:
            try:
                token = await oauth.refresh_token(metadata["token_endpoint"], refresh_token=kept["refresh_token"])
            except Exception as exc:
                log.info("OIDC refresh refused: %s", type(exc).__name__)
                raise OidcError("the identity provider refused the session's refresh") from None
        if "refresh_token" not in token:
            token["refresh_token"] = kept["refresh_token"]
        return await self._signed_in(token, None)

    def _unseal(self, sealed: str | None) -> dict[str, Any]:
        if not sealed:
            return {}
        try:
            return json.loads(self._seal.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            return {}  # sealed with another session secret

    async def logout_url(self, sealed: str | None, after: str) -> str | None:
        """RP-initiated logout at the provider, back to `after`; None when it has none."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except OidcError:
            return None
        if not isinstance(endpoint, str):
            return None
        query = {"client_id": self.settings.client_id, "post_logout_redirect_uri": after}
        id_token = self._unseal(sealed).get("id_token")
        if id_token:
            query["id_token_hint"] = id_token
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)


REFRESH_EVERY_S = 5.0  # how often due sessions are looked for


async def refresh_due_sessions(oidc: OidcClient, auth: Any) -> int:
    """Ask the provider again for the claims of every single sign-on session that is due:
    the role as it is now, or the session ends (role gone, refresh refused). Returns how
    many were asked. Open pages and sockets follow within 2 s (backend/auth/revalidate.py)."""
    store = auth.store
    now = int(time.time() * 1000)
    due = await auth.store_call(store.oidc_sessions_due, now)
    for id_hash, account, sealed in due:
        try:
            signed_in = await oidc.refresh(sealed)
            if await auth.store_call(store.oidc_subject_of, account) != (signed_in.issuer, signed_in.subject):
                raise OidcError("the provider now names another user")
            await auth.store_call(store.oidc_account, signed_in.issuer, signed_in.subject, account, signed_in.role)
            await auth.store_call(store.oidc_session_refreshed, id_hash, signed_in.sealed_tokens,
                                  now + int(oidc.settings.refresh_interval_s * 1000))
        except Exception as problem:  # whatever the provider says, the session does not outlive it
            await auth.store_call(store.end_session_by_digest, id_hash)
            await auth.store_call(store.audit, "session ended (single sign-on)", None, account, None,
                                  str(problem)[:300])
            log.info("single sign-on session of %s ended: %s", account, problem)
    if due:
        auth.forget_all()
    return len(due)

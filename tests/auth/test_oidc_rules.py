"""The single sign-on rules as plain functions (backend/auth/oidc.py): roles from claims,
account names, and the ID token's checks, with tokens minted here by joserfc."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from backend.auth.oidc import OidcClient, OidcError, account_name, claim_at, role_from, validate_id_token
from backend.config.schema import OidcSettings
from tests.loopback import LoopbackServer

SETTINGS = OidcSettings(issuer="https://sso.example.org/realms/heimdall", client_id="heimdall-live")
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"})
KEYS = KeySet([KEY])


def token(**changes) -> str:
    now = int(time.time())
    claims = {"iss": SETTINGS.issuer, "aud": "heimdall-live", "sub": "u1", "exp": now + 300, "iat": now,
              "nonce": "n-1", **changes}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, KEY)


def test_the_highest_allowed_mapped_role_wins():
    assert role_from(["viewer", "admin", "offline_access"], SETTINGS) == "admin"
    assert role_from(["operator", "viewer"], SETTINGS) == "operator"
    assert role_from(["service"], SETTINGS) is None  # machines do not sign in
    assert role_from("viewer", SETTINGS) == "viewer"
    assert role_from(None, SETTINGS) is None and role_from({"admin": 1}, SETTINGS) is None
    only_admins = SETTINGS.model_copy(update={"allowed_roles": ["admin"]})
    assert role_from(["viewer"], only_admins) is None
    renamed = SETTINGS.model_copy(update={"allowed_roles": ["heimdall-ops"], "role_map": {"heimdall-ops": "operator"}})
    assert role_from(["heimdall-ops"], renamed) == "operator"


def test_claims_by_dotted_path_and_names_in_account_characters():
    claims = {"realm_access": {"roles": ["admin"]}, "preferred_username": "Ada Lovelace!"}
    assert claim_at(claims, "realm_access.roles") == ["admin"]
    assert claim_at(claims, "resource_access.heimdall.roles") is None
    assert account_name(claims, SETTINGS) == "Ada_Lovelace_"
    assert account_name({"sub": "f81d4fae"}, SETTINGS) == "f81d4fae"
    with pytest.raises(OidcError):
        account_name({}, SETTINGS)


def test_the_id_token_is_checked_for_signature_issuer_audience_expiry_and_nonce():
    assert validate_id_token(token(), KEYS, SETTINGS.issuer, "heimdall-live", "n-1")["sub"] == "u1"
    other = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"})
    forged = jwt.encode({"alg": "RS256", "kid": "k1"}, {"iss": SETTINGS.issuer, "aud": "heimdall-live",
                                                       "exp": time.time() + 300, "nonce": "n-1"}, other)
    cases = {
        forged: "not signed by the provider's keys",
        token(iss="https://evil.example.org"): "was issued by",
        token(aud="another-application"): "meant for another application",
        token(aud=["heimdall-live", "x"], azp="x"): "given to another application",
        token(exp=int(time.time()) - 3600): "has expired",
        token(nonce="n-2"): "does not belong to this sign-in",
        "not.a.token": "not",
    }
    for bad, says in cases.items():
        with pytest.raises(OidcError, match=says):
            validate_id_token(bad, KEYS, SETTINGS.issuer, "heimdall-live", "n-1")
    # Within a minute of leeway, a token just expired is still taken (clocks differ).
    assert validate_id_token(token(exp=int(time.time()) - 30), KEYS, SETTINGS.issuer, "heimdall-live", "n-1")


class Provider(LoopbackServer):
    """Discovery and keys only: enough for the client's key cache (its shape as
    oidc-provider and Keycloak serve them)."""

    def __init__(self) -> None:
        super().__init__()
        self.keys = KeySet([KEY])
        self.key_fetches = 0

    async def _handle(self, reader, writer) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1].decode()
        issuer = f"http://127.0.0.1:{self.port}"
        if path.endswith("/jwks"):
            self.key_fetches += 1
            body = self.keys.as_dict(private=False)
        else:
            body = {"issuer": issuer, "authorization_endpoint": issuer + "/auth", "token_endpoint": issuer + "/token",
                    "jwks_uri": issuer + "/jwks"}
        data = json.dumps(body).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(data), data))
        await writer.drain()
        writer.close()


async def test_the_keys_are_cached_and_fetched_again_when_the_provider_rotates_them():
    with Provider() as provider:
        issuer = f"http://127.0.0.1:{provider.port}"
        client = OidcClient(OidcSettings(issuer=issuer, client_id="heimdall-live"), "", "http://gw/cb", "s" * 32)
        first = token(iss=issuer)
        assert (await client._claims(first, "n-1"))["sub"] == "u1"
        assert (await client._claims(first, "n-1"))["sub"] == "u1"
        assert provider.key_fetches == 1  # cached
        rotated = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256"})
        provider.keys = KeySet([rotated])
        now = int(time.time())
        second = jwt.encode({"alg": "RS256", "kid": "k2"}, {"iss": issuer, "aud": "heimdall-live", "sub": "u2",
                                                            "exp": now + 300, "nonce": "n-1"}, rotated)
        assert (await client._claims(second, "n-1"))["sub"] == "u2"
        assert provider.key_fetches == 2
        # A made-up key id costs one fetch, not one per token.
        made_up = jwt.encode({"alg": "RS256", "kid": "k9"}, {"iss": issuer, "aud": "heimdall-live"}, rotated)
        for _ in range(3):
            with pytest.raises(OidcError):
                await client._claims(made_up, "n-1")
        assert provider.key_fetches == 3

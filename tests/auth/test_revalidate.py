"""Open pages and sockets checked again (backend/auth/revalidate.py) against a real store:
who is told that they lost their rights, and who is not."""

from __future__ import annotations

from backend.auth.principal import Authenticator
from backend.auth.revalidate import Revalidator, lost_rights
from backend.auth.store import AuthStore
from backend.config.schema import Config
from backend.storage import open_database


async def test_what_ended_or_shrank_is_told_and_the_rest_is_left_alone(tmp_path):
    database = open_database(tmp_path / "db")
    store = AuthStore(database)
    auth = Authenticator(Config(), database, store, "e" * 20, "s" * 48, login_required=True)
    for name, role in (("boss", "admin"), ("ops", "operator"), ("viewer", "viewer"), ("left", "viewer")):
        store.add_account(name, role, "a long enough passphrase")
    sessions = {name: store.open_session(name) for name in ("boss", "ops", "viewer", "left")}
    token = store.create_token("tool", frozenset({"read"}))

    async def who(headers: dict) -> object:
        return await auth.identify({"query_string": b""}, headers, "127.0.0.1")

    signer = auth.session_cookie
    principals = {name: await who({"cookie": signer(sid, False).split(";")[0]}) for name, sid in sessions.items()}
    principals["tool"] = await who({"authorization": f"Bearer {token}"})
    principals["env"] = await who({"authorization": "Bearer " + "e" * 20})
    assert {p.name for p in principals.values()} == {"boss", "ops", "viewer", "left", "tool", "HEIMDALL_API_TOKEN"}

    told: dict[str, object] = {}
    revalidator = Revalidator(auth)
    revalidator.sources.append(lambda: [(p, lambda now, key=key: told.__setitem__(key, now))
                                        for key, p in principals.items()])
    assert await revalidator.check_once() == 0 and told == {}

    store.set_role("viewer", "admin")  # upgraded: nothing lost
    store.set_role("boss", "viewer")  # downgraded: fewer scopes (no longer the last admin)
    store.close_session(sessions["ops"])  # signed out
    store.remove_account("left")
    store.revoke_token("tool")
    assert await revalidator.check_once() == 4
    assert told["boss"].scopes == frozenset({"read"})
    assert told["ops"] is None and told["left"] is None and told["tool"] is None
    assert "viewer" not in told and "env" not in told  # the environment's token cannot be revoked
    assert revalidator.revoked == 4
    await database.close()


def test_lost_rights_is_fewer_scopes_or_none():
    from backend.auth.principal import Principal

    admin = Principal("a", "session", frozenset({"read", "admin"}))
    assert lost_rights(admin, None)
    assert lost_rights(admin, Principal("a", "session", frozenset({"read"})))
    assert not lost_rights(admin, admin)
    assert not lost_rights(Principal("a", "session", frozenset({"read"})), admin)

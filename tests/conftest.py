from __future__ import annotations

import pytest

from tests.gateway import Gateway, write_config


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """One gateway shared by a test module: quiet config, short heartbeat."""
    root = tmp_path_factory.mktemp("gateway")
    config = write_config(root / "config.toml", heartbeat=30)
    gw = Gateway(config, root / "data").start()
    yield gw
    gw.stop()


@pytest.fixture
def make_gateway(tmp_path):
    """Gateways with a config of the test's own; stopped at the end of the test."""
    started: list[Gateway] = []

    def make(raw: str | None = None, **config) -> Gateway:
        """A gateway with the quiet test config (changed by `config`), or with `raw` as its whole config."""
        path = tmp_path / f"config{len(started)}.toml"
        if raw is not None:
            path.write_text(raw)
        else:
            write_config(path, **config)
        gw = Gateway(path, tmp_path / "data").start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop()


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL for the session (tests/postgres_server.py); each test that
    wants one gets a fresh database in it."""
    from tests.postgres_server import PostgresServer, binary_dir

    if binary_dir() is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_location(request, tmp_path):
    """The same store tests on both engines: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "heimdall.db"
    return request.getfixturevalue("postgres").new_database()

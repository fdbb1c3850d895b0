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

"""One real RabbitMQ per module of feed tests (tests/rabbitmq_server.py)."""

from __future__ import annotations

import pytest

from tests.rabbitmq_server import RABBITMQ_BIN, RabbitServer


@pytest.fixture(scope="module")
def rabbit(tmp_path_factory):
    if not RABBITMQ_BIN.exists():
        pytest.skip("no rabbitmq-server (.ci/run installs Debian's rabbitmq-server)")
    server = RabbitServer(tmp_path_factory.mktemp("rabbitmq")).start()
    yield server
    server.stop()

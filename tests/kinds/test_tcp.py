"""The `tcp` kind (backend/kinds/tcp.py), the proof that a kind is one file: a real
listener on loopback, watched by a real gateway, then closed. It shows on the REST
status, /ws/updates, /metrics and the badges, pages it to the alert's webhook, and
reads back on the System page."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
from websockets.asyncio.client import connect

from backend.config.loading import load_config
from backend.config.schema import ConfigError
from backend.kinds import tcp
from tests.waiting import wait_for
from tests.webhook import WebhookReceiver


def test_a_connection_in_time_is_healthy_a_slow_one_degraded():
    assert tcp.parse(3.2, 1000).status == "healthy"
    slow = tcp.parse(1500, 1000)
    assert slow.status == "degraded" and "1500 ms" in slow.error


@pytest.mark.parametrize("address, ok", [("127.0.0.1:5672", True), ("[::1]:6379", True), ("minio.internal:9000", True),
                                         ("127.0.0.1", False), ("127.0.0.1:0", False), ("127.0.0.1:70000", False),
                                         ("http://127.0.0.1:5672", False), ("", False)])
def test_addresses(address, ok):
    assert (tcp.split_address(address) is not None) is ok


def test_a_tcp_service_without_an_address_is_one_clear_line(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[services]]\nname = "rabbitmq"\nkind = "tcp"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "services[0]" in str(error.value) and "needs address" in str(error.value)
    path.write_text('[[services]]\nname = "rabbitmq"\nkind = "tcp"\naddress = "nowhere"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "host:port" in str(error.value)
    path.write_text('[[services]]\nname = "mq"\nkind = "amqp"\naddress = "127.0.0.1:5672"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "services[0].kind" in str(error.value) and "http, tcp" in str(error.value)


class Listener:
    """A TCP port that accepts (as RabbitMQ's would), until closed."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


async def test_a_tcp_service_end_to_end(make_gateway):
    listener = Listener()
    with WebhookReceiver() as hooks:
        gw = make_gateway(raw=f"""
[polling]
services_interval_s = 1
timeout_s = 1

[[services]]
name = "rabbitmq"
kind = "tcp"
address = "127.0.0.1:{listener.port}"

[[alerts]]
name = "on-call"
urls = ["{hooks.url("on-call")}"]
targets = ["services:rabbitmq"]
failure_threshold = 2
""")

        def rabbitmq() -> dict:
            return httpx.get(gw.url + "/api/v1/system/status").json()["services"][0]

        await asyncio.to_thread(wait_for, lambda: rabbitmq()["status"] == "healthy")
        assert rabbitmq()["url"] == f"127.0.0.1:{listener.port}" and rabbitmq()["response_time_ms"] >= 0
        async with connect(gw.ws_url) as ws:
            assert json.loads(await ws.recv())["event"] == "connected"
            await ws.send(json.dumps({"event": "subscribe", "data": {"events": ["services:health", "status:changed"]}}))
            listener.close()
            change = None
            while change is None:
                message = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if message["event"] == "status:changed" and message["data"]["id"] == "rabbitmq":
                    change = message["data"]
        assert (change["kind"], change["to"], change["reason"]) == ("services", "unreachable", "connection refused")
        await asyncio.to_thread(wait_for, lambda: hooks.titles("on-call"), 15)
        assert hooks.titles("on-call") == ["DOWN: service rabbitmq is unreachable"]
        metrics = httpx.get(gw.url + "/metrics").text
        assert 'heimdall_target_up{id="rabbitmq",kind="services"} 0.0' in metrics
        badge = httpx.get(gw.url + "/api/v1/badges/services/rabbitmq/status.svg")
        assert badge.status_code == 200 and "unreachable" in badge.text
        history = httpx.get(gw.url + "/api/v1/history/services/rabbitmq").json()
        assert history["buckets"] and history["uptime_pct"]["24h"] < 100


async def test_the_system_page_lists_a_tcp_service(tmp_path):
    from tests.ui.test_pages_user import pages_for, table_rows

    async with pages_for(tmp_path, '[[services]]\nname = "rabbitmq"\nkind = "tcp"\naddress = "127.0.0.1:5672"\n') \
            as (user, _, _):
        await user.open("/system")
        services = table_rows(user)["Service"]
        assert [(row["name"], row["status"]) for row in services] == [("rabbitmq", "unknown")]

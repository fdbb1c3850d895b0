"""A real RabbitMQ (Debian's rabbitmq-server) on a loopback port, in a temporary directory,
and a publisher that publishes exactly as the Heimdall platform's does.

Never the system service: each test (or module) starts its own node, with its own node
name, data directory, AMQP port and distribution port, bound to 127.0.0.1; the default
`guest` user may connect only from loopback, which is where the tests are.

The publisher is the platform's own way (fulgidus/heimdall, services/backend/src/events/
publisher.py on develop): kombu, `Exchange('heimdall.events', type='topic',
durable=False, auto_delete=False)` declared on each publish, JSON bodies `{"event",
"timestamp": datetime.utcnow().isoformat(), "data"}`, routing keys such as
`signal.detected`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.waiting import wait_for

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answering(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            sock.settimeout(2)
            return len(sock.recv(8)) > 0  # connection.start
    except OSError:
        return False


class RabbitServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        d = self.directory
        return {**{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
                "HOME": str(d), "RABBITMQ_NODENAME": f"heimdall-test-{self.port}@localhost",
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(free_port()), "ERL_EPMD_ADDRESS": "127.0.0.1",
                "RABBITMQ_MNESIA_BASE": str(d / "mnesia"), "RABBITMQ_LOG_BASE": str(d / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
                "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq"), "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
                "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"), "RABBITMQ_PID_FILE": str(d / "pid"),
                "RABBITMQ_LOGS": str(d / "log" / "rabbit.log")}

    def start(self) -> "RabbitServer":
        if not RABBITMQ_BIN.exists() or shutil.which("erl") is None:
            raise RuntimeError("rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "enabled_plugins").write_text("[].\n")
        (self.directory / "rabbitmq-env.conf").write_text("")
        self.process = subprocess.Popen([str(RABBITMQ_BIN)], env=self._env(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: answering(self.port), 60, 0.2)
        return self

    def kill(self) -> None:
        """As a crash would: the node's processes killed, nothing flushed on purpose."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(10)
        wait_for(lambda: not answering(self.port), 10, 0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)

    def restart(self) -> "RabbitServer":
        self.stop()
        return self.start()


class PlatformPublisher:
    """Publishes as the platform's EventPublisher does (kombu, the same exchange, bodies
    and routing keys); one connection kept open, as a benchmark needs."""

    def __init__(self, url: str, exchange: str = "heimdall.events", confirm: bool = False) -> None:
        """`confirm`: wait for the broker's publisher confirm (the fault rig's way of knowing
        what the broker took; the platform's own publisher does not)."""
        from kombu import Connection, Exchange

        self.exchange = Exchange(exchange, type="topic", durable=False, auto_delete=False)
        self.connection = Connection(url, connect_timeout=2,
                                     transport_options={"confirm_publish": True} if confirm else {})
        self.producer = self.connection.Producer()

    def publish(self, routing_key: str, event: str, data: dict[str, Any], **properties: Any) -> None:
        body = {"event": event, "timestamp": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
                "data": data}
        self.producer.publish(body, exchange=self.exchange, routing_key=routing_key, serializer="json",
                              declare=[self.exchange], retry=True,
                              retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.5,
                                            "interval_max": 2}, **properties)

    def publish_raw(self, routing_key: str, body: bytes, **properties: Any) -> None:
        """Anything at all, for the bad messages a broker may carry."""
        self.producer.publish(body, exchange=self.exchange, routing_key=routing_key, declare=[self.exchange],
                              content_type="application/octet-stream", content_encoding="binary", **properties)

    def signal(self, frequency_hz: float, signal_strength_db: float, station_id: str,
               properties: dict[str, Any] | None = None, **extra: Any) -> None:
        """As publish_signal_detection does; `properties`: AMQP ones (message_id, say)."""
        self.publish("signal.detected", "signal:detected", {"frequency_hz": frequency_hz,
                                                            "signal_strength_db": signal_strength_db,
                                                            "station_id": station_id, **extra},
                     **(properties or {}))

    def close(self) -> None:
        self.connection.release()

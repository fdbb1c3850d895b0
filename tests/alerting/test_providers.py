"""Notification providers behind one interface, chosen by URL scheme: a provider added
to the list is used by delivery and by `notify-test` alike (backend/alerting/providers)."""

from __future__ import annotations

import asyncio
import io

import pytest

from backend.alerting import notify_test, providers
from backend.alerting.delivery import Delivery, Notification
from backend.alerting.providers.base import Provider


@pytest.fixture
def capture():
    """A provider of the test's own for capture:// URLs, first in the list."""
    got = []

    def send(url, title, body, timeout_s, policy):
        got.append((url, title))
        return ("fail" not in url), None if "fail" not in url else "the capture said no"
    provider = Provider("capture", frozenset({"capture"}), send, lambda url: "capture://…")
    providers.PROVIDERS.insert(0, provider)
    yield got
    providers.PROVIDERS.remove(provider)


def test_a_scheme_goes_to_its_provider_and_the_rest_to_apprise(capture):
    assert providers.provider_for("capture://x").name == "capture"
    assert providers.provider_for("json://127.0.0.1/hook").name == "apprise"
    assert providers.shown("capture://secret") == "capture://…"
    assert providers.send("nonsense", "t", "b", 1)[0] is False


async def test_delivery_sends_through_the_provider_of_each_url(capture):
    outcomes, both_kept = [], asyncio.Event()

    async def record(notification, outcome, detail):
        outcomes.append((outcome, detail))
        if len(outcomes) == 2:
            both_kept.set()
    delivery = Delivery(1, 0, record)
    runner = asyncio.create_task(delivery.run())
    delivery.submit(Notification("on-call", "services:x", "DOWN", "DOWN: x", "x is down",
                                 ("capture://pager", "capture://fail")))
    await asyncio.wait_for(both_kept.wait(), 10)
    runner.cancel()
    assert capture == [("capture://pager", "DOWN: x"), ("capture://fail", "DOWN: x")]
    assert [o for o, _ in outcomes] == ["sent", "failed"] and "the capture said no" in outcomes[1][1]


def test_notify_test_sends_through_the_same_providers(capture, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[[alerts]]\nname = "pager"\nurls = ["capture://pager-secret"]\ntargets = ["services:*"]\n')
    out = io.StringIO()
    assert notify_test.main(["pager", "--config", str(config)], {}, out, io.StringIO()) == 0
    assert capture[0][0] == "capture://pager-secret" and out.getvalue().startswith("sent   capture://…")

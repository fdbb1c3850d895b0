"""The /ws/updates protocol rules as plain functions: no sockets."""

from __future__ import annotations

import json

import pytest

from backend.events.hub import Since
from backend.ws import protocol
from backend.ws.protocol import ClientError, Ping, Subscribe, Unsubscribe, parse_client_message


def test_ping():
    assert parse_client_message('{"event": "ping"}') == Ping()


@pytest.mark.parametrize("text", [
    '{"event": "subscribe", "data": {"event_name": "signals:detected"}}',
    '{"event": "subscribe", "data": {"events": ["signals:detected"]}}',
    '{"event": "subscribe", "channels": ["signals:detected"]}',
    '{"event": "subscribe", "channels": "signals:detected"}',
])
def test_three_subscribe_forms_mean_the_same(text):
    assert parse_client_message(text) == Subscribe(("signals:detected",))


def test_subscribe_with_since_and_wildcard():
    request = parse_client_message('{"event": "subscribe", "data": {"events": ["*"], "since": {"epoch": "e1", "seq": 7}}}')
    assert request == Subscribe(("*",), Since("e1", 7))


def test_repeated_topics_are_folded():
    assert parse_client_message('{"event": "unsubscribe", "data": {"events": ["*", "*"]}}') == Unsubscribe(("*",))


@pytest.mark.parametrize("text, code", [
    pytest.param("[" * 100_000, "invalid_json", id="deeply-nested"),
    ("", "invalid_json"),
    ("nul", "invalid_json"),
    ('{"event": "ping", "x": NaN}', "invalid_json"),
    ('"ping"', "not_an_object"),
    ("{}", "invalid_field"),
    ('{"event": "shout"}', "unknown_event"),
    ('{"event": "subscribe"}', "invalid_field"),
    ('{"event": "subscribe", "data": {"events": []}}', "invalid_field"),
    ('{"event": "subscribe", "data": {"events": [1]}}', "invalid_field"),
    ('{"event": "subscribe", "data": {"events": ["weather"]}}', "unknown_topic"),
    ('{"event": "subscribe", "data": {"events": ["*"], "since": {"epoch": "e", "seq": -1}}}', "invalid_field"),
    ('{"event": "subscribe", "data": {"events": ["*"], "since": {"epoch": "e", "seq": true}}}', "invalid_field"),
    ('{"event": "unsubscribe", "data": {"events": ["*"], "since": {"epoch": "e", "seq": 1}}}', "invalid_field"),
])
def test_bad_messages_are_client_errors(text, code):
    with pytest.raises(ClientError) as error:
        parse_client_message(text)
    assert error.value.code == code and error.value.message


def test_frame_checks():
    assert protocol.check_frame(None, b"\x00", 100).code == protocol.CLOSE_UNSUPPORTED_DATA
    assert protocol.check_frame("x" * 101, None, 100).code == protocol.CLOSE_MESSAGE_TOO_BIG
    assert protocol.check_frame("é" * 51, None, 100).code == protocol.CLOSE_MESSAGE_TOO_BIG  # bytes, not characters
    assert protocol.check_frame("x" * 100, None, 100) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_a_burst_then_the_sustained_rate():
    clock = FakeClock()
    limiter = protocol.RateLimiter(rate=20, burst=40, clock=clock)
    assert all(limiter.allow() for _ in range(40))
    assert not limiter.allow()
    clock.now = 1.0
    assert sum(limiter.allow() for _ in range(100)) == 20


def test_rate_limiter_never_trips_at_twenty_a_second():
    clock = FakeClock()
    limiter = protocol.RateLimiter(rate=20, burst=40, clock=clock)
    for i in range(2000):
        clock.now = i / 20
        assert limiter.allow()


def test_an_event_respelled_for_an_upstream_alias_changes_only_its_name():
    from backend.events.envelope import Envelope
    from backend.events.topics import respelled, topic_of
    env = Envelope.make("websdrs:status", {"a": {"status": "online"}}, "2026-12-02T00:00:00Z", 7, "e")
    text = respelled(env.wire, "websdrs:status", "websdrs:health")
    assert json.loads(text) == {**json.loads(env.wire), "event": "websdrs:health"}
    assert respelled(env.wire, "websdrs:status", "websdrs:status") is env.wire
    assert topic_of("websdrs:health") == "websdrs:status" and topic_of("status:changed") == "status:changed"
    assert parse_client_message('{"event":"subscribe","channels":["signal:detected"]}').topics == ("signal:detected",)

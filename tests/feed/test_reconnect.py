"""How soon the feed connects again (backend/feed/consumer.py retry_after): soon, because
while it is not bound the platform's non-durable exchange drops what it publishes;
refused credentials wait longer (a retry will not change them)."""

from aiormq.exceptions import ProbableAuthenticationError

from backend.feed.consumer import REFUSED_CREDENTIALS_BACKOFF_S, retry_after


def test_a_broker_away_is_tried_again_within_two_seconds_for_ever():
    waits = [retry_after(attempt, ConnectionRefusedError()) for attempt in range(10)]
    assert waits[:3] == [0.5, 1, 2] and set(waits[3:]) == {2}


def test_refused_credentials_wait_longer():
    refused = ProbableAuthenticationError("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN")
    assert retry_after(0, refused) == REFUSED_CREDENTIALS_BACKOFF_S == 30

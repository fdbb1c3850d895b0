"""apprise: e-mail, chat, push and webhooks, one library for a hundred services, each URL
scheme one of its plugins. The provider for every scheme it knows."""

from __future__ import annotations

import apprise

from backend.alerting.providers.base import Provider, Sent
from backend.safety.destinations import DestinationPolicy, DestinationRefused, confined, refused_here
from backend.safety.redact import quiet_apprise, redact_notification_url, redact_text


def send(url: str, title: str, body: str, timeout_s: float, policy: DestinationPolicy | None = None) -> Sent:
    """One attempt at one apprise URL, its connections confined by `policy`. Neither the
    reason nor apprise's own log lines quote the URL's secrets."""
    with quiet_apprise(url):
        sender = apprise.Apprise()
        if not sender.add(url):
            return False, "not a URL apprise knows"
        try:
            with confined(policy):
                ok = sender.notify(body=body, title=title, timeout=timeout_s)
                refused = refused_here()  # apprise reports a refused connection only as a failure
        except DestinationRefused as refusal:
            return False, f"not reached: {refusal}"
        except Exception as exc:  # a plugin's bug must not end the worker
            return False, redact_text(f"{type(exc).__name__}: {exc}")[:200]
    if not ok and refused:
        return False, f"not reached: {refused}"
    return bool(ok), None if ok else "the service refused or did not answer"


PROVIDER = Provider("apprise", None, send, redact_notification_url)

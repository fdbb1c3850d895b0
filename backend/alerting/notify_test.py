"""`python main.py notify-test NAME`: send a test notification through one alert or watch,
now, and say for each of its URLs (redacted) whether it arrived. The alert may be in the
configuration file or made in the browser (kept in the database): the running
configuration is the same merge the gateway makes (backend/config/managed.py). The
admin page's button and the API take the same path (`AlertEngine.send_test`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Mapping, TextIO

TEST_TITLE = "TEST: Heimdall Live notifications work"
TEST_BODY = "A test sent with python main.py notify-test (or the admin page). Nothing is wrong."


def urls_of(config, name: str) -> list[str] | None:
    for item in [*config.alerts, *config.readiness_alerts, *config.watches]:
        if item.name == name:
            return list(item.urls)
    return None


def running_config(settings):
    """The file's configuration with the alert rules and targets made in the browser, when
    the gateway's database is there (a data directory never used has none)."""
    from backend.config.managed import ManagedStore, merged
    from backend.config.schema import DATABASE_FILE
    from backend.storage.database import open_database

    if not settings.database_url and not (settings.data_dir / DATABASE_FILE).exists():
        return settings.config
    database = open_database(settings.database_location)
    try:
        config, _ = merged(settings.config, ManagedStore(database).rows())
    finally:
        database.close_now()
    return config


def main(argv: list[str], environ: Mapping[str, str] = os.environ, out: TextIO = sys.stdout,
         err: TextIO = sys.stderr) -> int:
    from backend.alerting.delivery import Delivery, Notification
    from backend.config.loading import load_settings
    from backend.config.schema import ConfigError
    from backend.storage.database import DatabaseUnavailable

    parser = argparse.ArgumentParser(prog="main.py notify-test", description="Send a test notification through "
                                     "one alert or watch (of the configuration file, or made in the browser), now, "
                                     "and say whether each URL got it.")
    parser.add_argument("name", help="an [[alerts]], [[readiness_alerts]] or [[watches]] entry's name")
    parser.add_argument("--config", help="TOML configuration file (HEIMDALL_CONFIG, default: the built-in network)")
    parser.add_argument("--data-dir", help="the gateway's data directory (HEIMDALL_DATA_DIR), for browser-made rules")
    args = parser.parse_args(argv)
    options = [*(["--config", args.config] if args.config else []),
               *(["--data-dir", args.data_dir] if args.data_dir else [])]
    try:
        settings = load_settings(options, environ)
        config = running_config(settings)
    except (ConfigError, DatabaseUnavailable) as exc:
        for line in str(exc).splitlines():
            print(f"heimdall: {line}", file=err)
        return 2
    urls = urls_of(config, args.name)
    if urls is None:
        known = ", ".join(a.name for a in [*config.alerts, *config.readiness_alerts, *config.watches]) or "none"
        print(f"heimdall: no alert or watch named {args.name!r} (configured: {known})", file=err)
        return 2
    from backend.safety.destinations import policy_of

    # A rule made in the browser sends only where [targets] allows, here as in the gateway.
    delivery = Delivery(config.delivery.timeout_s, config.delivery.retries, record=None,
                        policy_for=lambda alert: policy_of(config.targets)
                        if config.made_at_run_time("alerts", alert) else None)
    attempts = asyncio.run(delivery.try_now(Notification(args.name, "test", "TEST", TEST_TITLE, TEST_BODY,
                                                         tuple(urls))))
    for attempt in attempts:
        print(f"{'sent  ' if attempt.delivered else 'FAILED'} {attempt.url}"
              f"{'' if attempt.delivered else ': ' + str(attempt.reason)}", file=out)
    return 0 if all(a.delivered for a in attempts) else 1

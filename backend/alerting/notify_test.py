"""`python main.py notify-test NAME`: send a test notification through one alert or watch,
now, and say for each of its URLs (redacted) whether it arrived."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Mapping, TextIO

from backend.alerting import providers
from backend.config.loading import load_settings
from backend.config.schema import ConfigError

TITLE = "TEST: Heimdall Live notifications work"
BODY = "A test sent with python main.py notify-test (or the admin page). Nothing is wrong."


def urls_of(config, name: str) -> list[str] | None:
    for item in [*config.alerts, *config.readiness_alerts, *config.watches]:
        if item.name == name:
            return list(item.urls)
    return None


def main(argv: list[str], environ: Mapping[str, str] = os.environ, out: TextIO = sys.stdout,
         err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="main.py notify-test", description="Send a test notification through "
                                     "one alert or watch of the configuration, now, and say whether each URL got it.")
    parser.add_argument("name", help="an [[alerts]], [[readiness_alerts]] or [[watches]] entry's name")
    parser.add_argument("--config", help="TOML configuration file (HEIMDALL_CONFIG, default: the built-in network)")
    args = parser.parse_args(argv)
    names = [args.name]
    try:
        settings = load_settings(["--config", args.config] if args.config else [], environ)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"heimdall: {line}", file=err)
        return 2
    urls = urls_of(settings.config, names[0])
    if urls is None:
        known = ", ".join(a.name for a in [*settings.config.alerts, *settings.config.readiness_alerts,
                                              *settings.config.watches]) or "none"
        print(f"heimdall: no alert or watch named {names[0]!r} (configured: {known})", file=err)
        return 2
    failed = 0
    for url in urls:
        ok, reason = providers.send(url, TITLE, BODY, settings.config.delivery.timeout_s)
        failed += not ok
        print(f"{'sent  ' if ok else 'FAILED'} {providers.shown(url)}{'' if ok else ': ' + str(reason)}", file=out)
    return 1 if failed else 0

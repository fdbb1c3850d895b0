"""The command line explains itself: `--help` lists every sub-command, and every
sub-command's `--help` works (exit 0) and shows its options."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.gateway import ROOT

SUB_COMMANDS = ("user", "token", "watch", "notify-test", "agent")


def helped(*args: str) -> str:
    done = subprocess.run([sys.executable, "main.py", *args, "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, (args, done.stderr)
    assert done.stdout.startswith("usage: main.py"), args
    return done.stdout


def test_the_main_help_lists_every_sub_command_with_a_line():
    text = helped()
    for name in SUB_COMMANDS:
        assert any(line.strip().startswith(name + " ") for line in text.splitlines()), name
    assert "--demo" in text and "--config" in text


@pytest.mark.parametrize("args, options", [
    (("user",), ["--data-dir", "add", "passwd", "role", "remove", "list"]),
    (("user", "add"), ["--data-dir", "--role"]),
    (("user", "passwd"), ["--data-dir"]),
    (("user", "role"), ["--data-dir"]),
    (("user", "remove"), ["--data-dir"]),
    (("user", "list"), ["--data-dir"]),
    (("token",), ["--data-dir", "create", "list", "revoke"]),
    (("token", "create"), ["--data-dir", "--scope", "--site"]),
    (("token", "list"), ["--data-dir"]),
    (("token", "revoke"), ["--data-dir"]),
    (("watch",), ["--events", "--json", "--token"]),
    (("notify-test",), ["--config", "--data-dir", "name"]),
    (("agent",), ["--gateway", "--token", "--site", "--bind-address", "--buffer-rounds"]),
])
def test_every_sub_commands_help_works_and_shows_its_options(args, options):
    text = helped(*args)
    for option in options:
        assert option in text, (args, option)

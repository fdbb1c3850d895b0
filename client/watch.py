"""`python main.py watch [URL] [--events a,b] [--json] [--token T]`: print a gateway's
events as they arrive, one line each (or JSON lines), connection states on stderr."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any, TextIO

from client.core import GAP, ConnectionState, Event, HeimdallClient

DEFAULT_URL = "http://127.0.0.1:8000"


def human_line(event: Event) -> str:
    """One readable line for an event."""
    data: Any = event.data
    when = (event.timestamp or "")[11:19]
    if event.event == "signals:detected":
        text = f"{data.get('frequency_mhz', 0):.4f} MHz  SNR {data.get('snr_db', 0):.1f} dB  at {data.get('websdr_id')}"
    elif event.event == "localizations:updated":
        text = (f"{data.get('latitude', 0):.4f}, {data.get('longitude', 0):.4f} ± {data.get('uncertainty_m', 0):.0f} m"
                f"  confidence {data.get('confidence', 0):.0%}")
    elif event.event in ("services:health", "websdrs:status"):
        text = "  ".join(f"{key} {entry.get('status')}" for key, entry in sorted(data.items()))
    elif event.event == "status:changed":
        text = f"{data.get('name')} {data.get('from')} -> {data.get('to')}" + (
            f" ({data['reason']})" if data.get("reason") else "")
    elif event.event == GAP:
        text = data.get("reason", "")
    else:
        text = json.dumps(data, separators=(",", ":"))
    return f"{when} {event.event:<22} {text}".strip()


def json_line(event: Event) -> str:
    return json.dumps({"event": event.event, "data": event.data, "timestamp": event.timestamp, "seq": event.seq},
                      separators=(",", ":"))


async def watch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    topics = [t.strip() for t in args.events.split(",") if t.strip()] if args.events else ["*"]

    def on_state(state: ConnectionState) -> None:
        why = f": {client.last_failure}" if state == ConnectionState.RECONNECTING and client.last_failure else ""
        print(f"[{state.value}] {client.ws_url}{why}", file=err, flush=True)

    def on_subscribed(recovered: bool) -> None:
        print(f"[subscribed] {','.join(topics)}{' (resumed)' if recovered else ''}", file=err, flush=True)

    client = HeimdallClient(args.url, topics=topics, token=args.token, on_state=on_state,
                            on_subscribed=on_subscribed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    async def printer() -> None:
        async for event in client.events():
            if event.event == GAP:
                print(f"[gap] {event.data.get('reason')}", file=err, flush=True)
                if not args.json:
                    continue
            print(json_line(event) if args.json else human_line(event), file=out, flush=True)
        stop.set()

    await client.start()
    printing = asyncio.create_task(printer())
    await stop.wait()
    await client.close()
    printing.cancel()
    if client.error is not None:
        print(f"watch: {client.error}", file=err, flush=True)
        return 2
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="main.py watch", description="Print a Heimdall Live gateway's events.")
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help=f"the gateway (default {DEFAULT_URL})")
    parser.add_argument("--events", help="comma-separated topics (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line, for jq")
    parser.add_argument("--token", default=os.environ.get("HEIMDALL_API_TOKEN"), help="API token (HEIMDALL_API_TOKEN)")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(watch(args, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        return 0

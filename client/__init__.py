"""A Python client for Heimdall Live's /ws/updates: reconnection with backoff, a
heartbeat watchdog, gap recovery across reconnects, and a polling fallback.

    from client import HeimdallClient

    async with HeimdallClient("http://127.0.0.1:8000", topics=["signals:detected"]) as live:
        async for event in live.events():
            print(event.event, event.data)

`SyncClient` wraps it for scripts that do not use asyncio. Importable from a checkout;
it needs only `websockets` and `httpx`.
"""

from client.backoff import backoff_delay
from client.core import ConnectionState, Event, HeimdallClient, TokenRefused
from client.sync import SyncClient

__all__ = ["ConnectionState", "Event", "HeimdallClient", "SyncClient", "TokenRefused", "backoff_delay"]

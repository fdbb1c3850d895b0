"""The reconnection schedule: 1 s, 2 s, 4 s, 8 s, 16 s, then every 30 s, with jitter."""

from __future__ import annotations

import random

SCHEDULE_S = (1.0, 2.0, 4.0, 8.0, 16.0)
MAX_S = 30.0


def backoff_delay(attempt: int, jitter: float = 0.1, rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnection attempt `attempt` (1 is the first)."""
    base = SCHEDULE_S[attempt - 1] if 1 <= attempt <= len(SCHEDULE_S) else MAX_S
    spread = (rng or random).uniform(-jitter, jitter)
    return base * (1 + spread)

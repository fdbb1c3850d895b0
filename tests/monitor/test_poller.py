"""A round of the poller (backend/monitor/poller.py) with the probes' answers in the
test's hands: the worker is the test's, so a round can be held open while the
configuration changes under it."""

from __future__ import annotations

import asyncio

from backend.config.schema import Config
from backend.events.bus import LocalBus
from backend.events.hub import Hub
from backend.kinds import initial_state
from backend.kinds.probing import ProbeResult
from backend.monitor.poller import Monitor
from backend.storage import SQLHistoryStore, open_database


class HeldWorker:
    """Answers every check `healthy`, once the test lets the round finish."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def run(self, specs, max_concurrency):
        self.started.set()
        await self.release.wait()
        return [ProbeResult("healthy", 12.0) for _ in specs]


def services(*names: str) -> Config:
    return Config.model_validate({"services": [{"name": n, "url": f"http://127.0.0.1:9/{n}"} for n in names]})


async def test_a_target_removed_while_its_round_runs_is_not_published_by_that_round(tmp_path):
    database = open_database(tmp_path / "db")
    before = services("inference", "training")
    hub = Hub(LocalBus(), initial_state(before, {}))
    published: list[dict] = []
    changes: list[dict] = []
    hub.subscribe(lambda env: published.append(env.data) if env.event == "services:health" else None)
    hub.subscribe(lambda env: changes.append(env.data) if env.event == "status:changed" else None)
    worker = HeldWorker()
    history = SQLHistoryStore(database)
    monitor = Monitor(before, hub, history, worker=worker)
    round_ = asyncio.create_task(monitor.poll("services"))
    await worker.started.wait()
    await monitor.reconfigure(services("inference"))  # training removed mid-round
    worker.release.set()
    await round_
    assert set(published[-1]) == {"inference"} and published[-1]["inference"]["status"] == "healthy"
    assert set(hub.latest("services:health").data) == {"inference"}
    # Nor is it kept as last known (what a restart shows first), nor announced as changed.
    assert set(history.last_entries()) == {("services", "inference")}
    assert [c["id"] for c in changes] == ["inference"]
    await database.close()

"""The alert engine (backend/alerting/engine.py) in process: a real SQLite store, a hub on
the in-process bus, an injected clock, and a delivery that keeps what it is handed
instead of sending it (tests/alerting/test_alerts.py sends for real)."""

from __future__ import annotations

import pytest

from backend.alerting.delivery import Delivery
from backend.alerting.engine import AlertEngine
from backend.config.schema import Config
from backend.events.bus import LocalBus
from backend.events.hub import Hub
from backend.storage import open_database
from backend.timefmt import iso_from_ms

NAMES = ("api", "inference", "training")


class HandedDelivery(Delivery):
    def __init__(self) -> None:
        super().__init__(timeout_s=1, retries=0, record=None)
        self.handed = []

    def submit(self, notification, row=None) -> None:
        self.handed.append(notification)


class Clock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def config(**alert) -> Config:
    return Config.model_validate({
        "services": [{"name": n, "url": f"http://127.0.0.1:9/{n}"} for n in NAMES],
        "alerts": [{"name": "on-call", "urls": ["json://127.0.0.1:9/x"], "targets": ["services:*"],
                    "failure_threshold": 2, "success_threshold": 1, **alert}],
    })


async def made_engine(tmp_path, **alert) -> AlertEngine:
    database = open_database(tmp_path / "db")
    hub = Hub(LocalBus(), {})
    clock = Clock()
    active = {"poller": True}
    made = AlertEngine(config(**alert), hub, database, HandedDelivery(), "http://gw", clock=clock,
                       active=lambda: active["poller"])
    await made.start()
    made.test_clock, made.test_active, made.test_database = clock, active, database
    made.test_changes = []  # status:changed envelopes, as every hub subscriber gets them
    hub.subscribe(lambda env: made.test_changes.append(env) if env.event == "status:changed" else None)
    return made


@pytest.fixture
async def engine(tmp_path):
    made = await made_engine(tmp_path, reminder_every_min=10)
    yield made
    await made.test_database.close()


async def round_(engine: AlertEngine, statuses: dict[str, tuple[str, str | None]]) -> None:
    """One services round, as the poller hands it to the engine; judged at once."""
    engine.test_clock.now += 1
    checked = iso_from_ms(int(engine.test_clock.now * 1000))
    data = {name: {"name": name, "status": status, "check_status": status, "error": reason, "last_check": checked}
            for name, (status, reason) in statuses.items()}
    await engine.judge_round("services", data, data)


def titles(engine: AlertEngine) -> list[str]:
    return [n.title for n in engine.delivery.handed]


HEALTHY = ("healthy", None)
REFUSED = ("unreachable", "connection refused")


async def test_down_at_the_threshold_resolved_after_and_reminders_stop_when_acknowledged(engine):
    await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine) == []
    await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine) == ["DOWN: service api is unreachable"]
    assert "connection refused" in engine.delivery.handed[0].body and "http://gw/services/api" in engine.delivery.handed[0].body
    engine.test_clock.now += 11 * 60
    await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine)[-1] == "STILL DOWN: service api is unreachable"
    incident = next(iter(engine.state.incidents.values()))
    assert await engine.acknowledge(incident.id, "ops")
    engine.test_clock.now += 11 * 60
    await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert len(titles(engine)) == 2  # acknowledged: no reminder
    await round_(engine, {"api": HEALTHY, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine)[-1] == "RESOLVED: service api is healthy again"
    assert engine.open_incident_count() == 0


async def test_everything_refused_at_once_is_alerted_not_blamed_on_the_gateway(engine):
    for _ in range(2):
        await round_(engine, {name: REFUSED for name in NAMES})
    # The three are at one host (127.0.0.1:9): one DOWN names them all, each body kept.
    assert titles(engine) == ["DOWN: 3 on 127.0.0.1:9: service api, service inference, service training"]
    assert all(f"The service {n} (services:{n}) is unreachable" in engine.delivery.handed[0].body for n in NAMES)
    assert engine.gateway_problems == {}
    await round_(engine, {name: HEALTHY for name in NAMES})
    assert titles(engine)[-1] == "RESOLVED: 3 on 127.0.0.1:9: service api, service inference, service training"


@pytest.mark.parametrize("group_by, expected", [
    ("none", sorted(f"DOWN: service {n} is unreachable" for n in NAMES)),
    ("alert", ["DOWN: 3: service api, service inference, service training"])])
async def test_grouping_is_the_alerts_own_choice(tmp_path, group_by, expected):
    engine = await made_engine(tmp_path, group_by=group_by)
    try:
        for _ in range(2):
            await round_(engine, {name: REFUSED for name in NAMES})
        assert sorted(titles(engine)) == expected
    finally:
        await engine.test_database.close()


async def test_down_since_the_first_failed_check_not_the_alerts_time(tmp_path):
    engine = await made_engine(tmp_path, failure_threshold=3)
    try:
        await round_(engine, {"api": HEALTHY, "inference": HEALTHY, "training": HEALTHY})
        await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
        first_failed = iso_from_ms(int(engine.test_clock.now * 1000))
        engine.test_clock.now += 120
        for _ in range(2):
            await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
        assert titles(engine) == ["DOWN: service api is unreachable"]
        assert f"Down since {first_failed}." in engine.delivery.handed[0].body
        incident = next(iter(engine.state.incidents.values()))
        assert iso_from_ms(incident.opened_ms) == first_failed
        await round_(engine, {"api": HEALTHY, "inference": HEALTHY, "training": HEALTHY})
        assert f"after being down since {first_failed}" in engine.delivery.handed[-1].body
    finally:
        await engine.test_database.close()


async def test_group_wait_gathers_later_rounds_into_the_first_message():
    """With group_wait_s, what the next rounds say within the wait joins the first group
    (waited on by the delivery's own event, not a sleep)."""
    import asyncio

    from backend.alerting.delivery import Notification
    from backend.alerting.grouping import Grouper

    out: list[Notification] = []
    arrived = asyncio.Event()
    grouper = Grouper(lambda n, row: (out.append(n), arrived.set()))

    def down(name: str) -> Notification:
        return Notification("radio", f"websdrs:{name}", "DOWN", f"DOWN: receiver {name}", f"body {name}", ("json://x",))
    grouper.add(down("a"), "receiver a", "host:8073", "host", 0.3)
    grouper.end_round()
    assert out == []  # still waiting for the rest of its group
    grouper.add(down("b"), "receiver b", "host:8073", "host", 0.3)
    grouper.add(down("c"), "receiver c", "elsewhere:8073", "host", 0)
    grouper.end_round()
    assert [n.title for n in out] == ["DOWN: receiver c"]  # another host, no wait: its round ended
    arrived.clear()
    await asyncio.wait_for(arrived.wait(), 5)
    assert [n.title for n in out][1:] == ["DOWN: 2 on host:8073: receiver a, receiver b"]
    assert out[1].body == "body a\n\nbody b" and grouper.waiting == 0


async def test_timeouts_everywhere_are_the_gateways_problem_and_hold_the_alerts(engine):
    for _ in range(3):
        await round_(engine, {name: ("unreachable", "timeout after 5 s") for name in NAMES})
    assert [(e.data["id"], e.data["to"]) for e in engine.test_changes] == [("network-services", "down")]
    assert titles(engine) == ["GATEWAY PROBLEM: the gateway's reach to its services"]  # told at once, not heard back
    await engine.handle(engine.test_changes[0])  # hearing its own announcement changes nothing
    assert titles(engine) == ["GATEWAY PROBLEM: the gateway's reach to its services"]
    assert engine.rounds_evaluated == 3
    await round_(engine, {name: HEALTHY for name in NAMES})
    assert [(e.data["id"], e.data["to"]) for e in engine.test_changes] == [("network-services", "down"),
                                                                           ("network-services", "up")]
    assert titles(engine)[-1] == "GATEWAY RESOLVED: the gateway's reach to its services"
    await engine.handle(engine.test_changes[1])
    assert titles(engine).count("GATEWAY PROBLEM: the gateway's reach to its services") == 1


async def test_a_silence_in_the_store_holds_until_lifted_then_one_down(engine):
    silence = await engine.silence("services", "api", 60, "ops", "upgrade")
    assert engine.quiet_reason("services", "api").startswith("silenced until")
    for _ in range(3):
        await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine) == []
    assert await engine.lift("silences", silence.id)
    await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine) == ["DOWN: service api is unreachable"]


async def test_a_silence_made_elsewhere_is_read_at_the_next_round(engine):
    # Another instance writes to the same store; this engine has not been told.
    engine.store.add_quieting("maintenance", "services", "*", 0, 4_000_000_000_000, "switch swap", "ops")
    assert engine.quiet_reason("services", "api") is None  # not read yet
    for _ in range(3):
        await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine) == []
    assert engine.quiet_reason("services", "training") == "in maintenance (switch swap)"


async def test_an_instance_that_does_not_poll_keeps_the_state_and_sends_nothing(engine):
    engine.test_active["poller"] = False
    for _ in range(3):
        await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert titles(engine) == [] and engine.rounds_evaluated == 0
    engine.store.add_quieting("silences", "services", "api", 0, 4_000_000_000_000, None, "ops")
    await round_(engine, {"api": REFUSED, "inference": HEALTHY, "training": HEALTHY})
    assert engine.quiet_reason("services", "api").startswith("silenced")


async def site_change(engine: AlertEngine, site: str, before: str, after: str) -> None:
    env = await engine._hub.publish("status:changed", {"kind": "site", "id": site, "name": f"site {site}",
                                                       "from": before, "to": after, "since": "x", "reason": "silent"})
    await engine.handle(env)


async def test_a_sites_problem_goes_to_the_alerts_that_name_sites_once_and_resolves_once(engine, tmp_path):
    engine.reconfigure(Config.model_validate({**config().model_dump(), "alerts": [
        {"name": "on-call", "urls": ["json://127.0.0.1:9/x"], "targets": ["services:*"]},
        {"name": "network-team", "urls": ["json://127.0.0.1:9/y"], "targets": ["sites:milano"]}]}))
    await site_change(engine, "milano", "ok", "stale")
    await site_change(engine, "milano", "ok", "stale")  # heard twice (a new poller announces again)
    assert [(n.alert, n.title) for n in engine.delivery.handed] == [("network-team", "SITE PROBLEM: milano is stale")]
    await site_change(engine, "torino", "ok", "stale")  # a site no alert names, while one alert names sites
    assert len(engine.delivery.handed) == 1
    await site_change(engine, "milano", "stale", "ok")
    assert titles(engine)[1:] == ["SITE RESOLVED: milano reports again"]
    assert engine.site_problems == {"torino": "silent"}


async def test_a_sites_problem_goes_to_every_alert_when_none_names_sites(engine):
    await site_change(engine, "milano", "ok", "problem")
    assert [(n.alert, n.title) for n in engine.delivery.handed] == [("on-call", "SITE PROBLEM: milano has its votes set aside")]


async def test_the_gateways_problem_is_an_incident_told_once_across_a_restart_and_resolved_by_a_good_round(
        engine, tmp_path):
    """The gateway's own problems go through the one lifecycle: one incident per alert, kept.
    A new engine (a restart, or a new poller) hearing the problem again tells nothing; when
    its rounds show that part working, the incident left open is resolved, once."""
    down = {"kind": "gateway", "id": "probe-worker", "name": "probe worker", "from": "up", "to": "down",
            "since": "x", "reason": "the probe worker process died"}
    await engine.handle(await engine._hub.publish("status:changed", down))
    assert titles(engine) == ["GATEWAY PROBLEM: probe worker"] and engine.open_incident_count() == 1
    again = AlertEngine(engine.config, engine._hub, engine._db, HandedDelivery(), "http://gw", clock=engine.test_clock)
    await again.start()  # what the store kept: the open incident
    await again.handle(await again._hub.publish("status:changed", down))
    assert again.delivery.handed == []  # the problem goes on: told already, by the one before
    later = AlertEngine(engine.config, engine._hub, engine._db, HandedDelivery(), "http://gw", clock=engine.test_clock)
    await later.start()  # a restart after the worker came back: nothing says the problem ended
    later.test_clock, later.test_active = engine.test_clock, engine.test_active
    await round_(later, {"api": HEALTHY, "inference": HEALTHY, "training": HEALTHY})  # the worker works
    await round_(later, {"api": HEALTHY, "inference": HEALTHY, "training": HEALTHY})
    assert [n.title for n in later.delivery.handed] == ["GATEWAY RESOLVED: probe worker"]
    assert later.open_incident_count() == 0 and later.gateway_problems == {}

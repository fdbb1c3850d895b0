"""Page content and interactions with NiceGUI's simulated `user` (no browser, no socket)."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from nicegui import ui as nicegui_ui
from nicegui.testing.user_simulation import user_simulation

from backend.app import build_runtime
from backend.config.loading import load_settings
from tests.gateway import ONE_OF_EACH, write_config

RECEIVERS = ONE_OF_EACH


@pytest.fixture
async def live(tmp_path):
    """The pages on a runtime of their own (no server, no polling): the test publishes on its hub."""
    import ui

    config = write_config(tmp_path / "c.toml", extra=RECEIVERS)
    settings = load_settings(["--config", str(config), "--data-dir", str(tmp_path)], {})
    runtime = build_runtime(settings, "token-0123456789abcdef", "s" * 48)
    async with user_simulation() as user:
        state = ui.register(runtime)
        await state.load()
        yield user, runtime, state
    await runtime.database.close()


@asynccontextmanager
async def pages_for(tmp_path, config_text: str):
    """The pages on a runtime of their own with this configuration (no server, no polling)."""
    import ui

    config = tmp_path / "c.toml"
    config.write_text(config_text)
    settings = load_settings(["--config", str(config), "--data-dir", str(tmp_path)], {})
    runtime = build_runtime(settings, "token-0123456789abcdef", "s" * 48)
    try:
        async with user_simulation() as user:
            state = ui.register(runtime)
            await state.load()
            yield user, runtime, state
    finally:
        await runtime.database.close()


def table_rows(user) -> dict[str, list[dict]]:
    """The rows of each table on the page: a NiceGUI table by its first column's label, a
    table of targets (ui/live_table.py) by its name column's ("Service", "Receiver")."""
    from ui.live_table import LiveTable

    def found(kind) -> set:
        try:
            return user.find(kind).elements
        except AssertionError:  # none on the page (an empty section is one line, not an empty table)
            return set()

    tables = {table.columns[0]["label"]: table.rows for table in found(nicegui_ui.table)}
    for table in found(LiveTable):
        tables[table.props["columns"][1]["label"]] = table.props["rows"]
    return tables


async def shown_changes(user, state) -> list[dict]:
    """The state changes a page's change list holds (ui/changes.py): those it had, or the
    next ones LiveState hands the pages (the page's list hears of them first)."""
    import asyncio

    from ui.changes import ChangeList

    change_list = user.find(ChangeList).elements.pop()
    if not change_list.props["changes"]:
        arrived = asyncio.Event()
        state.changes_added.subscribe(lambda _changes: arrived.set())
        await asyncio.wait_for(arrived.wait(), timeout=5)
    return change_list.props["changes"]


async def test_dashboard_shows_configured_targets_and_live_updates(live):
    user, runtime, state = live
    await user.open("/")
    await user.should_see("Services healthy")
    rows = table_rows(user)
    assert [(r["name"], r["status"]) for r in rows["Service"]] == [("inference", "unknown")]
    assert [(r["name"], r["status"]) for r in rows["Receiver"]] == [("Torino", "unknown")]
    await runtime.hub.publish("websdrs:status", {"torino": {
        "websdr_id": "torino", "status": "offline", "response_time_ms": None, "last_check": "2026-11-25T12:00:00.000Z",
        "error_message": "timeout after 5 s", "since": "2026-11-25T12:00:00.000Z", "uptime_24h": 50.0, "details": {}}})
    await user.should_see("0 / 1")  # receivers online
    await user.should_see("1 offline")
    receiver = table_rows(user)["Receiver"][0]
    assert (receiver["status"], receiver["reason"], receiver["uptime"]) == ("offline", "timeout after 5 s", "50.0 %")
    await runtime.hub.publish("signals:detected", {"id": "d1", "frequency_mhz": 145.5, "snr_db": 9.0,
                                                   "websdr_id": "torino", "timestamp": "2026-11-25T12:00:00.000Z"})
    await user.should_see("1 in total")
    detection = table_rows(user)["Frequency"][0]
    assert (detection["frequency"], detection["receiver"]) == ("145.5000 MHz", "Torino")  # the name, not the id
    assert state.detections_total == 1


async def test_navigation_between_the_three_pages(live):
    user, runtime, _ = live
    await user.open("/")
    user.find("Receivers").click()
    await user.should_see("1 unknown")  # the receivers' counts by state
    assert [row["name"] for row in table_rows(user)["Receiver"]] == ["Torino"]
    user.find("System").click()
    await user.should_see("Events published")
    assert table_rows(user)["Service"][0]["name"] == "inference"
    user.find("Dashboard").click()
    await user.should_see("Latest detections")


async def test_system_page_lists_state_changes_as_they_happen(live):
    user, runtime, state = live
    await user.open("/system")
    await runtime.hub.publish("status:changed", {"kind": "services", "id": "inference", "name": "inference",
                                                 "from": "healthy", "to": "unreachable",
                                                 "since": "2026-11-25T12:00:00.000Z", "reason": "connection refused"})
    changes = await shown_changes(user, state)
    assert [(c["name"], c["from"], c["to"], c["reason"], c["href"]) for c in changes] == [
        ("inference", "healthy", "unreachable", "connection refused", "/services/inference")]


async def test_stored_state_changes_show_their_time_and_the_target_name(tmp_path):
    """Changes read back from the store carry `ts_ms`; the pages show a time and a name."""
    import ui
    from backend.storage import StateChange

    config = write_config(tmp_path / "c.toml", extra=RECEIVERS)
    settings = load_settings(["--config", str(config), "--data-dir", str(tmp_path)], {})
    runtime = build_runtime(settings, "token-0123456789abcdef", "s" * 48)
    await runtime.history.record_round([], [StateChange("websdrs", "torino", 1_764_100_000_000, "online", "offline",
                                                        "timeout after 5 s")])
    async with user_simulation() as user:
        state = ui.register(runtime)
        await state.load()
        change = state.changes[0]
        assert (change["at"], change["name"]) == ("2025-11-25T19:46:40.000Z", "Torino")
        await user.open("/system")
        changes = await shown_changes(user, state)
        assert [(c["name"], c["from"], c["to"], c["href"]) for c in changes] == [
            ("Torino", "online", "offline", "/websdrs/torino")]
    await runtime.database.close()


async def test_empty_tables_and_charts_are_calm(live):
    user, runtime, _ = live
    await user.open("/websdrs/torino")
    await user.should_see("No response times in the last 24 h.")  # instead of an empty chart
    await user.should_see("none in the kept history")
    await user.open("/system")
    from ui.changes import EMPTY, ChangeList

    change_list = user.find(ChangeList).elements.pop()
    assert change_list.props["changes"] == [] and change_list.props["empty"] == EMPTY


async def test_the_gateways_own_problem_is_shown_on_every_page(live):
    import asyncio

    user, runtime, _ = live
    engine = asyncio.create_task(runtime.alerts.run())
    try:
        await runtime.hub.publish("status:changed", {
            "kind": "gateway", "id": "network-services", "name": "the gateway's reach to its services",
            "from": "up", "to": "down", "since": "2026-11-25T12:00:00.000Z",
            "reason": "all 3 services failed (DNS lookup failed)"})
        for path in ("/", "/websdrs", "/system"):
            await user.open(path)
            await user.should_see("Gateway problem: all 3 services failed (DNS lookup failed)")
        await runtime.hub.publish("status:changed", {
            "kind": "gateway", "id": "network-services", "name": "the gateway's reach to its services",
            "from": "down", "to": "up", "since": "2026-11-25T12:01:00.000Z", "reason": None})
        await user.open("/")
        await user.should_not_see("Gateway problem")
    finally:
        engine.cancel()


async def test_a_targets_own_page_is_reached_by_its_link_whatever_its_name(tmp_path):
    from backend.kinds import SERVICES

    async with pages_for(tmp_path, '[[services]]\nname = "model api/v2"\nurl = "http://127.0.0.1:9/health"\n') \
            as (user, _, _):
        await user.open(SERVICES.page_of("model api/v2"))
        await user.should_see("model api/v2")
        await user.should_see("Alert rules: none covers it")
        await user.open("/services/nothing-here")
        await user.should_see("No service with the id 'nothing-here' is configured.")


async def test_storage_unavailable_is_shown_on_every_page_while_it_is(live):
    """Issue 33: what is degraded is said on the pages at once, not only after the grace
    that raises the gateway's own problem; the System page names every part."""
    user, runtime, state = live
    runtime.database._became("database or disk is full")
    await state.update_figures()
    for path in ("/", "/websdrs", "/system"):
        await user.open(path)
        await user.should_see("Storage unavailable (database or disk is full)")
    await user.should_see("Parts underneath: Storage: down: database or disk is full")
    runtime.database._became(None)
    await state.update_figures()
    await user.open("/system")
    await user.should_see("Parts underneath: Storage: up")
    await user.should_not_see("Storage unavailable")

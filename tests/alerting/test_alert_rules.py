"""The alert rules and the engine with a controllable clock and a recording delivery."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend.alerting import rules, watches
from backend.alerting.delivery import Delivery
from backend.alerting.engine import AlertEngine
from backend.config.schema import AlertSettings, Config, MaintenanceSettings, WatchSettings
from backend.events.bus import LocalBus
from backend.events.hub import Hub
from backend.storage.database import open_database

ALERT = AlertSettings(name="on-call", urls=["json://127.0.0.1:9/"], targets=["services:*"], failure_threshold=3,
                      success_threshold=2, reminder_every_min=30)


def test_covers():
    assert rules.covers(["services:*"], "services", "x") and rules.covers(["websdrs:torino"], "websdrs", "torino")
    assert not rules.covers(["websdrs:torino"], "websdrs", "genova") and not rules.covers(["services:*"], "websdrs", "x")


def test_down_at_the_threshold_only_and_flapping_never():
    streak = rules.Streak()
    decisions, opened = [], None
    for down in (True, True, False, True, True, False, True, True, True, True):
        streak.observe(down)
        decisions.append(rules.decide(ALERT, streak, opened, opened, 0))
        opened = 0 if decisions[-1] == "DOWN" else opened  # the engine opens the incident
    assert decisions == [None] * 8 + ["DOWN", None]


def test_a_target_that_went_down_while_quiet_is_announced_when_the_quiet_ends():
    streak = rules.Streak()
    for _ in range(7):  # checked all along while silenced; nothing asked of decide
        streak.observe(True)
    assert rules.decide(ALERT, streak, None, None, 0) == "DOWN"


def test_an_acknowledged_incident_gets_no_reminder():
    streak = rules.Streak(failures=5)
    assert rules.decide(ALERT, streak, 0, 0, 30 * 60_000) == "REMINDER"
    assert rules.decide(ALERT, streak, 0, 0, 30 * 60_000, acknowledged=True) is None


def test_resolved_after_the_success_threshold_and_reminders_on_time():
    streak = rules.Streak(failures=5)
    assert rules.decide(ALERT, streak, 0, 0, 29 * 60_000) is None
    assert rules.decide(ALERT, streak, 0, 0, 30 * 60_000) == "REMINDER"
    streak.observe(False)
    assert rules.decide(ALERT, streak, 0, 0, 40 * 60_000) is None
    streak.observe(False)
    assert rules.decide(ALERT, streak, 0, 0, 40 * 60_000) == "RESOLVED"


def test_maintenance_windows_once_and_by_cron():
    once = MaintenanceSettings(targets=["services:x"], start=datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc),
                               duration_min=60)
    weekly = MaintenanceSettings(targets=["websdrs:*"], cron="0 3 * * 0", duration_min=90)  # Sundays 03:00 UTC
    assert rules.in_window(once, datetime(2026, 11, 26, 3, 30, tzinfo=timezone.utc))
    assert not rules.in_window(once, datetime(2026, 11, 26, 4, 0, tzinfo=timezone.utc))
    assert rules.in_window(weekly, datetime(2026, 11, 29, 4, 29, tzinfo=timezone.utc))  # a Sunday
    assert not rules.in_window(weekly, datetime(2026, 11, 29, 4, 31, tzinfo=timezone.utc))
    assert not rules.in_window(weekly, datetime(2026, 11, 28, 3, 30, tzinfo=timezone.utc))  # a Saturday
    assert rules.in_maintenance([weekly], "websdrs", "torino", datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc))
    weekdays = MaintenanceSettings(targets=["websdrs:*"], cron="30 1 * * 1-5", duration_min=10)
    assert rules.in_window(weekdays, datetime(2026, 11, 27, 1, 35, tzinfo=timezone.utc))  # a Friday
    assert not rules.in_window(weekdays, datetime(2026, 11, 28, 1, 35, tzinfo=timezone.utc))  # a Saturday


def test_a_window_start_without_a_zone_is_utc_and_windows_are_listed_in_a_span():
    naive = MaintenanceSettings(targets=["services:x"], start=datetime(2026, 11, 26, 3, 0), duration_min=60)
    assert rules.in_window(naive, datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc))  # the start is inside
    assert not rules.in_window(naive, datetime(2026, 11, 26, 2, 59, tzinfo=timezone.utc))
    assert rules.in_maintenance([naive], "services", "x", datetime(2026, 11, 26, 3, 5, tzinfo=timezone.utc)) \
        == "maintenance"  # unnamed
    assert rules.in_maintenance([naive], "services", "y", datetime(2026, 11, 26, 3, 5, tzinfo=timezone.utc)) is None
    daily = MaintenanceSettings(name="nightly", targets=["websdrs:*"], cron="0 2 * * *", duration_min=30)
    span = rules.windows_between(daily, datetime(2026, 11, 26, 2, 15, tzinfo=timezone.utc),
                                 datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc))
    assert [(a.isoformat(), b.isoformat()) for a, b in span] == [
        ("2026-11-26T02:00:00+00:00", "2026-11-26T02:30:00+00:00"),  # begun before the span, still overlapping
        ("2026-11-27T02:00:00+00:00", "2026-11-27T02:30:00+00:00")]  # the one at the span's end is not in it
    assert rules.windows_between(naive, datetime(2026, 11, 26, 4, 0, tzinfo=timezone.utc),
                                 datetime(2026, 11, 27, tzinfo=timezone.utc)) == []
    assert len(rules.windows_between(naive, datetime(2026, 11, 26, tzinfo=timezone.utc),
                                     datetime(2026, 11, 27, tzinfo=timezone.utc))) == 1


def test_a_round_where_everything_fails_the_same_way_is_suspect():
    assert rules.suspect_round([("unreachable", "network unreachable")] * 3) == "network unreachable"
    assert rules.suspect_round([("unreachable", "network unreachable")] * 2) is None  # too few to tell
    assert rules.suspect_round([("unreachable", "timeout after 5 s"), ("unreachable", "connection refused"),
                                ("unhealthy", "HTTP 503")]) is None
    assert rules.suspect_round([("healthy", None)] + [("unreachable", "x")] * 3) is None


@pytest.mark.parametrize("reason", ["connection refused", "connection reset", "HTTP 503",
                                    "TLS error: CERTIFICATE_VERIFY_FAILED", "host unreachable"])
def test_failures_that_prove_the_network_works_always_count_against_the_targets(reason):
    # A platform whose whole stack went down together: four services refusing at once.
    assert rules.suspect_round([("unreachable", reason)] * 4) is None


def test_only_failures_of_the_gateways_own_reach_make_a_round_suspect():
    mixed = [("unreachable", "DNS lookup failed"), ("unreachable", "timeout after 5 s"),
             ("offline", "network unreachable")]
    assert rules.suspect_round(mixed) == "DNS lookup failed, network unreachable, timeout after 5 s"
    assert rules.suspect_round(mixed + [("unreachable", "connection refused")]) is None


def test_watch_matching():
    beacon = WatchSettings(name="b", urls=["json://x"], frequency_mhz=145.5, tolerance_khz=5, min_snr_db=10,
                           receivers=["torino"])
    base = {"frequency_mhz": 145.504, "snr_db": 12.0, "websdr_id": "torino"}
    assert watches.matches_detection(beacon, base)
    assert not watches.matches_detection(beacon, {**base, "frequency_mhz": 145.506})
    assert not watches.matches_detection(beacon, {**base, "snr_db": 9.9})
    assert not watches.matches_detection(beacon, {**base, "websdr_id": "genova"})
    area = WatchSettings(name="turin", urls=["json://x"], area={"latitude": 45.07, "longitude": 7.69, "radius_km": 10},
                         max_uncertainty_m=2000)
    assert watches.matches_localization(area, {"latitude": 45.1, "longitude": 7.7, "uncertainty_m": 900})
    assert not watches.matches_localization(area, {"latitude": 45.3, "longitude": 7.7, "uncertainty_m": 900})
    assert not watches.matches_localization(area, {"latitude": 45.1, "longitude": 7.7, "uncertainty_m": 5000})
    cooldown = watches.Cooldown()
    timed = WatchSettings(name="t", urls=["json://x"], frequency_mhz=1.0, cooldown_s=60)
    assert [cooldown.ready(timed, t) for t in (0, 30, 61, 62)] == [True, False, True, False]


async def test_reminders_come_on_time_with_a_controllable_clock(tmp_path):
    now = [1_800_000_000.0]
    sent = []
    database = open_database(tmp_path / "db")
    config = Config(alerts=[ALERT])
    hub = Hub(LocalBus("e"), {})
    delivery = Delivery(1, 0, record=None)
    delivery.submit = lambda notification, row=None: sent.append(notification)  # what would be sent, in order
    engine = AlertEngine(config, hub, database, delivery, "http://gw", clock=lambda: now[0])
    await engine.start()

    async def round(status: str) -> None:
        now[0] += 60
        at = datetime.fromtimestamp(now[0], tz=timezone.utc).isoformat()
        data = {"x": {"status": status, "check_status": status, "last_check": at,
                      "error": "HTTP 503" if status == "unhealthy" else None}}
        await engine.judge_round("services", data, data)  # as the poller hands a round

    for _ in range(3):
        await round("unhealthy")
    assert [n.event for n in sent] == ["DOWN"]
    for _ in range(29):
        await round("unhealthy")  # 29 minutes since the DOWN: not yet
    assert [n.event for n in sent] == ["DOWN"]
    await round("unhealthy")  # 30
    assert [n.event for n in sent] == ["DOWN", "REMINDER"]
    await round("healthy")
    await round("healthy")
    assert [n.event for n in sent] == ["DOWN", "REMINDER", "RESOLVED"]
    assert "http://gw/services/x" in sent[0].body and sent[0].title == "DOWN: service x is unhealthy"  # its page
    await database.close()


def hub_event(hub, data):
    from backend.events.envelope import Envelope

    return Envelope.make("services:health", data, "t", 1, "e")


def test_history_marks_maintenance_windows_in_a_range():
    from backend.api.history import maintenance_marks

    weekly = MaintenanceSettings(name="reboot", targets=["websdrs:*"], cron="0 3 * * 0", duration_min=30)
    start = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp() * 1000)
    end = int(datetime(2026, 11, 30, tzinfo=timezone.utc).timestamp() * 1000)
    marks = maintenance_marks([weekly], "websdrs", "torino", start, end)
    assert [m["start"] for m in marks] == ["2026-11-01T03:00:00.000Z", "2026-11-08T03:00:00.000Z",
                                           "2026-11-15T03:00:00.000Z", "2026-11-22T03:00:00.000Z",
                                           "2026-11-29T03:00:00.000Z"]
    assert marks[0] == {"name": "reboot", "start": "2026-11-01T03:00:00.000Z", "end": "2026-11-01T03:30:00.000Z"}
    assert maintenance_marks([weekly], "services", "x", start, end) == []


def test_a_readiness_shortfall_fires_after_its_minutes_and_resolves_once():
    from backend.config.schema import ReadinessAlertSettings
    rule = ReadinessAlertSettings(name="r", urls=["json://127.0.0.1:9/"], freq_mhz=145.5, min_ready=3, for_min=5)
    minute = 60_000
    assert rules.readiness_short(rule, 3, None, False, 0) == (False, None)
    assert rules.readiness_short(rule, 2, None, False, 0) == (False, 0)  # short from now on
    assert rules.readiness_short(rule, 2, 0, False, 4 * minute) == (False, 0)
    assert rules.readiness_short(rule, 2, 0, False, 5 * minute) == (True, 0)  # the lifecycle opens it
    assert rules.readiness_short(rule, 1, 0, True, 9 * minute) == (True, 0)  # open: still short
    assert rules.readiness_short(rule, 1, None, True, 9 * minute) == (True, 9 * minute)  # a new poller: still open
    assert rules.readiness_short(rule, 3, 0, True, 10 * minute) == (False, None)  # the lifecycle resolves it
    assert rules.readiness_short(rule, 3, None, False, 11 * minute) == (False, None)
    # A dip shorter than the minutes starts the count again.
    assert rules.readiness_short(rule, 2, None, False, 20 * minute) == (False, 20 * minute)
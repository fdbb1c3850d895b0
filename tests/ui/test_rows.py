"""The tables' rows and views (ui/rows.py): plain functions, no browser."""

from __future__ import annotations

from backend.config.schema import Config
from ui.rows import PAGE_ROWS, View, counts_text, rows_of


def config(count: int) -> Config:
    return Config.model_validate({"websdrs": [
        {"id": f"rx-{i:04d}", "name": f"Receiver {i:04d}", "url": f"http://127.0.0.1:9/{i}/",
         "kind": "kiwisdr" if i % 3 == 0 else "openwebrx", "latitude": 45.0, "longitude": 7.6}
        for i in range(count)]})


def entry(status: str, ms: float | None = 20.0, reason: str = "") -> dict:
    return {"status": status, "response_time_ms": ms, "error_message": reason, "since": "2026-12-01T10:00:00.000Z",
            "details": {"users": 1, "users_max": 4}}


def rows(count: int = 100, offline: tuple[int, ...] = (7, 42), degraded: tuple[int, ...] = (3,)) -> dict:
    entries = {f"rx-{i:04d}": entry("offline" if i in offline else "degraded" if i in degraded else "online",
                                    None if i in offline else 10.0 + i,
                                    "connection refused" if i in offline else "")
               for i in range(count)}
    return rows_of("websdrs", config(count), entries)


def test_problems_come_first_then_names():
    keys, total = View().pick(rows())
    assert keys[:3] == ["rx-0007", "rx-0042", "rx-0003"] and total == 100
    assert len(keys) == PAGE_ROWS


def test_search_status_and_kind_filter():
    table = rows()
    assert View(q="receiver 0042").pick(table) == (["rx-0042"], 1)
    assert View(q="refused").pick(table)[0] == ["rx-0007", "rx-0042"]
    assert View(status="problems").pick(table)[0] == ["rx-0007", "rx-0042", "rx-0003"]
    assert View(status="offline", kind="kiwisdr").pick(table) == (["rx-0042"], 1)


def test_sorting_by_a_column_and_back():
    table = rows()
    by_latency = View(sort="latency").pick(table)[0]
    assert by_latency[:2] == ["rx-0000", "rx-0001"] and "rx-0007" not in by_latency[:90]  # unknown last
    assert View().with_sort("latency").with_sort("latency").desc is True
    assert View(sort="name", desc=True).pick(table)[0][0] == "rx-0099"
    assert View().with_sort("nonsense") == View()


def test_a_view_is_a_url_query_and_junk_is_dropped():
    view = View(q="torino", status="offline", kind="kiwisdr", sort="latency", desc=True)
    assert View.from_query(view.query()) == view
    assert View().query() == {}
    assert View.from_query({"sort": "DROP TABLE", "q": "x" * 500, "desc": "maybe"}) == View(q="x" * 100)
    assert View.from_query({"d_q": "genova"}, prefix="d_").q == "genova"
    mistyped = View.from_query({"status": "ofline", "kind": "kiwi"}).known(["offline"], ["kiwisdr"])
    assert (mistyped.status, mistyped.kind) == ("", "")
    assert View(status="problems", kind="kiwisdr").known(["offline"], ["kiwisdr"]) == View(status="problems",
                                                                                           kind="kiwisdr")


def test_only_a_change_that_can_move_a_row_repicks():
    before = rows()
    after = rows(offline=(7, 42, 55))
    view = View()
    assert view.could_move(before["rx-0055"], after["rx-0055"]) is True  # it goes to the top
    faster = {**before["rx-0010"], "latency": "9 ms", "_latency": 9.0}
    assert view.could_move(before["rx-0010"], faster) is False  # only its cell changes
    assert View(sort="latency").could_move(before["rx-0010"], faster) is True
    assert View(kind="kiwisdr").could_move(before["rx-0010"], after["rx-0010"]) is False


def test_counts_read_in_the_groups_order():
    assert counts_text("websdrs", rows().values()) == "97 online · 1 degraded · 2 offline"
    assert counts_text("websdrs", []) == "none configured"


def test_every_row_links_to_its_targets_own_page():
    assert rows()["rx-0042"]["href"] == "/websdrs/rx-0042"
    services = rows_of("services", Config.model_validate(
        {"services": [{"name": "model api/v2", "url": "http://127.0.0.1:9/health"}]}), {})
    assert services["model api/v2"]["href"] == "/services/model%20api%2Fv2"


def test_a_targets_uptime_over_longer_spans_comes_from_its_day_buckets():
    from ui.target_page import uptime_over

    day = 86_400_000
    days = [{"start_ms": 0, "checks": 100, "up": 50}, {"start_ms": 20 * day, "checks": 100, "up": 100},
            {"start_ms": 29 * day, "checks": 300, "up": 297}]
    assert uptime_over(days, 23 * day) == 99.0
    assert uptime_over(days, 0) == 89.4
    assert uptime_over(days, 30 * day) is None


def test_a_receiver_is_found_by_the_place_it_names_itself():
    entries = {"rx-0001": {**entry("online"), "details": {"location": "Torino, Italy"}}}
    table = rows_of("websdrs", config(3), entries)
    assert table["rx-0001"]["location"] == "Torino, Italy" and table["rx-0002"]["location"] == "45.00, 7.60"
    assert View(q="torino").pick(table) == (["rx-0001"], 1)


def test_a_silence_on_a_targets_page_says_when_it_ends_as_a_time_the_browser_keeps_current():
    from ui.target_page import quiet_html

    shown = quiet_html("silenced until 2026-12-07T07:48:38.000Z")
    assert shown == ('silenced, ends <time datetime="2026-12-07T07:48:38.000Z">2026-12-07T07:48:38.000Z</time>')
    assert quiet_html("in maintenance (<b>upgrade</b>)") == "in maintenance (&lt;b&gt;upgrade&lt;/b&gt;)"
    assert quiet_html(None) == ""


def test_entries_not_made_here_say_where_they_come_from_in_a_word():
    """The Targets page's last column for an entry of the demo, the built-in network or a
    file (it said "in the file" for all three, on three lines on a phone)."""
    from types import SimpleNamespace

    from backend.config.schema import DEFAULT_CONFIG_PATH
    from ui.targets import actions_slot

    def word(**settings) -> str:
        slot = actions_slot(SimpleNamespace(**settings))
        return slot.split('whitespace-nowrap">')[1].split("<")[0]

    assert word(demo=True, config_path=None) == "the demo's"
    assert word(demo=False, config_path=DEFAULT_CONFIG_PATH) == "built-in"
    assert word(demo=False, config_path="/etc/heimdall/live.toml") == "in the file"

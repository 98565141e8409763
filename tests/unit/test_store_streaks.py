"""Streaks, adherence and the calendar: midnight, time-zone and daylight-saving changes.

"Today" and every zone are injected; nothing here depends on the machine's TZ.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.engine import StepRecord
from app.store import stats
from app.store.reader import load_home
from app.store.store import Store, open_store

D = date(2025, 6, 10)


def days(*offsets: int) -> set[date]:
    return {D + timedelta(days=o) for o in offsets}


def test_streak_counts_consecutive_days() -> None:
    s = stats.streak(days(-3, -2, -1, 0), D)
    assert (s.days, s.bends, s.start, s.at_risk) == (4, 0, D - timedelta(days=3), False)


def test_today_not_done_is_open_not_missed() -> None:
    s = stats.streak(days(-3, -2, -1), D)
    assert (s.days, s.bends, s.at_risk) == (3, 0, False)


def test_one_missed_day_bends_two_break() -> None:
    bent = stats.streak(days(-4, -3, -1, 0), D)  # -2 missed
    assert (bent.days, bent.bends) == (4, 1)
    broken = stats.streak(days(-5, -4, -1, 0), D)  # -3 and -2 missed
    assert (broken.days, broken.bends, broken.best) == (2, 0, 2)
    at_risk = stats.streak(days(-3, -2), D)  # yesterday missed, today still open
    assert (at_risk.days, at_risk.bends, at_risk.at_risk) == (2, 1, True)
    gone = stats.streak(days(-4, -3), D)  # yesterday and the day before missed
    assert (gone.days, gone.best) == (0, 2)
    assert "two missed days in a row break it" in gone.rule


def test_best_streak_and_empty() -> None:
    assert stats.streak(set(), D).days == 0
    s = stats.streak(days(-20, -19, -18, -16, -15, -10, 0), D)
    assert (s.days, s.best) == (1, 5)


def test_adherence_windows() -> None:
    assert stats.adherence(days(0, -1, -2, -3, -4, -5, -6), D, 7) == 1.0
    # Today open: the window ends yesterday, so not doing it yet costs nothing.
    assert stats.adherence(days(-1, -2, -3, -4, -5, -6, -7), D, 7) == 1.0
    assert stats.adherence(days(-1, -3), D, 7) == pytest.approx(2 / 7)
    assert stats.adherence(days(*range(-29, 1, 2)), D, 30) == pytest.approx(15 / 30)


def test_calendar_uses_marks_not_colour() -> None:
    text = stats.calendar_text(days(0, -1, -3), D, weeks=12)
    rows = text.splitlines()
    assert len(rows) == 8 and rows[0].startswith("Mon")
    assert text.count(stats.DONE_MARK) == 3 + 1  # three days plus the legend
    grid = stats.calendar(set(), D, 12)
    assert len(grid) == 12 and grid[-1][D.weekday()] == D and grid[0][0].weekday() == 0


# ----------------------------------------------------------------- through the store


def _done(
    store: Store,
    local: datetime,
    *,
    planned_s: float = 530.0,
    demo: bool = False,
    routine: str = "daily",
) -> None:
    """A completed run (one step of `planned_s`) starting at an aware local time."""
    sid = store.begin_session(
        routine, 1, "left", started=local.astimezone(UTC), tz=str(local.tzinfo), demo=demo
    )
    store.record_step(
        sid, StepRecord(0, "timed", "Hold", None, planned_s, active_s=planned_s, completed=True)
    )
    store.end_session(sid, "completed", ended=local.astimezone(UTC) + timedelta(minutes=10))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "streak.db")
    yield s  # type: ignore[misc]
    s.close()


def test_run_across_midnight_counts_for_the_day_it_started(store: Store) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    _done(store, datetime(2025, 6, 8, 23, 55, tzinfo=berlin))  # ends 00:05 on the 9th
    _done(store, datetime(2025, 6, 9, 23, 59, tzinfo=berlin))
    _done(store, datetime(2025, 6, 10, 0, 1, tzinfo=berlin))  # two minutes later: a new day
    assert store.done_days() == {date(2025, 6, 8), date(2025, 6, 9), date(2025, 6, 10)}
    h = store.home(today=date(2025, 6, 10))
    assert (h.streak.days, h.done_today) == (3, True)


def test_time_zone_change_keeps_each_day_where_it_was_done(store: Store, tmp_path: Path) -> None:
    ny, tokyo = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
    _done(store, datetime(2025, 6, 8, 21, 0, tzinfo=ny))  # 8 June in New York (9 June UTC)
    _done(store, datetime(2025, 6, 10, 7, 0, tzinfo=tokyo))  # 10 June in Tokyo (9 June UTC)
    # Both are 9 June in UTC; a UTC-day count would see one day. Local days are two,
    # with 9 June (lost crossing the date line) as one missed day: bent, not broken.
    assert store.done_days() == {date(2025, 6, 8), date(2025, 6, 10)}
    h = store.home(today=date(2025, 6, 10))
    assert (h.streak.days, h.streak.bends) == (2, 1)
    # The stdlib Home loader agrees with the full store.
    fast = load_home(str(tmp_path / "streak.db"), today=date(2025, 6, 10))
    assert (fast.streak, fast.done_today, fast.last7) == (h.streak, h.done_today, h.last7)
    # The last run is shown in the zone it was done in.
    assert fast.last_session == h.last_session
    assert h.last_session is not None
    assert h.last_session.text(date(2025, 6, 10)) == "today 07:00: completed"


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("Europe/Berlin", date(2025, 3, 30), date(2025, 10, 26)),
        ("America/New_York", date(2025, 3, 9), date(2025, 11, 2)),
    ],
)
def test_daylight_saving_changes_do_not_move_days(
    store: Store, zone: str, spring: date, autumn: date
) -> None:
    tz = ZoneInfo(zone)
    # 00:30 local every day around both changes: a fixed UTC offset would push some of
    # these into the previous day; zone-aware local days never do.
    for change in (spring, autumn):
        for k in range(-2, 3):
            d = change + timedelta(days=k)
            _done(store, datetime(d.year, d.month, d.day, 0, 30, tzinfo=tz))
    got = store.done_days()
    for change in (spring, autumn):
        assert {change + timedelta(days=k) for k in range(-2, 3)} <= got
    assert len(got) == 10
    assert store.home(today=autumn + timedelta(days=2)).streak.days == 5
    # utc_offset_min records the offset in force at each run.
    rows = store.sessions(steps=False)
    offsets = {r["local_day"]: r["utc_offset_min"] for r in rows}
    before = offsets[str(spring - timedelta(days=1))]
    after = offsets[str(spring + timedelta(days=1))]
    assert after - before == 60


def test_statuses_other_than_completed_do_not_count(store: Store) -> None:
    utc = ZoneInfo("UTC")
    for status, d in (("aborted", 8), ("interrupted", 9)):
        sid = store.begin_session("daily", 1, started=datetime(2025, 6, d, 8, tzinfo=utc), tz="UTC")
        store.end_session(sid, status)
    store.begin_session("daily", 1, started=datetime(2025, 6, 10, 8, tzinfo=utc), tz="UTC")
    assert store.done_days() == set()
    assert store.home(today=date(2025, 6, 10)).streak.days == 0


def test_only_real_runs_of_five_planned_minutes_make_a_day_done(
    store: Store, tmp_path: Path
) -> None:
    """The day rule (stats.DAY_RULE), the same through the store and Home's own reader."""
    utc = ZoneInfo("UTC")
    _done(store, datetime(2025, 6, 7, 8, tzinfo=utc), planned_s=17, routine="mine")
    _done(store, datetime(2025, 6, 8, 8, tzinfo=utc), demo=True)  # ×10: 55 s of real time
    _done(store, datetime(2025, 6, 9, 8, tzinfo=utc), planned_s=300, routine="mine")
    _done(store, datetime(2025, 6, 10, 8, tzinfo=utc))
    want = {date(2025, 6, 9), date(2025, 6, 10)}
    assert store.done_days() == want
    home = load_home(str(tmp_path / "streak.db"), today=date(2025, 6, 10))
    assert home.done_days == want and home.streak.days == 2
    assert "5 minutes" in stats.STREAK_RULE and "demo" in stats.STREAK_RULE
    assert stats.BUILTINS == ("ball", "beginner", "daily")
    assert [r["demo"] for r in _demo_column(tmp_path / "streak.db")] == [0, 1, 0, 0]
    assert stats.counts_as_done("completed", "mine", 300, demo=False)
    assert stats.counts_as_done("completed", "ball", 0, demo=False)  # a built-in, whatever
    assert not stats.counts_as_done("completed", "mine", 299, demo=False)
    assert not stats.counts_as_done("completed", "daily", 530, demo=True)
    assert not stats.counts_as_done("aborted", "daily", 530, demo=False)


def _demo_column(path: Path) -> list[dict[str, int]]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return [{"demo": r[0]} for r in con.execute("SELECT demo FROM session ORDER BY id")]
    finally:
        con.close()


def test_a_demo_run_stays_a_demo_through_export_and_import(store: Store, tmp_path: Path) -> None:
    """An exported demo run must not turn into a real one, a done day, on import."""
    utc = ZoneInfo("UTC")
    _done(store, datetime(2025, 6, 8, 8, tzinfo=utc), demo=True)
    _done(store, datetime(2025, 6, 9, 8, tzinfo=utc))
    data = store.export_data()
    assert [s["demo"] for s in data["sessions"]] == [True, False]
    other = open_store(tmp_path / "other.db")
    try:
        assert other.import_data(data).added == 2
        assert other.done_days() == {date(2025, 6, 9)}
        assert [s["demo"] for s in other.export_data()["sessions"]] == [True, False]
        # An export from before demo runs were marked has no "demo": those were real runs.
        for s in data["sessions"]:
            del s["demo"]
            s["uuid"] = s["uuid"][:-1] + ("0" if s["uuid"][-1] != "0" else "1")
        third = open_store(tmp_path / "third.db")
        try:
            assert third.import_data(data).added == 2
            assert third.done_days() == {date(2025, 6, 8), date(2025, 6, 9)}
        finally:
            third.close()
    finally:
        other.close()


# ------------------------------------------------------- one window for "the last 7 days"


@given(
    st.sets(st.integers(min_value=-40, max_value=0), max_size=41),
    st.integers(min_value=1, max_value=31),
)
def test_the_strip_and_the_percentage_count_the_same_days(offsets: set[int], n: int) -> None:
    done = days(*offsets)
    w = stats.window(done, D, n)
    strip = stats.last_days(done, D, n)
    assert len(strip) == n and strip == list(w.days)
    assert stats.adherence(done, D, n) == pytest.approx(sum(ok for _d, ok in strip) / n)
    # The window ends today once today is done, else yesterday; never earlier, no gaps.
    assert w.end == (D if D in done else D - timedelta(days=1))
    assert [d for d, _ok in strip] == [w.end - timedelta(days=n - 1 - k) for k in range(n)]
    assert all(ok == (d in done) for d, ok in strip)


def test_window_today_not_yet_done_and_done() -> None:
    # Six of the seven days before today done, today open: the strip shows those seven
    # days (6 ■), and the share is 6/7, the same days. No open day is shown as missed.
    done = days(-1, -2, -3, -5, -6, -7)
    w = stats.window(done, D, 7)
    assert w.today_open and w.end == D - timedelta(days=1) and w.start == D - timedelta(days=7)
    assert w.marks().count(stats.DONE_MARK) == 6 and w.share == pytest.approx(6 / 7)
    # Once today is done the window moves to end today (and drops its oldest day).
    w2 = stats.window(done | {D}, D, 7)
    assert not w2.today_open and w2.end == D and w2.start == D - timedelta(days=6)
    assert w2.marks().count(stats.DONE_MARK) == 6 and w2.share == pytest.approx(6 / 7)


def test_window_around_midnight_is_the_same_for_home_history_json_and_report(
    store: Store,
) -> None:
    """A run at 23:55 counts for that evening; five minutes past midnight the new day is
    open, so every reader's window still ends on the evening's day."""
    from app.report.figures import compute, summary

    paris = ZoneInfo("Europe/Paris")
    for k in (1, 2, 4, 5, 6, 7):  # 3..9 June at 08:00 but the 7th, then the 10th at 23:55
        _done(store, datetime(2025, 6, 10 - k, 8, 0, tzinfo=paris))
    _done(store, datetime(2025, 6, 10, 23, 55, tzinfo=paris))

    def readers(now: datetime) -> list[tuple[date, tuple[bool, ...], float]]:
        today = stats.today_in("Europe/Paris", now)
        home = store.home(today=today)
        js = summary(store.done_days(), 7, today)["adherence"]
        rep = compute(store.sessions(), today, 4).summary["adherence"]
        hist = store.history(today=today).home
        return [
            (home.last7_end, home.last7, home.adherence7),
            (date.fromisoformat(js["window_end"]), tuple(js["last7_days"]), js["last7"]),
            (date.fromisoformat(rep["window_end"]), tuple(rep["last7_days"]), rep["last7"]),
            (hist.last7_end, hist.last7, hist.adherence7),
        ]

    just_before = datetime(2025, 6, 10, 23, 59, tzinfo=paris).astimezone(UTC)
    just_after = datetime(2025, 6, 11, 0, 5, tzinfo=paris).astimezone(UTC)
    for got in (readers(just_before), readers(just_after)):
        end, strip, share = got[0]
        assert end == date(2025, 6, 10) and strip == (True, True, True, False, True, True, True)
        assert [(e, s) for e, s, _ in got] == [(end, strip)] * 4
        assert [round(x, 4) for *_, x in got] == [round(6 / 7, 4)] * 4
    # The run at 00:10 makes the 11th done: now every window ends on the 11th.
    _done(store, datetime(2025, 6, 11, 0, 10, tzinfo=paris))
    after_run = readers(datetime(2025, 6, 11, 0, 30, tzinfo=paris).astimezone(UTC))
    assert {e for e, _s, _x in after_run} == {date(2025, 6, 11)}
    assert {s for _e, s, _x in after_run} == {(True, True, False, True, True, True, True)}

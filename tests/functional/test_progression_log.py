"""Progression by evidence on real logs: runs written through the store, read back by
app.store.progress, decided by the rule, and applied to the routine the run will use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.core.engine import StepRecord
from app.core.routine import StepKind, load_routine
from app.session import RunOptions, prepare_routine
from app.settings import Settings
from app.store.progress import evidence_loader
from app.store.stats import local_zone_name, today_in
from app.store.store import open_store
from tests.support.cli import hiphook


def write_runs(
    db: Path,
    days: int,
    *,
    press_s: float = 30,
    sensor: bool = True,
    bad_day: int | None = None,
    today: date | None = None,
) -> None:
    """`days` beginner runs, one a day ending yesterday; on `bad_day` (days back) the
    presses were only partly held (or, without a sensor, not completed)."""
    routine = load_routine("beginner").for_side("left").with_press_seconds(press_s)
    tz = local_zone_name()
    today = today or today_in(tz)
    with open_store(str(db)) as store:
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            start = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            sid = store.begin_session(
                "beginner", 1, "left", "sim://" if sensor else None, 4, started=start, tz=tz
            )
            bad = back == bad_day
            for i, st in enumerate(routine.steps):
                done = not (bad and not sensor and st.kind is StepKind.PRESS)
                rec = StepRecord(
                    i, st.kind.value, st.name, st.side, st.planned_s, st.planned_s, completed=done
                )
                verdict = None
                if st.kind is StepKind.PRESS and sensor:
                    verdict = "partial" if bad else "confirmed"
                store.record_step(sid, rec, verdict, st.planned_s if verdict else None)
            store.end_session(sid, "completed", 3, ended=start + timedelta(minutes=9))


def press_seconds(db: Path) -> tuple[set[float], list[str]]:
    options = RunOptions(routine="beginner", side="left", db=str(db))
    routine, _side, notes = prepare_routine(options, Settings(), None, evidence_loader(str(db)))
    return {s.seconds for s in routine.steps if s.kind is StepKind.PRESS}, notes


def test_a_week_of_confirmed_presses_steps_up(tmp_path: Path) -> None:
    db = tmp_path / "good.db"
    write_runs(db, 8)
    secs, notes = press_seconds(db)
    assert secs == {45}
    assert any("up from 30 s to 45 s" in n and "confirmed by the sensor" in n for n in notes)


def test_a_partial_press_holds_and_says_which_day(tmp_path: Path) -> None:
    db = tmp_path / "partial.db"
    write_runs(db, 8, bad_day=2)
    secs, notes = press_seconds(db)
    assert secs == {30}
    assert any("stay at 30 s" in n and "did not confirm" in n for n in notes), notes


def test_without_a_sensor_a_press_not_completed_holds(tmp_path: Path) -> None:
    db = tmp_path / "nosensor.db"
    write_runs(db, 8, sensor=False, bad_day=1)
    assert press_seconds(db)[0] == {30}
    write_runs(tmp_path / "ok.db", 8, sensor=False)
    secs, notes = press_seconds(tmp_path / "ok.db")
    assert secs == {45} and any("held to the end" in n for n in notes)


def test_no_log_yet_starts_at_the_start_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    secs, notes = press_seconds(db)
    assert secs == {30} and any("First run" in n for n in notes)
    assert not db.exists()


def test_a_damaged_log_leaves_it_to_the_calendar(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(b"not a database" * 100)
    secs, notes = press_seconds(db)
    assert secs == {30} and any("the calendar decides" in n for n in notes)


def test_the_calendar_rule_is_still_offered() -> None:
    out = hiphook("run", "--help")
    assert out.returncode == 0 and "--progression {evidence,calendar}" in out.stdout
    bad = hiphook("run", "--progression", "weekly")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_home_says_why_and_starts_the_longer_presses(tmp_path: Path) -> None:
    import os

    from textual.pilot import Pilot

    from app.tui.screens.home import HomeScreen
    from tests.support.tui import TODAY, drive, make_app, routine_screen, screen_text, settle

    write_runs(Path(os.environ["HIPHOOK_DB"]), 8, today=TODAY)  # Home's "today" is TODAY
    settings = Settings.load()
    settings.routine, settings.side = "beginner", "left"
    assert settings.save() is None
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        home = app.screen
        assert isinstance(home, HomeScreen)
        for _ in range(500):  # the log is read on a thread: wait for its answer
            if home.progress_reason:
                break
            await pilot.pause(0.02)
        assert "up from 30 s to 45 s" in home.progress_reason
        assert "Presses" in screen_text(app) and "30 s to 45 s" in screen_text(app)
        await pilot.press("enter", "s")  # start; skip the check-in
        await settle(pilot)
        presses = {
            s.seconds for s in routine_screen(app).runner.routine.steps if s.kind is StepKind.PRESS
        }
        assert presses == {45}

    drive(app, body)

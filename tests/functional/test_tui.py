"""Pilot-driven tests of the coach on a fake clock: the clock moves only when a test says."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from app.core.clock import FakeClock
from app.core.engine import Event, EventKind, State
from app.core.routine import StepKind
from app.session import RunOptions, SessionLog
from app.store.stats import Streak
from app.tui.app import HiphookApp
from app.tui.homedata import HomeData
from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.confirm import QuitConfirm
from app.tui.screens.help import HelpScreen
from app.tui.screens.home import HomeScreen
from app.tui.screens.routine import RoutineScreen
from app.tui.screens.summary import SummaryScreen
from app.tui.widgets import BigClock
from tests.support.home import pick_routine
from tests.support.tui import (
    SIZE,
    TODAY,
    daily,
    digits,
    display_tick,
    drive,
    make_app,
    routine_screen,
    screen_text,
    settle,
    start_run,
)


# --------------------------------------------------------------------------- the daily run
def test_a_complete_daily_run_reaches_the_summary() -> None:
    routine = daily()
    app, clock = make_app(routine)

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot, pain="3")
        seen: list[Event] = []
        screen.runner.subscribe(seen.append)
        for i, step in enumerate(routine.steps):
            await settle(pilot)
            text = screen_text(app)
            assert f"Step {i + 1} of {len(routine.steps)}" in text
            assert step.title() in text
            if step.kind is StepKind.ACTION:  # the big text says what to do
                assert "WAITING" in text and "press Enter" in text
                assert digits(app) == "LEVER" and "████" in text
                await pilot.press("enter")
                continue
            if step.kind is StepKind.HOLDS:  # from the floor, the phase is what matters
                assert digits(app) == "PUSH 1"
            elif step.kind is StepKind.REPS:
                assert digits(app) == "UP 1"
            else:
                assert digits(app) == f"{int(step.planned_s) // 60}:{int(step.planned_s) % 60:02d}"
            clock.advance(step.planned_s)
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        text = screen_text(app)
        assert "Routine complete" in text
        assert f"{len(routine.steps)} of {len(routine.steps)} steps done, 0 skipped" in text
        assert "Pain before: 3/10" in text
        assert seen[-1].kind is EventKind.FINISHED
        await pilot.press("1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        (outcome,) = app.outcomes
        assert outcome.record.state is State.FINISHED
        assert (outcome.pain_before, outcome.pain_after, outcome.side) == (3, 1, "left")

    drive(app, body)


def test_hold_phase_shows_rep_and_phase_in_words() -> None:
    routine = daily()
    app, clock = make_app(routine)
    holds = next(i for i, s in enumerate(routine.steps) if s.kind is StepKind.HOLDS)

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        for _ in range(holds):
            await pilot.press("n")
        await settle(pilot)
        assert "Hold 1/10 — PUSH" in screen_text(app) and digits(app) == "PUSH 1"
        clock.advance(2.0)
        await settle(pilot)
        assert "Hold 1/10 — relax" in screen_text(app) and digits(app) == "RELAX 1"
        clock.advance(3.0 * 1 + 5.0 * 2 + 0.5)  # into rep 4's push
        await settle(pilot)
        text = screen_text(app)
        assert "Hold 4/10 — PUSH" in text and "(2 s)" in text
        assert digits(app) == "PUSH 4" and screen.mood == "effort"
        clock.advance(2.0)
        await settle(pilot)
        assert "Hold 4/10 — relax" in screen_text(app)
        assert screen.mood != "effort"

    drive(app, body)


# --------------------------------------------------------------------------- controls
def test_pause_freezes_the_time_left_and_resume_goes_on() -> None:
    app, clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        clock.advance(10)
        await display_tick(pilot)
        assert digits(app) == "0:20"
        await pilot.press("space")
        await settle(pilot)
        assert "PAUSED" in screen_text(app) and screen.mood == "paused"
        clock.advance(100)
        await display_tick(pilot)
        assert digits(app) == "0:20"
        assert screen.runner.engine.view().step_index == 0
        await pilot.press("space")
        await settle(pilot)
        assert "PAUSED" not in screen_text(app)
        clock.advance(5)
        await display_tick(pilot)
        assert digits(app) == "0:15"
        assert screen.runner.record.paused_s == 100

    drive(app, body)


def test_skip_and_back_with_letters_and_arrows() -> None:
    routine = daily()
    app, clock = make_app(routine)

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        runner = screen.runner
        await pilot.press("n")
        await settle(pilot)
        assert runner.engine.view().step_index == 1
        assert "Psoas press (left)" in screen_text(app)
        await pilot.press("right")
        await settle(pilot)
        assert runner.engine.view().step_index == 2
        await pilot.press("b")
        await settle(pilot)
        assert runner.engine.view().step_index == 1
        assert digits(app) == "1:30"  # back restarts the step from its beginning
        await pilot.press("left")
        await settle(pilot)
        assert runner.engine.view().step_index == 0
        assert runner.record.steps[0].visits == 2  # entered again, from its beginning
        for _ in range(len(routine.steps)):
            await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        text = screen_text(app)
        assert f"0 of {len(routine.steps)} steps done, {len(routine.steps)} skipped" in text
        assert text.count("skipped") >= len(routine.steps)

    drive(app, body)


def logged(db: Path) -> list[dict[str, Any]]:
    """The sessions in a log file, as the store reads them back."""
    from app.store.store import open_store

    store = open_store(db)
    try:
        return store.sessions()
    finally:
        store.close()


def test_quit_asks_first_and_keeps_the_run_as_stopped(tmp_path: Path) -> None:
    """Quitting is the user's choice: "stopped", logged "aborted", as `q` in plain mode."""
    db = tmp_path / "quit.db"
    app, clock = make_app(daily(), log=SessionLog(RunOptions(db=str(db))))

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        seen: list[Event] = []
        screen.runner.subscribe(seen.append)
        clock.advance(12)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, QuitConfirm)
        assert "Stop the routine?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and not screen.runner.done
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QuitConfirm)
        await pilot.press("escape")  # Esc in the dialog means "keep going"
        await settle(pilot)
        assert app.screen is screen and not screen.runner.done
        await pilot.press("escape", "y")
        await settle(pilot)
        record = screen.runner.record
        assert record.state is State.ABORTED
        assert [(e.reason, e.interrupted) for e in seen if e.kind is EventKind.ABORTED] == [
            ("stopped by the user", False)
        ]
        assert record.steps[0].active_s == 12 and not record.interrupted
        assert isinstance(app.screen, SummaryScreen)
        assert "Stopped early" in screen_text(app)

    drive(app, body)
    [session] = logged(db)
    assert session["status"] == "aborted"
    assert session["steps"][0]["actual_s"] == 12


def test_the_lever_step_waits_for_enter_and_only_then() -> None:
    routine = daily()
    app, clock = make_app(routine)
    lever = next(i for i, s in enumerate(routine.steps) if s.kind is StepKind.ACTION)

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        runner = screen.runner
        await pilot.press("enter")  # Enter outside a lever step does nothing
        await settle(pilot)
        assert runner.engine.view().step_index == 0
        for step in routine.steps[:lever]:
            clock.advance(step.planned_s)
            await settle(pilot)
        assert runner.engine.state is State.WAITING
        clock.advance(600)  # nobody pressed Enter: it keeps waiting
        await settle(pilot)
        assert runner.engine.view().step_index == lever
        assert "WAITING" in screen_text(app) and screen.mood == "waiting"
        await pilot.press("enter")
        await settle(pilot)
        assert runner.engine.view().step_index == lever + 1
        assert runner.record.steps[lever].completed

    drive(app, body)


def test_closing_the_app_mid_run_keeps_the_run_as_interrupted(tmp_path: Path) -> None:
    """Closing the coach mid-run cuts the run off: interrupted, with its reason, logged."""
    db = tmp_path / "closed.db"
    app, clock = make_app(daily(), log=SessionLog(RunOptions(db=str(db))))
    runners: list[Any] = []
    seen: list[Event] = []

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        runners.append(screen.runner)
        screen.runner.subscribe(seen.append)
        clock.advance(31)  # the first step is done, and on disk
        await settle(pilot)

    drive(app, body)
    record = runners[0].record
    assert record.state is State.ABORTED and record.interrupted
    assert [(e.reason, e.interrupted) for e in seen if e.kind is EventKind.ABORTED] == [
        ("the coach was closed", True)
    ]
    [session] = logged(db)
    assert session["status"] == "interrupted"
    assert [st["completed"] for st in session["steps"]] == [True, False]


# --------------------------------------------------------------------------- check-in
def test_check_in_high_pain_shows_the_note_and_may_still_start() -> None:
    app, _clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        assert isinstance(app.screen, CheckInScreen)
        await pilot.press("8")
        await settle(pilot)
        assert "physical therapist" in screen_text(app)
        await pilot.press("left")
        await settle(pilot)
        assert "7 out of 10" in screen_text(app) and "physical therapist" in screen_text(app)
        await pilot.press("left")
        await settle(pilot)
        assert "6 out of 10" in screen_text(app)
        assert "physical therapist" not in screen_text(app)
        await pilot.press("9", "right", "right")  # the arrows reach 10 and stop there
        await settle(pilot)
        assert "10 out of 10" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RoutineScreen)
        assert app.pain_before == 10

    drive(app, body)


def test_check_in_can_be_skipped_with_one_key() -> None:
    app, _clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, RoutineScreen)
        assert app.pain_before is None

    drive(app, body)


def test_check_in_pain_by_mouse() -> None:
    app, _clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        await pilot.click("#scale", offset=(7 * 5 + 2, 0))
        await settle(pilot)
        assert "7 out of 10" in screen_text(app)

    drive(app, body)


# --------------------------------------------------------------------------- Home, help
def test_home_remembers_side_and_routine_and_starts() -> None:
    app, _clock = make_app(None)
    settings = Path(os.environ["HIPHOOK_CONFIG"])

    async def body(pilot: Pilot[int]) -> None:
        assert isinstance(app.screen, HomeScreen)
        text = screen_text(app)
        assert "no history yet" in text and "not chosen yet" in text
        await pilot.press("enter")  # no side chosen for a sided routine: stays home
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("s")
        assert json.loads(settings.read_text())["side"] == "left"
        await pilot.press("s")
        assert json.loads(settings.read_text())["side"] == "right"
        await pick_routine(pilot, "beginner")
        assert json.loads(settings.read_text())["routine"] == "beginner"
        await pick_routine(pilot, "daily")
        assert json.loads(settings.read_text())["routine"] == "daily"
        await settle(pilot)
        assert "Tight side   right" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CheckInScreen)
        assert "right side tight" in screen_text(app)
        await pilot.press("q")  # back out of the check-in: home again
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

    drive(app, body)


def test_home_shows_what_the_loader_knows() -> None:
    calls: list[dt.date] = []

    def loader(today: dt.date, url: str | None) -> HomeData:
        calls.append(today)
        return HomeData(
            done_today=False,
            streak=Streak(5, 0, None, False, 5),
            last7=(True, True, False, True, True, True, False),
            next_reminder="tomorrow 07:30",
        )

    app, _clock = make_app(None, home_loader=loader)

    async def body(pilot: Pilot[int]) -> None:
        await app.workers.wait_for_complete()
        await settle(pilot)
        text = screen_text(app)
        assert calls == [TODAY]
        assert "5 days" in text and "not done yet" in text and "tomorrow 07:30" in text
        assert "We Th Fr Sa Su Mo Tu" in text and "✓  ✓  ·  ✓" in text

    drive(app, body)


def test_a_broken_loader_is_reported_not_fatal() -> None:
    def loader(today: dt.date, url: str | None) -> HomeData:
        raise OSError("disk on fire")

    app, _clock = make_app(None, home_loader=loader)

    async def body(pilot: Pilot[int]) -> None:
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert "disk on fire" in screen_text(app)
        assert isinstance(app.screen, HomeScreen)

    drive(app, body)


def test_help_lists_the_keys_and_says_it_is_not_medical_advice() -> None:
    app, _clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("Space", "→", "←", "Enter", "Esc", "skip", "how to"):
            assert key in text, key
        assert text.count("not medical advice") == 1
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RoutineScreen)

    drive(app, body)


def test_how_to_shows_on_demand() -> None:
    app, _clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        assert "How to:" not in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert "How to: Lie face down" in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert "How to:" not in screen_text(app)

    drive(app, body)


def test_footer_keys_are_clickable() -> None:
    app, clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        clock.advance(4)
        await settle(pilot)
        text = screen_text(app).splitlines()
        footer = text[-1]
        col = footer.index("Skip")
        await pilot.click(offset=(col, SIZE[1] - 1))
        await settle(pilot)
        assert screen.runner.engine.view().step_index == 1

    drive(app, body)


def test_bell_cues_ring_through_the_app() -> None:
    app, clock = make_app(daily(), cues="bell")
    rings: list[float] = []

    async def body(pilot: Pilot[int]) -> None:
        app.bell = lambda: rings.append(clock.now())  # type: ignore[method-assign]
        await start_run(pilot)
        assert len(rings) == 1  # the first step's start
        clock.advance(27)
        await settle(pilot)
        clock.advance(1)
        await settle(pilot)
        clock.advance(1)
        await settle(pilot)
        assert rings == [1000.0, 1027.0, 1028.0, 1029.0]  # start, then 3, 2, 1
        clock.advance(1)
        await settle(pilot)
        assert rings[-1] == 1030.0 and len(rings) == 5  # the next step's start ("done" is quiet)

    drive(app, body)


# --------------------------------------------------------------------------- the big clock
def test_big_clock_grows_with_the_space_and_falls_back_to_text() -> None:
    from app.tui.widgets.bigclock import FONT_ROWS, fit, render_big

    # (columns, rows) per pixel; two columns per row is square
    assert fit("1:30", 76, 10) == (4, 2)  # 80x24: ten rows
    assert fit("1:30", 76, 7) == (2, 1)
    assert fit("10:00", 150, 40) == (8, 6)  # as tall as allowed, as wide as fits
    assert fit("RELAX 10", 76, 11) == (2, 2)  # a long word: condensed, still ten rows
    assert fit("1:30", 10, 10) == (0, 0)  # too narrow: plain text instead
    rows = render_big("1:30", 4, 2)
    assert len(rows) == FONT_ROWS * 2 and len({len(r) for r in rows}) == 1
    assert render_big("8", 2)[1] == "██  ██" and render_big("-", 2)[2] == "██████"


def test_big_clock_on_a_large_terminal() -> None:
    app, _clock = make_app(daily())

    async def main() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            clock = routine_screen(app).query_one("#clock", BigClock)
            text = screen_text(app)
            assert clock.value == "0:30"
            assert sum(1 for line in text.splitlines() if "████" in line) >= 20

    asyncio.run(main())


# --------------------------------------------------------------------------- the session log
def test_session_log_loader_gives_the_stores_home_data_and_the_reminder(
    monkeypatch: Any,
) -> None:
    import app.store.reader as reader
    from app.store.home import LastSession, summarize
    from app.tui.homedata import session_log_loader

    last = LastSession(dt.datetime(2025, 3, 3, 7, 30, tzinfo=dt.UTC), "completed", 592.0, "daily")
    home = summarize({TODAY - dt.timedelta(days=d) for d in (0, 2, 4, 6)}, TODAY, last=last)
    seen: list[tuple[object, object]] = []

    def load_home(target: object = None, today: object = None, tz: object = None) -> HomeData:
        seen.append((target, today))
        return home

    monkeypatch.setattr(reader, "load_home", load_home)
    data = session_log_loader(TODAY, "/tmp/log.db")
    assert seen == [("/tmp/log.db", TODAY)]
    assert data.done_today is True and data.streak_days == home.streak_days
    assert data.last7 == (True, False, True, False, True, False, True)
    assert data.last_session_text() == last.text(TODAY)

    home = summarize(set(), TODAY)
    empty = session_log_loader(TODAY, None)
    assert empty == HomeData() and not empty.has_history


def test_session_log_loader_on_an_empty_log_says_no_history() -> None:
    from app.tui.homedata import session_log_loader

    data = session_log_loader(TODAY, None)  # HIPHOOK_DB points at a file not yet made
    assert not data.has_history and data.problem == ""


def test_h_opens_the_history_and_escape_comes_back() -> None:
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        from app.tui.screens.history import HistoryScreen

        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

    drive(app, body)


def test_a_press_waiting_for_pressure_says_so_and_a_suspend_says_why() -> None:
    from app.core.engine import Engine
    from app.tui.screens.routine import mood, phase_words

    clock = FakeClock()
    engine = Engine(daily(), clock, hold_only=True)
    engine.start()
    engine.skip()  # into the first press, which waits for the sensor's pressure
    assert phase_words(engine.view()).startswith("WAITING FOR PRESSURE")
    engine.set_held(True)
    assert phase_words(engine.view()) == "Press — keep the pressure on"
    assert mood(engine.view()) == ""

    app, clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        clock.suspend(300)
        clock.advance(1)
        await settle(pilot)
        text = screen_text(app)
        assert "PAUSED — press Space to go on" in text
        assert "Paused: the computer was asleep" in text

    drive(app, body)


def test_t_switches_between_light_and_dark() -> None:
    app, _clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        first = app.theme
        await pilot.press("t")
        assert app.theme != first and app.theme in HiphookApp.THEMES
        assert "Get into position (left)" in screen_text(app)
        await pilot.press("t")
        assert app.theme == first

    drive(app, body)


def test_home_looks_the_same_after_a_run() -> None:
    """Screens' styles are global once loaded: the routine's must not leak into Home."""
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await settle(pilot)
        before = screen_text(app)
        await pilot.press("enter", "s")
        await settle(pilot)
        assert isinstance(app.screen, RoutineScreen)
        await pilot.press("q", "y")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert screen_text(app) == before

    drive(app, body)


def test_hiphook_run_goes_straight_into_the_routine() -> None:
    app, clock = make_app(daily(), check_in=False)

    async def body(pilot: Pilot[int]) -> None:
        assert isinstance(app.screen, RoutineScreen)
        assert app.runner is not None and app.runner.engine.state is State.RUNNING
        clock.advance(5)
        await settle(pilot)
        assert app.runner.engine.view().step_remaining_s == 25

    drive(app, body)


# --------------------------------------------------------------------------- notices
def test_notices_in_a_run_go_to_the_status_line_never_over_the_clock(monkeypatch: Any) -> None:
    """The start's burst (here the time scale and a cue fallback) is shown in turn on the
    status line, below the clock; no toast covers anything during the run. Outside a
    run a notice is a toast again."""
    from app.tui.widgets.status_line import StatusLine

    said: list[str] = []
    say = StatusLine.say

    def spy(self: StatusLine, text: str, *, kind: str = "info") -> None:
        said.append(text)
        say(self, text, kind=kind)

    monkeypatch.setattr(StatusLine, "say", spy)
    scale = "Demo: the clock runs ×10; this run does not count."
    fallback = "Cues: tones did not work (paplay: exit status 1); the terminal bell from now on."
    app, clock = make_app(daily(), notes=[scale])

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        app.say(fallback)
        await settle(pilot)
        line = screen.query_one(StatusLine)

        def status_row() -> str:
            return screen_text(app).splitlines()[line.region.y]

        assert line.region.height == 1 and not line.region.overlaps(screen.big.region)
        assert screen.big.size.height >= 10, "ten rows of digits with a notice showing"
        assert said[0] == scale  # shown first, on the status line
        assert status_row().strip() in (scale, fallback[:76])
        end = time.monotonic() + 30  # a bound for a hung timer, not a measure of one
        while len(said) < 2 and time.monotonic() < end:
            await pilot.pause(0.1)
        assert said == [scale, fallback], said  # in turn; the last stays
        await settle(pilot)
        assert "the terminal bell from now" in status_row()
        assert "×10" not in screen_text(app), "no toast repeats it anywhere"
        await pilot.press("q", "y")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        app.say("Outside a run: a toast.")
        await settle(pilot)
        assert "Outside a run: a toast." in screen_text(app)

    drive(app, body, notifications=True)

"""A run started from Home is assembled on a thread: the loop opens none of its files,
devices or sockets, Home answers keys meanwhile, and the run's clock starts only once
everything is in place (the real app with the Pilot, a real log file, the simulator)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

import app.tui.app as app_module
import app.tui.screens.home as home_module
from app.core.routine import Routine
from app.publish.paths import LOCK_NAME
from app.session import RunOptions, Session, SessionLog
from app.settings import Settings
from app.store.recorder import SessionRecorder
from app.tui.app import HiphookApp
from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.home import HomeScreen
from app.tui.screens.routine import RoutineScreen
from app.tui.widgets.status_line import StatusLine
from tests.support.audit import watching
from tests.support.home import home_ready, until
from tests.support.tui import daily, digits, drive, handled_by_app, make_app, screen_text, settle

# Textual reads a screen's own stylesheet (a .tcss file of the package) the first time it
# shows that screen; that read is Textual's, and no file of the user's or of the run.
OWN_STYLESHEETS = str(Path(__file__).resolve().parents[2] / "app" / "tui")


def own_stylesheet(path: str) -> bool:
    return path.startswith(OWN_STYLESHEETS) and path.endswith(".tcss")


def remember(sensor: str) -> None:
    settings = Settings.load()
    settings.sensor, settings.side = sensor, "left"
    assert settings.save() is None


class HeldAssembly:
    """Wraps the app's `make_session` (it runs on the start's thread) so the test decides
    when the assembly may go on, and keeps the session it made."""

    def __init__(self, make_session: object) -> None:
        self.make_session = make_session
        self.entered = threading.Event()
        self.release = threading.Event()
        self.sessions: list[Session] = []

    def __call__(self, options: RunOptions, routine: Routine, side: str | None) -> Session:
        self.entered.set()
        assert self.release.wait(10), "the test never let the assembly go on"
        session = self.make_session(options, routine, side)  # type: ignore[operator]
        self.sessions.append(session)
        return session


async def run_from_home(pilot: Pilot[Any]) -> None:
    """Enter on Home, the check-in skipped, until the run's screen is up."""
    await home_ready(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, CheckInScreen))
    await pilot.press("s")
    await until(pilot, lambda: isinstance(pilot.app.screen, RoutineScreen))


def test_a_run_is_assembled_off_the_loop_while_home_answers_and_its_clock_waits(
    tmp_path: Path,
) -> None:
    remember("sim")
    db = tmp_path / "hiphook.db"
    app, clock = make_app(None, db=str(db), log=SessionLog(RunOptions(db=str(db))))
    held = HeldAssembly(app.make_session)
    app.make_session = held  # type: ignore[method-assign]

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        starts = handled_by_app(app, HomeScreen.StartRequested)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        with watching() as opened:
            await pilot.press("s")  # the check-in skipped: the run is being assembled
            await until(pilot, held.entered.is_set)
            assert isinstance(app.screen, HomeScreen), app.screen_stack
            assert app.starting and app.session is None
            clock.advance(20)  # time passing while it is put together is not the run's
            await pilot.press("s")  # Home answers keys meanwhile
            await until(pilot, lambda: "Tight side   right" in screen_text(app))
            await pilot.press("enter")  # and a second Enter starts nothing more
            await until(pilot, lambda: len(starts) == 2)  # the app has handled it
            assert isinstance(app.screen, HomeScreen) and app.starting, app.screen_stack
            held.release.set()
            await until(pilot, lambda: isinstance(app.screen, RoutineScreen))
            await settle(pilot)
            assert digits(app) == "0:30"  # the first step's 30 s, none of it spent waiting
        assert not app.starting and len(held.sessions) == 1
        session = held.sessions[0]
        assert app.session is session and session.sensor is not None
        assert session.recorder is not None and session.publisher is not None
        on_loop = [o for o in opened if o.on_main_thread and not own_stylesheet(o.path)]
        assert not on_loop, f"opened on the event loop while the run started: {on_loop}"
        # The run's own files were opened, on another thread: the watchers' socket (its
        # lock and its name) and the session log.
        elsewhere = {Path(o.path).name for o in opened if not o.on_main_thread}
        assert {LOCK_NAME, "run.sock"} <= elsewhere, elsewhere
        assert any(o.path.startswith(str(db)) for o in opened if not o.on_main_thread)

    try:
        drive(app, body)
    finally:
        held.release.set()
        for session in held.sessions:
            session.close()


def test_a_run_whose_start_is_given_up_is_closed_by_its_thread() -> None:
    """The app closing while a run is being assembled (its start worker cancelled): the
    thread finishes, sees nobody will show the run, and closes it (the watchers' socket is
    freed), and the app is left with no run."""
    remember("none")
    app, _clock = make_app(None)
    held = HeldAssembly(app.make_session)
    app.make_session = held  # type: ignore[method-assign]

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        await pilot.press("s")
        await until(pilot, held.entered.is_set)
        (start,) = [w for w in app.workers if w.group == "start"]
        start.cancel()
        await until(pilot, lambda: not app.starting)
        held.release.set()
        await until(pilot, lambda: bool(held.sessions))
        session = held.sessions[0]
        assert session.publisher is not None

        def closed() -> bool:
            return session.publisher is not None and not session.publisher.live

        await until(pilot, closed)
        assert app.session is None and isinstance(app.screen, HomeScreen)

    try:
        drive(app, body)
    finally:
        held.release.set()


def test_a_sensor_that_is_not_there_is_said_on_the_runs_status_line() -> None:
    """Assembled off the loop, a run whose sensor's port does not exist goes on timed,
    and its screen says why, as before (what was tried, what to do)."""
    port = "/dev/hiphook-test-no-such-port"
    remember(port)
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await run_from_home(pilot)
        line = app.screen.query_one(StatusLine)

        def said() -> bool:
            return "Sensor not used" in line.text

        await until(pilot, said)
        assert port in line.text and "hiphook sensor scan" in line.text
        assert app.session is not None and app.session.sensor is None

    drive(app, body)


class HeldLog(SessionLog):
    """The session log, whose open (on the app's thread after the first frame) waits
    until the test lets it go on; `asked`: a run's assembly has asked for a recorder."""

    def __init__(self, options: RunOptions) -> None:
        super().__init__(options)
        self.release = threading.Event()
        self.asked = threading.Event()

    def open(self, note: Callable[[str], None]) -> None:
        assert self.release.wait(10), "the test never let the log open"
        super().open(note)

    def recorder(self, *args: Any, **kw: Any) -> SessionRecorder | None:
        self.asked.set()
        return super().recorder(*args, **kw)


def test_a_run_waits_for_a_slow_log_to_open_and_is_logged(tmp_path: Path) -> None:
    """The log opens after Home's first frame; a run started before it is open waits on
    its assembly's thread (Home answering) and is logged, however long the open takes."""
    remember("none")
    db = str(tmp_path / "hiphook.db")
    log = HeldLog(RunOptions(db=db))
    app, _clock = make_app(None, db=db, log=log)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        await pilot.press("s")
        await until(pilot, log.asked.is_set)  # the assembly waits for the open
        assert app.starting and isinstance(app.screen, HomeScreen)
        log.release.set()
        await until(pilot, lambda: isinstance(app.screen, RoutineScreen))
        assert app.session is not None and app.session.recorder is not None
        assert not [n for n in app.session.notes if "not being saved" in n]

    try:
        drive(app, body)
    finally:
        log.release.set()


def test_a_run_whose_log_does_not_open_in_time_says_it_is_not_saved(tmp_path: Path) -> None:
    """If the log still is not open when the wait is over, the run goes on unlogged and
    its status line says so, and why (before, it went unlogged without a word)."""
    remember("none")
    db = str(tmp_path / "hiphook.db")
    log = HeldLog(RunOptions(db=db))
    log.open_wait_s = 0.01  # the wait is over at once (it is a minute in the coach)
    app, _clock = make_app(None, db=db, log=log)

    async def body(pilot: Pilot[int]) -> None:
        await run_from_home(pilot)
        line = app.screen.query_one(StatusLine)

        def said() -> bool:
            return "This run is not being saved" in line.text

        await until(pilot, said)
        assert "did not open within" in line.text
        assert app.session is not None and app.session.recorder is None
        log.release.set()  # the open goes on, and is done before the app closes
        await until(pilot, lambda: log.store is not None)

    try:
        drive(app, body)
    finally:
        log.release.set()


@pytest.mark.parametrize("where", ["opening", "loading"])
def test_a_run_that_fails_to_assemble_is_closed_and_home_says_why(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The assembly fails after the run opened its socket and sensor (`opening`: in
    `make_session`; `loading`: the run's screens will not load): what it opened is closed,
    the app stays on Home and says why, and what is said later is shown (no traceback)."""
    remember("sim")
    app, _clock = make_app(None)
    made: list[Session] = []
    real_assemble = app_module.assemble
    start_threads: list[int] = []

    def assemble(*args: Any, **kw: Any) -> Session:
        session = real_assemble(*args, **kw)
        made.append(session)
        start_threads.append(threading.get_ident())
        if where == "opening":
            real_open = session.open

            def open_then_fail(loop: Any) -> None:
                real_open(loop)
                raise RuntimeError("the test's port went away")

            session.open = open_then_fail  # type: ignore[method-assign]
        return session

    real_load = app_module.load_run_screens

    def load_run_screens() -> None:
        if threading.get_ident() in start_threads:  # the run's own thread, not Home's
            raise RuntimeError("the test's screens will not load")
        real_load()

    monkeypatch.setattr(app_module, "assemble", assemble)
    monkeypatch.setattr(app_module, "load_run_screens", load_run_screens)
    toasts: list[str] = []
    real_notify = app.notify

    def notify(message: str, **kw: Any) -> None:
        toasts.append(message)
        real_notify(message, **kw)

    app.notify = notify  # type: ignore[method-assign]

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        await pilot.press("s")

        def said() -> bool:
            return any("could not be started" in t for t in toasts)

        await until(pilot, said)
        (why,) = [t for t in toasts if "could not be started" in t]
        assert "went away" in why or "will not load" in why
        assert "Enter" in why  # what to do
        assert isinstance(app.screen, HomeScreen) and not app.starting
        assert app.session is None and app.is_running
        (session,) = made
        assert session.publisher is not None and not session.publisher.live
        assert session.sensor is not None and session.sensor.session is None
        app.say("Said after the failed start.")
        await until(pilot, lambda: "Said after the failed start." in screen_text(app))
        assert not app._exception, app._exception  # the app did not end on the error

    drive(app, body, notifications=True)
    assert app.return_code in (0, None)


def test_a_quick_double_enter_on_home_starts_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two Enters before the first is resolved (on Home's thread): one check-in, one
    assembly. The first resolution, cancelled by the second, posts nothing; and the app
    takes one start at a time whatever reaches it."""
    remember("none")
    app, _clock = make_app(None)
    held = HeldAssembly(app.make_session)
    held.release.set()
    app.make_session = held  # type: ignore[method-assign]
    real_prepare = home_module.prepare_routine
    entered: list[threading.Event] = []
    go_on: list[threading.Event] = []

    def prepare_routine(*args: Any, **kw: Any) -> Any:
        mine = threading.Event()
        go_on.append(mine)
        entered.append(threading.Event())
        entered[-1].set()
        assert mine.wait(10), "the test never let the resolution go on"
        return real_prepare(*args, **kw)

    monkeypatch.setattr(home_module, "prepare_routine", prepare_routine)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        starts = handled_by_app(app, HomeScreen.StartRequested)
        await pilot.press("enter")
        await until(pilot, lambda: len(entered) == 1)
        await pilot.press("enter")  # the first is being resolved: it is cancelled
        await until(pilot, lambda: len(entered) == 2)
        go_on[0].set()  # the cancelled one finishes first, then the one that counts
        go_on[1].set()
        await until(pilot, lambda: bool(starts))
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, RoutineScreen))
        assert len(starts) == 1, starts
        checkins = [s for s in app.screen_stack if isinstance(s, CheckInScreen)]
        assert not checkins and len(held.sessions) == 1, app.screen_stack
        assert app.session is held.sessions[0]

    try:
        drive(app, body)
    finally:
        for event in go_on:
            event.set()
        for session in held.sessions:
            session.close()


def test_the_app_takes_one_start_at_a_time() -> None:
    """Two starts reaching the app (however they came): one check-in shows; while it
    shows, another start is not taken (the second stacked a second check-in)."""
    remember("none")
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        home = await home_ready(pilot)
        starts = handled_by_app(app, HomeScreen.StartRequested)
        for _ in range(2):
            home.post_message(HomeScreen.StartRequested(daily(), "left", RunOptions()))
        await until(pilot, lambda: len(starts) == 2)
        checkins = [s for s in app.screen_stack if isinstance(s, CheckInScreen)]
        assert len(checkins) == 1, app.screen_stack
        assert not app.starting and app.session is None

    drive(app, body)


def test_a_sensor_warning_with_help_on_top_goes_to_the_runs_status_line() -> None:
    """The sensor's word reaches the run's own screen even while Help covers it (it was
    dropped after a second of retries when another screen was on top)."""
    from app.tui.screens.help import HelpScreen

    remember("none")
    app, _clock = make_app(None)
    words = "The test's sensor gives nothing: check its cable."

    async def body(pilot: Pilot[int]) -> None:
        await run_from_home(pilot)
        run = app.screen
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        noted = handled_by_app(app, HiphookApp.SensorNoted)
        app.sensor_note(words)
        await until(pilot, lambda: bool(noted))
        line = run.query_one(StatusLine)
        assert isinstance(app.screen, HelpScreen) and words in line.text, line.text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is run)
        assert words in line.text

    drive(app, body)

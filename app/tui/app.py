"""The Textual app: a small shell that moves between screens; the screens own behaviour.

`run_tui(options, routine=..., side=...)` is what the CLI calls, with typed `RunOptions`
(never argv): with a routine it opens the routine (or the check-in first); without one
it opens Home. Each run is built by `app.session.assemble`, the same as the plain face's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from app.core.clock import Clock
from app.core.routine import Routine
from app.runner import SessionRunner
from app.session import RunOptions, SensorFactory, Session, SessionLog, assemble, demo_note
from app.settings import Settings
from app.tui.homedata import HomeLoader, no_history, session_log_loader
from app.tui.messages import (
    CheckInCancelled,
    CheckInDone,
    Outcome,
    RunEnded,
    SensorNoted,
    StartRequested,
    SummaryClosed,
)

if TYPE_CHECKING:
    from app.store.writer import LogNotice

_HERE = Path(__file__).parent  # absolute paths: subclasses may live elsewhere


class HiphookApp(App[int]):
    CSS_PATH = [_HERE / "app.tcss", _HERE / "widgets" / "widgets.tcss"]
    TITLE = "hiphook"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("t", "toggle_theme", "Light/dark", show=False, tooltip="light or dark colours")
    ]
    THEMES = ("textual-dark", "textual-light")

    def __init__(
        self,
        routine: Routine | None = None,
        side: str | None = None,
        *,
        options: RunOptions | None = None,
        clock: Clock | None = None,
        today: dt.date | None = None,
        home_loader: HomeLoader = no_history,
        log: SessionLog | None = None,
        sensor_factory: SensorFactory | None = None,
        notes: Sequence[str] = (),
        check_in: bool = True,
    ) -> None:
        """`log`: the session log, opened on a thread after the first paint (None: runs
        are not logged). `sensor_factory` stands in for the options' sensor (tests)."""
        super().__init__()
        self.options = options or RunOptions()
        # `hiphook run` goes straight into the routine; Home's Enter asks about pain first.
        self.check_in = check_in
        self.start_routine = routine
        self.side = side
        self.clock = clock or self.options.clock()
        self._today = today
        self.home_loader = home_loader
        self.store_url = self.options.db
        self.session_log = log
        self.sensor_factory = sensor_factory
        self.start_notes = list(notes)
        self.session: Session | None = None
        self.outcomes: list[Outcome] = []
        self.reminders: Any = None
        self._pending: tuple[Routine, str | None] | None = None
        self._pending_sensor: str | None = None  # Home's sensor choice for the next run
        self._sensor_noted = "\0"  # the sensor warning on the status line, if any
        self._pain_before: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None

    @property
    def runner(self) -> SessionRunner | None:
        return self.session.runner if self.session is not None else None

    @property
    def today(self) -> dt.date:
        """The injected date (tests, snapshots) or the real one, read afresh past midnight."""
        return self._today or dt.date.today()

    # ------------------------------------------------------------------ flow
    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        for text in self.start_notes:
            self.notify(text)
        if self.session_log is not None:
            self.session_log.listeners.append(self.log_notice)
            self.run_worker(self._open_log, thread=True, group="background")
        if self.start_routine is not None:
            self.post_message(StartRequested(self.start_routine, self.side))
        else:
            self.go_home()

    def _show(self, screen: Screen[Any]) -> None:
        """Replace the flow's screen; close any dialog over it first (help, quit)."""
        while len(self.screen_stack) > 2 and isinstance(self.screen, ModalScreen):
            self.pop_screen()
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _open_log(self) -> None:
        """On a thread: the database layer takes most of a second to import."""
        assert self.session_log is not None
        from app.store.errors import StoreError

        try:
            self.session_log.open(self.say)
        except StoreError as exc:
            self.say(f"Session log unavailable: {exc.message} Runs will not be saved.")
            return
        if self.session_log.store is None:
            return
        try:  # while the coach is open, the daily reminder shows in it
            from app.remind.inapp import InAppReminders

            self.reminders = InAppReminders(
                lambda title, body: self.say(f"{title}: {body}"), db=self.options.db
            )
            self.reminders.start()
        except Exception as exc:  # noqa: BLE001 - a reminder must never stop the coach
            self.say(f"The in-app reminder is off: {exc}")
            self.reminders = None

    def stop_reminders(self) -> None:
        if self.reminders is not None:
            self.reminders.stop()
            self.reminders = None

    def go_home(self) -> None:
        from app.tui.screens.home import HomeScreen

        self._show(HomeScreen(self.today, self.home_loader, self.options))

    @on(StartRequested)
    def _start_requested(self, message: StartRequested) -> None:
        from app.tui.screens.checkin import CheckInScreen

        self._pending = (message.routine, message.side)
        self._pending_sensor = message.sensor
        if not self.check_in:
            self.check_in = True  # only the first run skips it; later ones come from Home
            self._check_in_done(CheckInDone(None))
            return
        self._show(CheckInScreen(message.routine, message.side))

    @on(CheckInCancelled)
    def _check_in_cancelled(self) -> None:
        self._pending = None
        self.go_home()

    @on(CheckInDone)
    def _check_in_done(self, message: CheckInDone) -> None:
        if self._pending is None:
            return
        routine, side = self._pending
        self._pain_before = message.pain
        self.session = self.make_session(routine, side)
        self._show(self.make_routine_screen(self.session))

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        from app.tui.screens.summary import SummaryScreen

        session = self.session
        if session is None:
            return
        # On a thread: closing lets the last cue ("well done") finish, up to 3 s.
        self.run_worker(session.close, thread=True, group="close")
        self._show(
            SummaryScreen(
                message.record,
                session.runner.routine,
                self._pain_before,
                today=self.today,
                loader=self.home_loader,
                store_url=self.store_url,
                verdicts=session.verdicts if session.sensor else None,
                save_note=session.save_note if session.recorder is not None else None,
            )
        )

    @on(SummaryClosed)
    def _summary_closed(self, message: SummaryClosed) -> None:
        session = self.session
        if session is not None and self._pending is not None:
            self.outcomes.append(
                Outcome(
                    session.runner.record,
                    session.runner.routine,
                    self._pending[1],
                    self._pain_before,
                    message.pain_after,
                )
            )
            session.finish(message.pain_after)
        self.session = None
        self._pending = None
        self.go_home()

    # ------------------------------------------------------------------ the run
    def make_session(self, routine: Routine, side: str | None) -> Session:
        """One run, assembled as the plain face's is; the screen subscribes last."""
        options = self.options
        if self._pending_sensor is not None:  # chosen on Home
            options = dataclasses.replace(options, sensor=self._pending_sensor)
        session = assemble(
            options,
            routine,
            side,
            clock=self.clock,
            settings=Settings.load(),
            log=self.session_log,
            pain_before=self._pain_before,
            ring=self.ring,
            note=self.say,
            sensor_factory=self.sensor_factory,
            strict=False,
        )
        session.runner.on_listener_error = self.say
        if session.sensor is not None:
            session.sensor.on_problem = self.sensor_note
        session.start(asyncio.get_running_loop())
        if session.recorder is not None:
            session.recorder.on_error = self.say
        for text in session.notes:
            self.say(text)
        return session

    def make_routine_screen(self, session: Session) -> Screen[None]:
        """The screen for a run (the benchmark swaps in a naive one to compare)."""
        from app.tui.screens.routine import RoutineScreen

        return RoutineScreen(
            session.runner,
            pressure=session.sensor,
            ready=session.wait_ready if session.player else None,
        )

    def ring(self) -> None:
        """The terminal bell from any thread (the cue worker falls back to it)."""
        if threading.get_ident() == self._thread:
            self.bell()
        elif self._loop is not None:
            self._loop.call_soon_threadsafe(self.bell)

    def say(self, text: str) -> None:
        """A one-off note (e.g. a cue backend fell back) from any thread."""
        if threading.get_ident() == self._thread:
            self.notify(text, timeout=8)
        elif self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: self.notify(text, timeout=8))

    def log_notice(self, notice: LogNotice) -> None:
        """The log's writer (its thread) says it waits or caught up: on the Routine
        screen's status line, which never covers the clock; elsewhere as a note."""

        def show() -> None:
            from app.tui.widgets.status_line import StatusLine

            lines = self.screen.query(StatusLine)
            if lines:
                lines.first().say(notice.text, kind=notice.kind)
            else:
                self.notify(
                    notice.text, severity="warning" if notice.kind != "info" else "information"
                )

        if threading.get_ident() == self._thread:
            show()
        elif self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the app is gone
                self._loop.call_soon_threadsafe(show)

    def sensor_note(self, text: str) -> None:
        """Why the sensor gives nothing (or that it answers now): a toast, and the
        Routine screen's status line, where it stays until the sensor answers."""
        self.say(text)
        # Posted: this is called from a plain loop callback, outside the app's context.
        self.post_message(SensorNoted(text))

    @on(SensorNoted)
    def _sensor_noted_message(self, message: SensorNoted) -> None:
        self._show_sensor_note(message.text, 20)

    def _show_sensor_note(self, text: str, tries: int) -> None:
        # lazy: as go_home's and make_routine_screen's, these load with the first run
        from app.sensor.attachment import SENSOR_ANSWERS
        from app.tui.screens.routine import RoutineScreen
        from app.tui.widgets.status_line import StatusLine

        screen = self.screen
        if isinstance(screen, RoutineScreen) and screen.is_mounted:
            line = screen.query(StatusLine).first()
            if text == SENSOR_ANSWERS:
                if line.text == self._sensor_noted:
                    line.say("")  # the warning it took back
            else:
                line.say(text, kind="warning")
                self._sensor_noted = line.text
        elif tries > 0 and self.session is not None:  # the run's screen is being shown
            self.set_timer(0.05, lambda: self._show_sensor_note(text, tries - 1))

    def action_toggle_theme(self) -> None:
        """Light or dark, whichever reads better in the room (the choice is not kept)."""
        self.theme = self.THEMES[1] if self.theme == self.THEMES[0] else self.THEMES[0]

    def action_help(self) -> None:
        from app.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def run_tui(
    options: RunOptions,
    *,
    routine: Routine | None = None,
    side: str | None = None,
    home_loader: HomeLoader = session_log_loader,
    notes: Sequence[str] = (),
) -> int:
    """Open the coach; returns the process exit status."""
    notes = list(notes)
    if (demo := demo_note(options)) is not None:
        notes.append(demo)
    app = HiphookApp(
        routine,
        side,
        options=options,
        home_loader=home_loader,
        log=SessionLog(options),
        notes=notes,
        check_in=routine is None or options.check_in,
    )
    try:
        result = app.run()
    finally:
        app.stop_reminders()
        if app.session is not None:  # closed mid-run: the sensor and the sound stop too
            app.session.close()
        outcome = app.session_log.close() if app.session_log is not None else None
    if outcome is not None and not outcome.complete:
        import sys

        from app.store.errors import EXIT_LOG_INCOMPLETE

        print(f"hiphook: {outcome.message}", file=sys.stderr)
        return EXIT_LOG_INCOMPLETE
    return int(result or 0)

"""The Textual app: a small shell that moves between screens; the screens own behaviour.

`run_tui(options, routine=..., side=...)` is what the CLI calls, with typed `RunOptions`
(never argv): with a routine it opens the routine (or the check-in first); without one
it opens Home. Each run is built by `app.session.assemble`, the same as the plain face's,
on a thread (`_start_run`): the routine's sounds, the sensor's port, the log and the
watchers' socket are files and devices, and the event loop opens none of them; the run's
clock starts when its screen shows, once everything is in place.

Home's first frame waits for nothing it does not draw: the screens of a run (check-in,
routine, summary, help) load on a thread after it, as does the session log.

A run (`run_flow`) pushes check-in, routine and summary in turn, each with a callback
that takes what the screen hands back with `dismiss` (the pain, the record, the pain
after) and pushes the next; then Home shows again. No flag carries state from one
screen to the next. (Callbacks rather than a worker awaiting `push_screen_wait`: such a
worker would stay busy for the whole run, and `app.workers.wait_for_complete()`, which
the tests use to wait for the loaders, would wait for the user.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from app.core.clock import Clock
from app.core.routine import Routine
from app.runner import SessionRunner
from app.session import RunOptions, SensorFactory, Session, SessionLog, assemble, demo_note
from app.settings import Settings
from app.store.errors import EXIT_LOG_INCOMPLETE, StoreError
from app.tui.homedata import HomeLoader, no_history, session_log_loader
from app.tui.screens.home import HomeScreen

if TYPE_CHECKING:
    from app.core.engine import RunRecord
    from app.store.writer import LogNotice
    from app.tui.screens.checkin import CheckInAnswer
    from app.tui.screens.routine import RoutineScreen
    from app.tui.screens.summary import AfterRun

_HERE = Path(__file__).parent  # absolute paths: subclasses may live elsewhere


def load_run_screens() -> None:
    """Import the screens a run and `?` show, off the loop (a thread after Home's first
    frame, or the run's assembly), so the loop mostly finds them loaded. Not always: an
    Enter or `?` that comes before that thread is done imports them on the loop
    (`run_flow`, `action_help`), once."""
    # lazy: Home's first frame does not wait for these; this runs on a thread
    import app.tui.screens.checkin
    import app.tui.screens.help
    import app.tui.screens.routine
    import app.tui.screens.summary  # noqa: F401


@dataclass
class _Start:
    """One run being assembled on its thread, and whether the app gave it up (it closed
    meanwhile). Whoever comes second sees it: the thread closes a run nobody will show;
    the cancelled start, finding the run assembled, hands it to `app.session`, which
    `run_tui` closes at exit."""

    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    abandoned: bool = False
    session: Session | None = None


@dataclass(frozen=True)
class Outcome:
    """What a finished visit to the routine screen produced, for whoever keeps the log."""

    record: RunRecord
    routine: Routine
    side: str | None
    pain_before: int | None
    pain_after: int | None


class HiphookApp(App[int]):
    CSS_PATH = _HERE / "app.tcss"
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
        settings: Settings | None = None,
    ) -> None:
        """`log`: the session log, opened on a thread after the first paint (None: runs
        are not logged). `sensor_factory` stands in for the options' sensor (tests).
        `settings`: the remembered choices; None reads them now, before the app's event
        loop runs, so no screen reads the file on it. Home and each run share them."""
        super().__init__()
        self.settings = settings if settings is not None else Settings.load()
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
        self.pain_before: int | None = None  # the check-in's answer for the current run
        # The current run's screen, which shows notices on its status line, and what
        # was said before it existed (the time scale, the session's own notes).
        self._run_screen: RoutineScreen | None = None
        self._early_notices: list[tuple[str, str]] | None = None  # a list while starting
        self.reminders: Any = None
        self._sensor_noted = "\0"  # the sensor warning on the status line, if any
        self._sensor_pending: str | None = None  # said before the run's screen existed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._starting: _Start | None = None  # a run being assembled on its thread
        self._checking_in = False  # a run's check-in is showing (a second Enter waits)
        if routine is not None:  # `hiphook run`: its first screen is a run's
            load_run_screens()

    @property
    def starting(self) -> bool:
        """A run is being assembled (its screen is not shown yet)."""
        return self._starting is not None

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
        if self.start_routine is not None:  # `hiphook run`: on the run's status line
            self._early_notices = [(text, "info") for text in self.start_notes]
        else:
            for text in self.start_notes:
                self.notify(text)
        if self.session_log is not None:
            self.session_log.listeners.append(self.log_notice)
        if self.start_routine is not None:
            # `hiphook run` goes straight into the routine unless asked to check in.
            self.run_flow(self.start_routine, self.side, check_in=self.check_in)
        else:
            self.go_home()
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        """What the first screen does not draw loads now, on threads."""
        if self.session_log is not None:
            self.run_worker(self._open_log, thread=True, group="background")
        self.run_worker(load_run_screens, thread=True, group="background")

    def _open_log(self) -> None:
        """On a thread: the database layer takes most of a second to import."""
        assert self.session_log is not None
        try:
            self.session_log.open(self.say)
        except StoreError as exc:
            self.say(f"Session log unavailable: {exc.message} Runs will not be saved.")
            return
        if self.session_log.store is None:
            return
        try:  # while the coach is open, the daily reminder shows in it
            # lazy: the reminder's scheduler loads on this thread, and only with a log
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
        """Home again: the one under the run (it reloads as it resumes), or a new one."""
        homes = [s for s in self.screen_stack if isinstance(s, HomeScreen)]
        if homes:
            homes[-1].pop_until_active()
        else:
            self.push_screen(HomeScreen(self.today, self.home_loader, self.options, self.settings))

    def on_home_screen_start_requested(self, message: HomeScreen.StartRequested) -> None:
        # Enter again while the last one's run is being asked about or put together
        if self.starting or self._checking_in or self.session is not None:
            return
        self.run_flow(message.routine, message.side, options=message.options)

    # One run: check-in -> routine -> summary -> Home. Each screen is pushed with the
    # callback that takes what it hands back; what a step needs travels in the callback.
    def run_flow(
        self,
        routine: Routine,
        side: str | None,
        *,
        options: RunOptions | None = None,
        check_in: bool = True,
    ) -> None:
        """Start a run, with the check-in first unless `check_in` is False; `options`:
        this run's (Home's, with its sensor choice), else those the coach was opened with."""
        # lazy: loaded on a thread after Home's first frame (load_run_screens)
        from app.tui.screens.checkin import CheckInAnswer, CheckInScreen

        self.pain_before = None
        start = functools.partial(self._checked_in, options or self.options, routine, side)
        if check_in:
            self._checking_in = True
            self.push_screen(CheckInScreen(routine, side), start)
        else:
            start(CheckInAnswer(None))

    def _checked_in(
        self,
        options: RunOptions,
        routine: Routine,
        side: str | None,
        answer: CheckInAnswer | None,
    ) -> None:
        self._checking_in = False
        if self._starting is not None or self.session is not None:  # one run at a time
            return
        early, self._early_notices = self._early_notices or [], None
        if answer is None:  # backed out: nothing was started
            for text, kind in early:
                self._say(text, kind)
            self.go_home()
            return
        self.pain_before = answer.pain
        self._early_notices = early  # what assembling the run says waits for its screen
        start = self._starting = _Start()
        self._sensor_pending = None  # nothing of an earlier run's sensor
        # A failed assembly is said on Home (`_start_run`), never the app's end.
        self.run_worker(
            self._start_run(start, options, routine, side), group="start", exit_on_error=False
        )

    async def _start_run(
        self, start: _Start, options: RunOptions, routine: Routine, side: str | None
    ) -> None:
        """Assemble the run on a thread, then start it and show its screen (on the loop).
        Home stays on screen and answers keys meanwhile; the clock starts with the screen.
        An assembly that fails leaves Home, which says why (its thread closed what it had
        opened)."""
        try:
            session = await asyncio.to_thread(self._assemble, start, options, routine, side)
        except asyncio.CancelledError:  # the app is closing
            with start.lock:
                start.abandoned = True
                if start.session is not None:  # assembled: closed with the app (run_tui)
                    self.session = start.session
            self._flush_early_notices()
            raise
        except Exception as exc:  # noqa: BLE001 - a run that cannot start must not end the app
            self._cannot_start(exc)
            return
        finally:
            self._starting = None
        try:
            self.session = session
            self._start_session(session)
            screen = self.make_routine_screen(session)
        except Exception as exc:  # noqa: BLE001 - as above; what it opened is closed
            self.session = None
            self.run_worker(session.close, thread=True, group="close")
            self._cannot_start(exc)
            return
        # lazy: loaded by the assembly's thread (load_run_screens), never on the loop
        from app.tui.screens.routine import RoutineScreen

        early, self._early_notices = self._early_notices or [], None
        if isinstance(screen, RoutineScreen):
            self._run_screen = screen
            for text, kind in early:
                screen.notice(text, kind=kind)
            pending, self._sensor_pending = self._sensor_pending, None
            if pending is not None:  # what the sensor said while the run was assembled
                self._show_sensor_note(pending)
        self.push_screen(screen, functools.partial(self._run_over, routine, side, session))

    def _cannot_start(self, exc: Exception) -> None:
        """The run failed to start: Home stays, and says so (what went wrong, what to do)."""
        self._flush_early_notices()
        self._say(
            f"The run could not be started ({type(exc).__name__}: {exc}). "
            "Press Enter to try again; if it keeps failing, `hiphook run --plain` runs "
            "the routine without the full screen.",
            "warning",
        )

    def _flush_early_notices(self) -> None:
        """No run screen will come: what was kept for it is said now (toasts), and later
        notes are toasts again, not kept for a screen that never shows."""
        early, self._early_notices = self._early_notices or [], None
        for text, kind in early:
            self._say(text, kind)

    def _assemble(
        self, start: _Start, options: RunOptions, routine: Routine, side: str | None
    ) -> Session:
        """On the start's thread: the run, assembled and opened, and its screens loaded.
        If loading fails, what the run opened (socket, sensor reader, cues) is closed."""
        session = self.make_session(options, routine, side)
        try:
            load_run_screens()
        except BaseException:
            session.close()
            raise
        with start.lock:
            if not start.abandoned:
                start.session = session
                return session
        session.close()  # the app closed while this was being assembled
        return session

    def _run_over(
        self, routine: Routine, side: str | None, session: Session, record: RunRecord | None
    ) -> None:
        assert record is not None
        self._run_screen = None  # notices are toasts again
        # On a thread: closing lets the last cue ("well done") finish, up to 3 s.
        self.run_worker(session.close, thread=True, group="close")
        # lazy: loaded on a thread before the run started (load_run_screens)
        from app.tui.screens.summary import SummaryScreen

        summary = SummaryScreen(
            record,
            routine,
            self.pain_before,
            today=self.today,
            loader=self.home_loader,
            store_url=self.store_url,
            verdicts=session.verdicts if session.sensor else None,
            save_note=session.save_note if session.recorder is not None else None,
        )
        self.push_screen(summary, functools.partial(self._summary_closed, routine, side, session))

    def _summary_closed(
        self, routine: Routine, side: str | None, session: Session, after: AfterRun | None
    ) -> None:
        pain_after = after.pain_after if after is not None else None
        outcome = Outcome(session.runner.record, routine, side, self.pain_before, pain_after)
        self.outcomes.append(outcome)
        session.finish(pain_after)
        self.session = None
        self.go_home()

    # ------------------------------------------------------------------ the run
    def make_session(self, options: RunOptions, routine: Routine, side: str | None) -> Session:
        """One run, assembled as the plain face's is, and its files and devices opened.
        Blocking: called on a thread (`_assemble`); the screen subscribes last. If it
        fails, what was already opened is closed before the error goes on."""
        assert self._loop is not None
        session = assemble(
            options,
            routine,
            side,
            clock=self.clock,
            settings=self.settings,
            log=self.session_log,
            pain_before=self.pain_before,
            ring=self.ring,
            note=self.say,
            sensor_factory=self.sensor_factory,
            strict=False,
        )
        try:
            session.runner.on_listener_error = self.say
            if session.sensor is not None:
                session.sensor.on_problem = self.sensor_note
            session.open(self._loop)
            if session.recorder is not None:
                session.recorder.on_error = self.say
        except BaseException:
            session.close()
            raise
        return session

    def _start_session(self, session: Session) -> None:
        """On the loop, once assembled: what needs the loop (no file or device is opened)."""
        session.start(asyncio.get_running_loop())
        for text in session.notes:
            self.say(text)

    def make_routine_screen(self, session: Session) -> Screen[RunRecord]:
        """The screen for a run (the benchmark swaps in a naive one to compare)."""
        # lazy: loaded by the assembly's thread (load_run_screens), never on the loop
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

    def say(self, text: str, *, kind: str = "info") -> None:
        """A one-off note (a cue backend fell back, the sensor is uncalibrated), from any
        thread: during a run on the Routine screen's status line, which never covers the
        clock or the pressure panel; outside a run as a toast."""
        # Through the app's queue, so it runs in the app's context whoever calls.
        if threading.get_ident() == self._thread:
            self.call_later(self._say, text, kind)
        elif self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the app is gone
                self._loop.call_soon_threadsafe(self.call_later, self._say, text, kind)

    def _say(self, text: str, kind: str) -> None:
        if self._run_screen is not None:
            self._run_screen.notice(text, kind=kind)
        elif self._early_notices is not None:  # a run is starting: its screen shows them
            self._early_notices.append((text, kind))
        else:
            self.notify(text, timeout=8, severity="information" if kind == "info" else "warning")

    def log_notice(self, notice: LogNotice) -> None:
        """The log's writer (its thread) says it waits or caught up."""
        self.say(notice.text, kind=notice.kind)

    def sensor_note(self, text: str) -> None:
        """Why the sensor gives nothing (or that it answers now): on the Routine screen's
        status line (no toast during a run), where it stays until the sensor answers."""
        # Posted: this is called from a plain loop callback, outside the app's context.
        self.post_message(self.SensorNoted(text))

    class SensorNoted(Message):
        """Why the run's sensor gives nothing, or that it answers now (status line)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    @on(SensorNoted)
    def _sensor_noted_message(self, message: SensorNoted) -> None:
        self._show_sensor_note(message.text)

    def _show_sensor_note(self, text: str) -> None:
        """On the run's own screen, whatever is on top of it (Help): it queues what it
        cannot show yet. Before the screen exists (the run is being assembled) the last
        word is kept for it (`_start_run` hands it over)."""
        # lazy: the sensor package (pyserial) is loaded by a run with a sensor, the only
        # kind that gets here; a run without one never pays for it
        from app.sensor.attachment import SENSOR_ANSWERS

        screen = self._run_screen
        if screen is None:
            if self.starting:
                self._sensor_pending = text
            return
        if text == SENSOR_ANSWERS:
            screen.take_back(self._sensor_noted)  # the warning it took back
        else:  # it stays, even past the notices of the start shown in turn
            screen.standing(text, kind="warning")
            self._sensor_noted = text

    def action_toggle_theme(self) -> None:
        """Light or dark, whichever reads better in the room (the choice is not kept)."""
        self.theme = self.THEMES[1] if self.theme == self.THEMES[0] else self.THEMES[0]

    def action_help(self) -> None:
        # lazy: it lists every screen's keys, so it loads them all: on a thread after
        # Home's first frame (load_run_screens), not before it
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
        print(f"hiphook: {outcome.message}", file=sys.stderr)
        return EXIT_LOG_INCOMPLETE
    return int(result or 0)

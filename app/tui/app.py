"""The Textual app: a small shell that moves between screens; the screens own behaviour.

`run_tui(routine, side, args)` is what the CLI calls: with a routine it opens the check-in
and then the routine; without one it opens Home.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from app.core.clock import Clock, MonotonicClock, ScaledClock
from app.core.routine import Routine
from app.runner import SessionRunner
from app.tui.homedata import HomeLoader, no_history, session_log_loader
from app.tui.messages import (
    CheckInCancelled,
    CheckInDone,
    Outcome,
    RunEnded,
    StartRequested,
    SummaryClosed,
)

# Called once per run after the check-in, before the run starts: (runner, pain_before).
# The place for the session log's recorder and the sensor's lever (runner.complete_action).
_HERE = Path(__file__).parent  # absolute paths: subclasses may live elsewhere

if TYPE_CHECKING:
    from app.cues import CuePlayer

Attachment = Callable[[SessionRunner, "int | None"], object]


class HiphookApp(App[int]):
    CSS_PATH = [_HERE / "app.tcss", _HERE / "widgets" / "widgets.tcss"]
    TITLE = "hiphook"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("t", "toggle_theme", "Light/dark", show=False)]
    THEMES = ("textual-dark", "textual-light")

    def __init__(
        self,
        routine: Routine | None = None,
        side: str | None = None,
        *,
        clock: Clock | None = None,
        cues: str | None = "auto",
        today: dt.date | None = None,
        home_loader: HomeLoader = no_history,
        store_url: str | None = None,
        attachments: Sequence[Attachment] = (),
        on_outcome: Callable[[Outcome], None] | None = None,
        notes: Sequence[str] = (),
        background: Callable[[Callable[[str], None]], None] | None = None,
        check_in: bool = True,
    ) -> None:
        super().__init__()
        # `hiphook run` goes straight into the routine; Home's Enter asks about pain first.
        self.check_in = check_in
        # Slow start-up work (opening the session log) run in a thread after the first
        # paint; it reports through `say`, which is safe from any thread.
        self.background = background
        self.start_routine = routine
        self.side = side
        self.clock = clock or MonotonicClock()
        self.cues_mode = cues
        self._today = today
        self.home_loader = home_loader
        self.store_url = store_url
        self.attachments = list(attachments)
        self.on_outcome = on_outcome
        self.start_notes = list(notes)
        self.runner: SessionRunner | None = None
        self.cue_player: CuePlayer | None = None
        self.outcomes: list[Outcome] = []
        self._pending: tuple[Routine, str | None] | None = None
        self._pain_before: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None

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
        if self.background is not None:
            job = self.background
            self.run_worker(lambda: job(self.say), thread=True, group="background")
        if self.start_routine is not None:
            self.post_message(StartRequested(self.start_routine, self.side))
        else:
            self.go_home()

    def _show(self, screen: object) -> None:
        """Replace the flow's screen; close any dialog over it first (help, quit)."""
        while len(self.screen_stack) > 2 and isinstance(self.screen, ModalScreen):
            self.pop_screen()
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)  # type: ignore[arg-type]
        else:
            self.push_screen(screen)  # type: ignore[arg-type]

    def go_home(self) -> None:
        from app.tui.screens.home import HomeScreen

        self._show(HomeScreen(self.today, self.home_loader, self.store_url))

    @on(StartRequested)
    def _start_requested(self, message: StartRequested) -> None:
        from app.tui.screens.checkin import CheckInScreen

        self._pending = (message.routine, message.side)
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
        self.runner = self.make_runner(routine, side)
        self._show(self.make_routine_screen(self.runner))

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        from app.tui.screens.summary import SummaryScreen

        if self.runner is None:
            return
        if self.cue_player is not None:
            # Let the last cue ("well done") play before the worker stops.
            self.set_timer(3.0, self.cue_player.close)
        sensor = self.runner.sensor
        self._show(SummaryScreen(message.record, self.runner.routine, self._pain_before,
                                 today=self.today, loader=self.home_loader,
                                 store_url=self.store_url,
                                 verdicts=sensor.coach.verdicts if sensor else None))

    @on(SummaryClosed)
    def _summary_closed(self, message: SummaryClosed) -> None:
        if self.runner is not None and self._pending is not None:
            outcome = Outcome(self.runner.record, self.runner.routine, self._pending[1],
                              self._pain_before, message.pain_after)
            self.outcomes.append(outcome)
            if self.on_outcome is not None:
                try:
                    self.on_outcome(outcome)
                except Exception as exc:  # noqa: BLE001 - keeping the log must not crash
                    self.notify(f"Could not keep the pain answers: {exc}", severity="error")
        self.runner = None
        self._pending = None
        self.go_home()

    # ------------------------------------------------------------------ the run
    def make_runner(self, routine: Routine, side: str | None) -> SessionRunner:
        """One runner per run, with cues and any other attachments (log, sensor) on it."""
        runner = SessionRunner(routine, self.clock, side=side)
        if self.cues_mode != "none":
            from app.cues import attach_cues

            self.cue_player = attach_cues(runner, self.cues_mode, ring=self.ring,
                                          note=self.say)
        for attach in self.attachments:
            attach(runner, self._pain_before)
        return runner

    def make_routine_screen(self, runner: SessionRunner) -> Screen[None]:
        """The screen for a run (the benchmark swaps in a naive one to compare)."""
        from app.tui.screens.routine import RoutineScreen

        return RoutineScreen(runner)

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

    def action_toggle_theme(self) -> None:
        """Light or dark, whichever reads better in the room (the choice is not kept)."""
        self.theme = self.THEMES[1] if self.theme == self.THEMES[0] else self.THEMES[0]

    def action_help(self) -> None:
        from app.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def run_tui(
    routine: Routine | None,
    side: str | None,
    args: argparse.Namespace,
    *,
    clock: Clock | None = None,
    home_loader: HomeLoader = session_log_loader,
    attachments: Sequence[Attachment] = (),
    on_outcome: Callable[[Outcome], None] | None = None,
    background: Callable[[Callable[[str], None]], None] | None = None,
    notes: Sequence[str] = (),
    check_in: bool = True,
) -> int:
    """Open the coach; returns the process exit status."""
    notes = list(notes)
    scale = float(getattr(args, "time_scale", 1.0) or 1.0)
    if clock is None:
        clock = MonotonicClock()
        if scale != 1.0:
            clock = ScaledClock(scale)
            notes.append(f"Time runs ×{scale:g}: for demos only, not a real session.")
    cues = getattr(args, "cues", None)
    if cues is None:
        from app.settings import Settings

        cues = Settings.load().cues or "auto"
    app = HiphookApp(routine, side, clock=clock, cues=cues, home_loader=home_loader,
                     store_url=getattr(args, "db", None), attachments=attachments,
                     on_outcome=on_outcome, notes=notes, background=background,
                     check_in=check_in)
    result = app.run()
    return int(result or 0)

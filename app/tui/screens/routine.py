"""The routine screen: in big blocks the time left (or the phase and rep of a hold, or
what to do at the lever), then what to do now and what comes next.

It renders `runner.engine.view()`; it keeps no time of its own. A 10 Hz display timer and
every runner event trigger a render; each widget holds its content in reactive
attributes, so it repaints only when its text changes and a press step costs almost
nothing while it waits. With a sensor attached, a pressure panel joins in: it draws the
sensor's immutable snapshot on the same timer, and the coach's events (slipped, held
again, the verdict) redraw it at once. The screen runs the session in a worker and,
when the run is over, hands back its record with `dismiss`.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from app.core.coach import CoachEvent
from app.core.engine import HOLD_REASON, Event, RunRecord, State, View
from app.core.routine import StepKind
from app.runner import STOPPED, SessionRunner, format_clock, format_duration
from app.tui.screens.confirm import QuitConfirm
from app.tui.widgets import BigClock, TextBar, TextLine
from app.tui.widgets.pressure import PressurePanel
from app.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:  # not at run time: app.sensor loads pyserial
    from app.sensor.attachment import PressureSnapshot

DISPLAY_HZ = 10
NOTICE_S = 4.0  # each notice of a burst shows this long before the next; the last stays
COMPACT_BELOW = 32  # rows: on a smaller terminal margins go and the sensor panel folds


class PressureFeed(Protocol):
    """What the screen needs of a sensor attachment: snapshots, and its live events."""

    def snapshot(self, now: float) -> PressureSnapshot: ...
    def subscribe(self, listener: Callable[[CoachEvent], None]) -> None: ...
    def unsubscribe(self, listener: Callable[[CoachEvent], None]) -> None: ...


def phase_words(view: View) -> str:
    """The state of the step in words (never only a colour)."""
    step = view.step
    if view.state is State.PAUSED:
        if view.pause_reason == HOLD_REASON:  # a sensor's press: time runs while pressed
            return "WAITING FOR PRESSURE — the time runs while you press"
        return "PAUSED — press Space to go on"
    if view.state is State.FINISHED or step is None:
        return "Routine complete"
    if view.state is State.ABORTED:
        return "Stopped"
    if view.state is State.WAITING:
        return "WAITING — press Enter when done"
    if step.kind in (StepKind.HOLDS, StepKind.REPS) and view.rep is not None:
        noun = "Hold" if step.kind is StepKind.HOLDS else "Raise"
        effort = view.phase in ("push", "up")
        word = (view.phase or "").upper() if effort else (view.phase or "")
        left = ""
        if view.phase_remaining_s is not None:
            left = f"  ({max(0, math.ceil(view.phase_remaining_s - 1e-9))} s)"
        return f"{noun} {view.rep}/{view.reps} — {word}{left}"
    if step.kind is StepKind.PRESS:
        return "Press — keep the pressure on"
    return "Get set"


def big_text(view: View) -> str:
    """What the big blocks say: from the floor, the thing to act on.

    In holds and raises that is the phase and the rep ("PUSH 3"); at an action step,
    the action ("LEVER"); otherwise the time left in the step.
    """
    step = view.step
    if step is None:
        return format_clock(0)
    if step.kind is StepKind.ACTION:
        return step.name.upper()
    if step.kind in (StepKind.HOLDS, StepKind.REPS) and view.rep is not None and view.phase:
        return f"{view.phase.upper()} {view.rep}"
    return format_clock(view.step_remaining_s)


def mood(view: View) -> str:
    """What the phase line stresses: effort, a pause or a wait (shown reversed, not coloured)."""
    if view.state is State.PAUSED:
        return "paused"
    if view.state is State.WAITING:
        return "waiting"
    if view.state is State.RUNNING and view.phase in ("push", "up"):
        return "effort"
    return ""


STOP_WORDS = "stop the routine (asks first: y or Enter stops, the run so far is kept)"


class RoutineScreen(Screen[RunRecord]):
    CSS_PATH = Path(__file__).with_name("routine.tcss")  # absolute: subclasses elsewhere
    BINDINGS = [
        Binding("space", "pause", "Pause/Go on", tooltip="pause, and go on again"),
        Binding("n", "skip", "Skip", tooltip="skip this step"),
        Binding("right", "skip", "Skip", show=False, tooltip="skip this step"),
        Binding("b", "back", "Back", tooltip="go back and restart the previous step"),
        Binding(
            "left", "back", "Back", show=False, tooltip="go back and restart the previous step"
        ),
        Binding(
            "enter", "confirm", "Done", tooltip="done: the lever is set (a sensor can do this)"
        ),
        Binding("i", "howto", "How-to", tooltip="show or hide how to do this step"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "quit_run", "Quit", tooltip=STOP_WORDS),
        Binding("escape", "quit_run", "Quit", show=False, tooltip=STOP_WORDS),
    ]

    def __init__(
        self,
        runner: SessionRunner,
        *,
        pressure: PressureFeed | None = None,
        ready: Callable[[], object] | None = None,
    ) -> None:
        """`ready`: blocks until the cues are rendered; run on a thread before the start."""
        super().__init__()
        self.runner = runner
        self.pressure = pressure
        self.ready = ready
        self.mood = ""
        self.panel: PressurePanel | None = None
        self._closing = False
        self._notices: deque[tuple[str, str]] = deque()
        self._notice_timer: Timer | None = None
        self._standing: tuple[str, str] | None = None  # shown again after a burst
        # The display timer (set on mount): a snapshot pauses it and ticks in step with
        # its fake clock, so the pressure trend is the same on every run.
        self.display_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        # Made here, not in __init__, so a recompose (the benchmark's baseline) gets new ones.
        self.where = TextLine(id="where")
        self.heading = TextLine(id="title")
        self.big = BigClock(id="clock")
        self.phase = TextLine(id="phase")
        self.instruction = TextLine(id="instruction")
        self.step_bar = TextBar("Step   ", id="step-bar")
        self.routine_bar = TextBar("Routine", id="routine-bar")
        self.next_line = TextLine(id="next")
        self.howto = TextLine(id="howto")
        with Vertical(id="body"):
            yield self.where
            yield self.heading
            yield self.big
            yield self.phase
            yield self.instruction
            if self.pressure is not None:
                self.panel = PressurePanel(id="pressure")
                yield self.panel
            yield self.step_bar
            yield self.routine_bar
            yield self.next_line
            yield self.howto
        yield StatusLine(id="status")  # its own row, below the clock and the panel
        yield Footer()

    def on_mount(self) -> None:
        self.runner.subscribe(self.on_runner_event)
        if self.pressure is not None:
            self.pressure.subscribe(self.on_coach_event)
        self.display_timer = self.set_interval(1 / DISPLAY_HZ, self.display_tick, name="display")
        self.run_worker(self._run(), name="session", exclusive=True)
        self.render_view()
        self._next_notice()

    # ------------------------------------------------------------------ notices
    def notice(self, text: str, *, kind: str = "info") -> None:
        """Say something on the status line, never over the clock. A burst at the start
        (time scale, uncalibrated sensor, a cue fallback) is shown in turn, NOTICE_S
        each (display timing only), and the last one stays until the next."""
        self._notices.append((text, kind))
        if self.is_mounted and self._notice_timer is None:
            self._next_notice()

    def standing(self, text: str, *, kind: str = "warning") -> None:
        """A notice that stays until `take_back` (the sensor gives nothing): shown at once
        (first, when the start's burst has not begun), and again once a burst is over."""
        self._standing = (text, kind)
        if not self.is_mounted or (self._notice_timer is None and self._notices):
            self._notices.appendleft((text, kind))  # on_mount begins the burst with it
            return
        self.query_one(StatusLine).say(text, kind=kind)

    def take_back(self, text: str) -> None:
        """The standing notice `text` no longer holds: off the line, and out of the burst."""
        if self._standing is not None and self._standing[0] == text:
            self._standing = None
        self._notices = deque(n for n in self._notices if n[0] != text)
        line = self.query_one(StatusLine)
        if line.text == " ".join(text.split()):
            line.say("")

    def _next_notice(self) -> None:
        self._notice_timer = None
        if self._closing:
            return
        if not self._notices:
            if self._standing is not None:  # the burst is over: the standing one again
                text, kind = self._standing
                self.query_one(StatusLine).say(text, kind=kind)
            return
        text, kind = self._notices.popleft()
        self.query_one(StatusLine).say(text, kind=kind)
        if self._notices or (self._standing is not None and self._standing[0] != text):
            self._notice_timer = self.set_timer(NOTICE_S, self._next_notice)

    def on_resize(self, event: events.Resize) -> None:
        """Below COMPACT_BELOW rows some margins go and the sensor panel folds to one row,
        so the big blocks keep ten rows at 80x24, with a sensor and a notice showing."""
        compact = event.size.height < COMPACT_BELOW
        self.set_class(compact, "-compact")
        self.set_class(self.panel is not None, "-sensor")
        if self.panel is not None:
            self.panel.compact = compact

    async def _run(self) -> None:
        """The session, then its record handed back (a dialog over the screen closes)."""
        if self.ready is not None:
            await asyncio.to_thread(self.ready)
        record = await self.runner.run()
        while self.app.screen is not self and self in self.app.screen_stack:
            await self.app.pop_screen()  # help or the quit question, left open
        if self.app.screen is self:
            self.dismiss(record)

    def on_unmount(self) -> None:
        self._closing = True  # the widgets are going: nothing more to draw
        if self.pressure is not None:
            self.pressure.unsubscribe(self.on_coach_event)
        if not self.runner.done:  # the coach is closing mid-run: cut off, not a choice
            self.runner.abort("the coach was closed", interrupted=True)

    # ------------------------------------------------------------------ rendering
    def on_runner_event(self, event: Event) -> None:
        """Runner events arrive on the event loop; show the boundary at once."""
        self.render_view()

    def on_coach_event(self, event: CoachEvent) -> None:
        """A slip, a recovery or a verdict shows now, not on the next display tick."""
        self.render_view()

    def display_tick(self) -> None:
        """The display timer: the pressure trend takes one sample, then everything redraws."""
        if self.panel is not None and self.pressure is not None and not self._closing:
            t = self.runner.engine.t()
            self.panel.sample(self.pressure.snapshot(t), t)
        self.render_view()

    def render_view(self) -> None:
        """Draw the engine's view; a widget given what it already shows does nothing."""
        if self._closing or not self.is_mounted:
            return
        v = self.runner.engine.view()
        routine = self.runner.routine
        step = v.step
        n = len(routine.steps)
        self.where.text = f"Step {min(v.step_index + 1, n)} of {n} · {routine.title}"
        self.heading.text = step.title() if step else "Well done"
        self.big.value = big_text(v)
        self.mood = mood(v)
        self.phase.text = phase_words(v)
        self.phase.emphasis = bool(self.mood)
        instruction = step.instruction if step else ""
        if v.state is State.PAUSED and v.pause_reason not in ("", "paused", HOLD_REASON):
            instruction = f"Paused: {v.pause_reason}."  # e.g. the computer was asleep
        self.instruction.text = instruction
        if step is None or step.kind is StepKind.ACTION:
            self.step_bar.set(0.0 if step else 1.0, "waiting for you" if step else "done")
        else:
            planned = v.step_planned_s or 1.0
            done_s = planned - v.step_remaining_s
            self.step_bar.set(
                done_s / planned, f"{format_duration(done_s)} of {format_clock(planned)}"
            )
        total = v.total_planned_s or 1.0
        self.routine_bar.set(
            1 - v.total_remaining_s / total, f"{format_clock(v.total_remaining_s)} left"
        )
        self.next_line.text = f"Next: {v.next_step.title()}" if v.next_step else "Next: the summary"
        howto = " ".join((step.howto or step.instruction).split()) if step else ""
        self.howto.text = f"How to: {howto}"
        if self.panel is not None and self.pressure is not None:
            self.panel.show(self.pressure.snapshot(self.runner.engine.t()))

    # ------------------------------------------------------------------ controls
    def action_pause(self) -> None:
        self.runner.toggle_pause()

    def action_skip(self) -> None:
        self.runner.skip()

    def action_back(self) -> None:
        self.runner.back()

    def action_confirm(self) -> None:
        """Enter at an action step. A sensor's lever event calls the same runner method."""
        if self.runner.engine.state is State.WAITING:
            self.runner.complete_action()

    def action_howto(self) -> None:
        self.query_one("#body").toggle_class("-howto")

    def action_quit_run(self) -> None:
        self.app.push_screen(QuitConfirm(), self._quit_answer)

    def _quit_answer(self, stop: bool | None) -> None:
        if stop and not self.runner.done:
            self.runner.abort(STOPPED)  # the user's choice: logged "aborted", as in plain

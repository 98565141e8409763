"""The routine screen: big time left, what to do now, what comes next.

It renders `runner.engine.view()`; it keeps no time of its own. A 10 Hz display timer and
every runner event trigger a render, and each widget repaints only when its text changes,
so a press step costs almost nothing while it waits. With a sensor attached, a pressure
panel joins in: it draws the sensor's immutable snapshot on the same timer, and the
coach's events (slipped, held again, the verdict) redraw it at once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from app.core.coach import CoachEvent
from app.core.engine import HOLD_REASON, Event, EventKind, State, View
from app.core.routine import StepKind
from app.runner import STOPPED, SessionRunner, format_clock, format_duration
from app.tui.messages import RunEnded
from app.tui.widgets import BigClock, TextBar
from app.tui.widgets.pressure import PressurePanel
from app.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:  # not at run time: app.sensor loads pyserial
    from app.sensor.attachment import PressureSnapshot

DISPLAY_HZ = 10


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


class RoutineScreen(Screen[None]):
    # absolute paths: subclasses may live elsewhere
    CSS_PATH = [
        Path(__file__).with_name("routine.tcss"),
        Path(__file__).parent.parent / "widgets" / "pressure.tcss",
    ]
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
        self.renders = 0  # how many renders changed something (the benchmark reads it)
        self._shown: dict[str, object] = {}
        self._ended = False
        self._closing = False
        self.mood = ""
        self.panel: PressurePanel | None = None
        self._step_index = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Static(id="where")
            yield Static(id="title")
            yield BigClock(id="clock")
            yield Static(id="phase")
            yield Static(id="instruction")
            if self.pressure is not None:
                self.panel = PressurePanel(display_hz=DISPLAY_HZ, id="pressure")
                yield self.panel
            yield TextBar("Step   ", id="step-bar")
            yield TextBar("Routine", id="routine-bar")
            yield Static(id="next")
            yield Static(id="howto")
        yield StatusLine(id="status")  # its own row, below the clock and the panel
        yield Footer()

    def on_mount(self) -> None:
        self.runner.subscribe(self.on_runner_event)
        if self.pressure is not None:
            self.pressure.subscribe(self.on_coach_event)
        self.set_interval(1 / DISPLAY_HZ, self.display_tick, name="display")
        self.run_worker(self._run(), name="session", exclusive=True)
        self.render_view()

    async def _run(self) -> None:
        if self.ready is not None:
            await asyncio.to_thread(self.ready)
        await self.runner.run()

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
        if event.kind in (EventKind.FINISHED, EventKind.ABORTED) and not self._ended:
            self._ended = True
            self.post_message(RunEnded(self.runner.record))

    def on_coach_event(self, event: CoachEvent) -> None:
        """A slip, a recovery or a verdict shows now, not on the next display tick."""
        self.render_view()

    def display_tick(self) -> None:
        """The display timer: the pressure trend takes one sample, then everything redraws.

        The step is the one last drawn: every step change is drawn at once (runner event).
        """
        if self.panel is not None and self.pressure is not None and not self._closing:
            self.panel.sample(self.pressure.snapshot(self.runner.engine.t()))
        self.render_view()

    def _put(self, key: str, value: object) -> bool:
        if self._shown.get(key) == value:
            return False
        self._shown[key] = value
        return True

    def render_view(self) -> None:
        """Draw the engine's view; touch only widgets whose content changed."""
        if self._closing or not self.is_mounted:
            return
        v = self.runner.engine.view()
        routine = self.runner.routine
        step = v.step
        n = len(routine.steps)
        changed = False
        where = f"Step {min(v.step_index + 1, n)} of {n} · {routine.title}"
        if self._put("where", where):
            self.query_one("#where", Static).update(where, layout=False)
            changed = True
        title = step.title() if step else "Well done"
        if self._put("title", title):
            self.query_one("#title", Static).update(title, layout=False)
            changed = True
        waiting = step is not None and step.kind is StepKind.ACTION
        digits = "-:--" if waiting else format_clock(v.step_remaining_s)
        if self._put("digits", digits):
            self.query_one("#clock", BigClock).update(digits)
            changed = True
        # Emphasis goes in the content, not in a CSS class: a class change restyles the
        # screen and costs a frame or two at the very moment a boundary should show.
        phase, self.mood = phase_words(v), mood(v)
        if self._put("phase", (phase, self.mood)):
            text = Text(phase, style="reverse" if self.mood else "")
            self.query_one("#phase", Static).update(text, layout=False)
            changed = True
        instruction = step.instruction if step else ""
        if v.state is State.PAUSED and v.pause_reason not in ("", "paused", HOLD_REASON):
            instruction = f"Paused: {v.pause_reason}."  # e.g. the computer was asleep
        if self._put("instruction", instruction):
            self.query_one("#instruction", Static).update(instruction, layout=False)
            changed = True
        if waiting or step is None:
            self.query_one("#step-bar", TextBar).set(
                0.0 if step else 1.0, "waiting for you" if step else "done"
            )
        else:
            planned = v.step_planned_s or 1.0
            done_s = planned - v.step_remaining_s
            self.query_one("#step-bar", TextBar).set(
                done_s / planned, f"{format_duration(done_s)} of {format_clock(planned)}"
            )
        total = v.total_planned_s or 1.0
        self.query_one("#routine-bar", TextBar).set(
            1 - v.total_remaining_s / total, f"{format_clock(v.total_remaining_s)} left"
        )
        nxt = f"Next: {v.next_step.title()}" if v.next_step else "Next: the summary"
        if self._put("next", nxt):
            self.query_one("#next", Static).update(nxt, layout=False)
            changed = True
        howto = " ".join((step.howto or step.instruction).split()) if step else ""
        if self._put("howto", howto):
            self.query_one("#howto", Static).update(f"How to: {howto}", layout=False)
            changed = True
        self._step_index = v.step_index
        if self.panel is not None and self.pressure is not None:
            now = self.runner.engine.t()
            self.panel.show(self.pressure.snapshot(now))
        if changed:
            self.renders += 1

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
        from app.tui.screens.confirm import QuitConfirm

        self.app.push_screen(QuitConfirm(), self._quit_answer)

    def _quit_answer(self, stop: bool | None) -> None:
        if stop and not self.runner.done:
            self.runner.abort(STOPPED)  # the user's choice: logged "aborted", as in plain

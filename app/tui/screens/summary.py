"""The summary: what was done and skipped, how long against the plan, pain before and after.

With a sensor, each press also says how it was judged (confirmed, partial, unverified)
and how long it was really held.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from app.core.engine import RunRecord, State, StepRecord
from app.core.pressure import Verdict, VerdictKind
from app.core.routine import Routine
from app.runner import format_clock, format_duration
from app.tui.homedata import HomeLoader, safe_load
from app.tui.screens.checkin import HIGH_PAIN, digit_bindings
from app.tui.widgets import PainScale
from app.tui.widgets.note_input import NoteInput
from app.tui.widgets.pain import TYPING_HINT

Verdicts = Mapping[int, Verdict]


def _judged(s: StepRecord, verdicts: Verdicts | None) -> Verdict | None:
    """The press's verdict, if it was finished under the sensor (not skipped)."""
    if verdicts is None or not s.completed or s.skipped:
        return None
    return verdicts.get(s.index)


def held_words(v: Verdict) -> str:
    """How long a judged press was held; for an unverified one, why it is unverified."""
    if v.kind is VerdictKind.UNVERIFIED:
        # rounded up: a gap of a split second still made the press unverified
        return f"sensor lost {format_clock(v.lost_s)}" if v.lost_s > 0 else "no reading"
    return f"held {format_duration(v.under_pressure_s)} ({v.share:.0%})"


def step_lines(record: RunRecord, verdicts: Verdicts | None = None) -> list[str]:
    """One line per step; the outcome is a word, never only a colour.

    With `verdicts` (the run had a sensor) a finished press's outcome is its verdict,
    followed by its time under pressure; the column widens to fit "unverified".
    """
    width = max(
        (len(s.name) + (len(s.side) + 3 if s.side else 0) for s in record.steps), default=10
    )
    mark_width = 8 if verdicts is None else 10
    out = []
    for s in record.steps:
        name = f"{s.name} ({s.side})" if s.side else s.name
        mark = "done" if s.completed else ("skipped" if s.skipped else "not done")
        verdict = _judged(s, verdicts)
        if verdict is not None:
            mark = verdict.kind.value
        if s.kind == "action":
            took = f"waited {format_duration(s.waited_s)}"
        else:
            took = f"{format_duration(s.active_s)} of {format_duration(s.planned_s)}"
        line = f"{s.index + 1:>3}. {escape(name):<{width}}  {mark:<{mark_width}}  {took}"
        if verdict is not None:
            line += f"  {held_words(verdict)}"
        out.append(line)
    return out


def presses_line(record: RunRecord, verdicts: Verdicts) -> str:
    """How many of the presses done were confirmed by the sensor."""
    judged = [v for s in record.steps if (v := _judged(s, verdicts)) is not None]
    if not judged:
        return "No press was judged by the sensor."
    confirmed = sum(1 for v in judged if v.kind is VerdictKind.CONFIRMED)
    return f"Sensor: {confirmed} of {len(judged)} presses confirmed as held."


def totals_line(record: RunRecord) -> str:
    done = sum(1 for s in record.steps if s.completed)
    skipped = sum(1 for s in record.steps if s.skipped)
    line = (
        f"{done} of {len(record.steps)} steps done, {skipped} skipped · "
        f"active {format_duration(record.active_s)}"
    )
    if record.waiting_s >= 0.5:
        line += f" + waited {format_duration(record.waiting_s)}"
    # the routine's total, as `routine show` and Home give it
    line += f" (planned {format_clock(record.planned_s)})"
    if record.paused_s >= 0.5:
        line += f" · paused {format_duration(record.paused_s)}"
    return line


@dataclass(frozen=True)
class AfterRun:
    """What the summary hands back when it is closed."""

    pain_after: int | None


class SummaryScreen(Screen[AfterRun]):
    CSS_PATH = Path(__file__).with_name("summary.tcss")  # absolute: subclasses elsewhere
    BINDINGS = [
        *digit_bindings("Pain now"),
        Binding("enter", "close", "Home", tooltip="back to Home (the pain now is kept)"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit", tooltip="leave hiphook"),
    ]

    def __init__(
        self,
        record: RunRecord,
        routine: Routine,
        pain_before: int | None,
        *,
        today: dt.date,
        loader: HomeLoader,
        store_url: str | None,
        verdicts: Verdicts | None = None,
        save_note: Callable[[str], None] | None = None,
    ) -> None:
        """`verdicts` (step index → verdict) only when the run had a sensor; `save_note`
        (blocking, run off the loop by NoteInput) only when the run is in a log."""
        super().__init__()
        self.save_note = save_note
        self.record = record
        self.verdicts = dict(verdicts) if verdicts is not None else None
        self.routine = routine
        self.pain_before = pain_before
        self.pain_after: int | None = None
        self.streak: int | None = None
        self.today = today
        self.loader = loader
        self.store_url = store_url

    def compose(self) -> ComposeResult:
        if self.record.state is State.FINISHED:
            head = f"Routine complete: {escape(self.routine.title)}. Well done."
        elif self.record.interrupted:
            head = "Interrupted. The run so far is kept, marked as interrupted."
        else:
            head = "Stopped early. The run so far is kept, marked as stopped."
        with Vertical(id="body"):
            yield Static(head, id="headline")
            totals = totals_line(self.record)
            if self.verdicts is not None:
                totals += "\n" + presses_line(self.record, self.verdicts)
            yield Static(totals, id="totals")
            yield Static("\n".join(step_lines(self.record, self.verdicts)), id="steps")
            yield Static(id="pain")
            yield PainScale(id="scale")
            if self.save_note is not None:
                yield NoteInput(self.save_note, id="note")
            yield Static(id="streak")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        self.load_streak()

    @work(exclusive=True, group="summary-data")
    async def load_streak(self) -> None:
        """The streak, read on a thread: a real log imports the database layer."""
        data = await asyncio.to_thread(safe_load, self.loader, self.today, self.store_url)
        self.streak = data.streak_days
        self._show()

    def _show(self) -> None:
        before = "not given" if self.pain_before is None else f"{self.pain_before}/10"
        after = TYPING_HINT if self.pain_after is None else f"{self.pain_after}/10"
        pain = f"Pain before: {before} · pain now: {after}"
        if self.pain_after is not None and self.pain_after >= HIGH_PAIN:
            pain += "\nStill a lot of pain: rest it, and see a physical therapist if it stays."
        self.query_one("#pain", Static).update(pain)
        self.query_one(PainScale).choose(self.pain_after)
        if self.streak is None:
            streak = "Streak: no history yet"
        else:
            streak = f"Streak: {self.streak} day{'s' if self.streak != 1 else ''}"
        self.query_one("#streak", Static).update(f"{streak} · Enter: back to Home")

    def action_pain(self, n: int) -> None:
        self.pain_after = n
        self._show()

    def action_adjust(self, delta: int) -> None:
        base = self.pain_after if self.pain_after is not None else 0
        self.pain_after = max(0, min(10, base + delta))
        self._show()

    @on(PainScale.Chosen)
    def _clicked(self, message: PainScale.Chosen) -> None:
        self.action_pain(message.value)

    def action_close(self) -> None:
        self.dismiss(AfterRun(self.pain_after))

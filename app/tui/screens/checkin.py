"""The optional check-in: how much the ankle or foot hurts now, 0-10, before starting."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from app.core.routine import Routine
from app.tui.widgets import PainScale
from app.tui.widgets.pain import TYPING_HINT

HIGH_PAIN = 7
HIGH_PAIN_NOTE = (
    "That is a lot of pain. Rest and treat the pain itself first; if it does not ease, "
    "see a physical therapist. You can still start the routine if you want to."
)


def digit_bindings(description: str) -> list[Binding]:
    """0-9 and the arrows at the screen's level, for a screen whose `PainScale` may lack
    the focus (the scale's own bindings, which also type 10, win while it has it)."""
    out = [Binding("0", "pain(0)", description, key_display="0-9")]
    out += [Binding(str(n), f"pain({n})", description, show=False) for n in range(1, 10)]
    out += [
        Binding("right", "adjust(1)", "More", show=False),
        Binding("left", "adjust(-1)", "Less", show=False),
    ]
    return out


def pain_line(pain: int | None, unanswered: str) -> str:
    if pain is None:
        return unanswered
    return f"Your answer: {pain} out of 10" + (f"\n\n{HIGH_PAIN_NOTE}" if pain >= HIGH_PAIN else "")


@dataclass(frozen=True)
class CheckInAnswer:
    """The check-in's answer: the pain 0-10, or None when it was skipped."""

    pain: int | None


class CheckInScreen(Screen[CheckInAnswer | None]):
    """Hands back a `CheckInAnswer` (start the run), or None (back to Home)."""

    pain: reactive[int | None] = reactive(None)  # the answer; None until one is given

    CSS_PATH = Path(__file__).with_name("checkin.tcss")  # absolute: subclasses elsewhere
    BINDINGS = [  # the digits and arrows belong to the scale, which has the focus
        Binding("enter", "start", "Start", tooltip="start the routine with this answer"),
        Binding("s", "skip", "Skip", tooltip="start without answering"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "cancel", "Home", tooltip="back to Home; nothing is started"),
        Binding("escape", "cancel", "Home", show=False, tooltip="back to Home; nothing is started"),
    ]

    def __init__(self, routine: Routine, side: str | None) -> None:
        super().__init__()
        self.routine = routine
        self.side = side

    def compose(self) -> ComposeResult:
        side = f", {self.side} side tight" if self.side else ""
        with Vertical(id="body"):
            yield Static(f"Before you start: {escape(self.routine.title)}{side}", id="heading")
            yield Static("How much does your ankle or foot hurt right now?", id="question")
            yield Static("0 = no pain at all, 10 = the worst you can imagine.", id="scale-help")
            yield PainScale(id="scale")
            yield Static(id="answer")
        yield Footer()

    def watch_pain(self, pain: int | None) -> None:
        self.query_one(PainScale).choose(pain)
        self.query_one("#answer", Static).update(
            pain_line(pain, f"{TYPING_HINT.capitalize()}; then Enter. Press s to skip.")
        )
        self.set_class(pain is not None and pain >= HIGH_PAIN, "-high")

    @on(PainScale.Chosen)
    def _chosen(self, message: PainScale.Chosen) -> None:
        self.pain = message.value

    def action_start(self) -> None:
        self.dismiss(CheckInAnswer(self.pain))

    def action_skip(self) -> None:
        self.dismiss(CheckInAnswer(None))

    def action_cancel(self) -> None:
        self.dismiss(None)

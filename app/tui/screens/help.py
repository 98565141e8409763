"""Every key in one place, and the one statement that this is not medical advice."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "During the routine",
        (
            ("Space", "pause, and go on again"),
            ("n  or  →", "skip this step"),
            ("b  or  ←", "go back and restart the previous step"),
            ("Enter", "done: the lever is set (a sensor can do this for you)"),
            ("i", "show or hide how to do this step"),
            ("q  or  Esc", "stop (asks first; the run so far is kept)"),
        ),
    ),
    (
        "Home",
        (
            ("Enter", "start the routine"),
            ("r", "choose another routine"),
            ("s", "change the tight side"),
            ("h", "history, when the session log is there"),
            ("q", "leave hiphook"),
        ),
    ),
    (
        "Check-in and summary",
        (
            ("0 … 9", "how much the ankle or foot hurts now"),
            ("← →", "one less, one more (up to 10)"),
            ("Enter", "start the routine / back to Home"),
            ("s", "skip the check-in"),
        ),
    ),
)

NOT_ADVICE = (
    "hiphook helps you keep a routine; it is not medical advice. If pain is strong, "
    "sharp, or does not ease, stop and see a physical therapist or a doctor."
)


def help_text() -> str:
    lines: list[str] = []
    for section, keys in KEYS:
        lines.append(f"[b]{section}[/b]")
        lines.extend(f"  {key:<12} {what}" for key, what in keys)
    lines.append("[b]?[/b] shows this help anywhere, Esc closes it; [b]t[/b] light or dark.")
    lines.append("")
    lines.append(NOT_ADVICE)
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")  # absolute: subclasses elsewhere
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("enter", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_text(), id="keys")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys (Esc to close)"

    def action_close(self) -> None:
        self.dismiss(None)

"""Ask before stopping a run: a stray key must not end a session lying on the floor."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class QuitConfirm(ModalScreen[bool]):
    CSS_PATH = Path(__file__).with_name("confirm.tcss")  # absolute: subclasses elsewhere
    AUTO_FOCUS = None  # no button takes focus, so Enter always means "stop"
    BINDINGS = [
        Binding("y", "answer(True)", "Stop", tooltip="stop the routine (the run so far is kept)"),
        Binding(
            "enter",
            "answer(True)",
            "Stop",
            show=False,
            tooltip="stop the routine (the run so far is kept)",
        ),
        Binding("n", "answer(False)", "Keep going", tooltip="keep going"),
        Binding("escape", "answer(False)", "Keep going", show=False, tooltip="keep going"),
        Binding("q", "answer(False)", "Keep going", show=False, tooltip="keep going"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Stop the routine?", id="question")
            yield Static("What you have done so far is kept, marked as interrupted.")
            with Horizontal(id="buttons"):
                yield Button("Stop (y / Enter)", id="stop", variant="error")
                yield Button("Keep going (n / Esc)", id="keep", variant="primary")

    def action_answer(self, stop: bool) -> None:
        self.dismiss(stop)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "stop")

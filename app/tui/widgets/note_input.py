"""A short note on the session just done, typed at the summary and kept in the log.

Self-contained: `NoteInput(save)` where `save(text)` writes the note (blocking; it runs
on a thread worker, never on the event loop) and raises on failure. Tab reaches the
field, Enter saves, Escape leaves it without saving; the line under it says which, and
whether the note was saved. The text typed is kept in the field when saving fails.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static

NOTE_LIMIT = 500  # characters; the same as `hiphook history note`
HINT = "Note (Tab to write, Enter saves, Esc leaves):"


def clean(text: str) -> str:
    """One line, single spaces: what is stored, here and from `hiphook history note`."""
    return " ".join(text.split())


class NoteInput(Widget):
    """An input for the session's note, with a status line that says what happened."""

    DEFAULT_CSS = """
    NoteInput {
        layout: horizontal;
        height: auto;
    }
    NoteInput > #note-status {
        width: auto;
        height: auto;
        padding-right: 1;
    }
    NoteInput > Input {
        width: 1fr;
        max-width: 72;
        height: 1;
        border: none;
        padding: 0;
    }
    """
    BINDINGS = [Binding("escape", "leave", "Leave the note", show=False)]

    status: reactive[str] = reactive(HINT, init=False)
    saved: reactive[str | None] = reactive(None)  # the text last saved, once saved

    class Saved(Message):
        """The note is in the log."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, save: Callable[[str], None], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._save_fn = save

    def compose(self) -> ComposeResult:
        yield Static(escape(self.status), id="note-status")
        yield Input(
            placeholder="how it felt, what you changed",
            max_length=NOTE_LIMIT,
            id="note-text",
        )

    def watch_status(self, text: str) -> None:
        self.query_one("#note-status", Static).update(escape(text))

    @on(Input.Submitted, "#note-text")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = clean(event.value)
        self.status = "Saving the note…:"
        self.save(text)

    @work(thread=True, exclusive=True, group="note-save")
    def save(self, text: str) -> None:
        """Write the note off the event loop; say what happened either way."""
        try:
            self._save_fn(text)
        except Exception as err:  # noqa: BLE001 - any failure is said, the text stays typed
            self.app.call_from_thread(self._failed, str(err) or type(err).__name__)
            return
        self.app.call_from_thread(self._done, text)

    def _done(self, text: str) -> None:
        self.saved = text
        self.status = "Note removed:" if not text else "Note saved (history, report):"
        self.post_message(self.Saved(text))
        self.action_leave()

    def _failed(self, message: str) -> None:
        self.status = f"Note NOT saved ({message}); Enter tries again:"

    def action_leave(self) -> None:
        """Back to the screen's own keys (the pain scale), the text left as it is."""
        if self.query_one(Input).has_focus:
            self.screen.focus_previous()

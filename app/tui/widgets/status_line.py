"""One line of run-time notices (the log is waiting, the sensor is lost, ...).

Toasts pop up over whatever is there, the big clock included, and go away on their own
timer; a notice that matters for the whole run (the log cannot be written) must stay
until it is taken back. This line sits in the screen's layout, below the content and
above the footer, so it takes its own row and can never cover the clock or the pressure
panel. Empty, it takes no row at all, so a run without notices looks as before.

The kind is said in words as well as in colour ("Warning:", "Error:"), so nothing
depends on colour alone.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

KINDS = ("info", "warning", "error")
_PREFIX = {"info": "", "warning": "Warning: ", "error": "Error: "}


class StatusLine(Static):
    """Shows the latest notice; `say("")` clears it and gives its row back."""

    DEFAULT_CSS: ClassVar[str] = """
    StatusLine {
        height: 1;
        width: 1fr;
        padding: 0 1;
        display: none;
        background: $panel;
        color: $text;
    }
    StatusLine.-shown {
        display: block;
    }
    StatusLine.-warning {
        background: $warning 30%;
        text-style: bold;
    }
    StatusLine.-error {
        background: $error 40%;
        text-style: bold;
    }
    """

    text: reactive[str] = reactive("", layout=True)
    kind: reactive[str] = reactive("info")

    def say(self, text: str, *, kind: str = "info") -> None:
        """Show `text` (one line; longer text is cut at the edge) as info, warning or error.

        An empty text clears the line. Raises ValueError for an unknown kind, so a typo
        cannot pass as a quiet "info".
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self.kind = kind
        self.text = " ".join(text.split())  # one line: a newline would need a second row

    def watch_text(self, text: str) -> None:
        self._show()

    def watch_kind(self, kind: str) -> None:
        self._show()

    def _show(self) -> None:
        for k in KINDS:
            self.set_class(bool(self.text) and k == self.kind and k != "info", f"-{k}")
        self.set_class(bool(self.text), "-shown")
        prefix = _PREFIX.get(self.kind, "")
        self.update(Text(prefix + self.text, no_wrap=True, overflow="ellipsis"))

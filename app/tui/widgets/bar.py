"""A progress bar drawn with full and light blocks plus words, readable without colour.

Textual's ProgressBar tells filled from empty by colour only and runs its own clock for
the ETA; this one shows what the engine says. The fraction is a reactive that repaints
nothing by itself: its watcher turns it into whole cells, and only a change of cells or
of the words repaints the bar.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widget import Widget

FULL = "█"
EMPTY = "░"


class TextBar(Widget):
    DEFAULT_CSS = """
    TextBar {
        height: 1;
        width: 1fr;
    }
    TextBar > .textbar--caption {
        text-style: bold;
    }
    TextBar > .textbar--filled {
        color: $accent;
    }
    TextBar > .textbar--empty {
        color: $foreground-muted;
    }
    """
    COMPONENT_CLASSES = {"textbar--filled", "textbar--empty", "textbar--caption"}

    fraction: reactive[float] = reactive(0.0, repaint=False)
    right: reactive[str] = reactive("")
    filled: reactive[int] = reactive(0)  # whole cells, derived from the fraction

    def __init__(self, caption: str, *, right_width: int = 15, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = caption
        self.right_width = right_width  # a fixed width keeps stacked bars aligned

    def _bar_width(self) -> int:
        return max(4, self.size.width - len(self.caption) - self.right_width - 2)

    def _cells(self) -> int:
        return int(min(1.0, max(0.0, self.fraction)) * self._bar_width())

    def watch_fraction(self) -> None:
        self.filled = self._cells()

    def on_resize(self, event: events.Resize) -> None:
        self.filled = self._cells()

    def set(self, fraction: float, right: str) -> None:
        """Show `fraction` (0..1) and the words at the right."""
        self.fraction = fraction
        self.right = right

    def render(self) -> Text:
        width = self._bar_width()
        filled = min(self.filled, width)
        return Text.assemble(
            (self.caption, self.get_component_rich_style("textbar--caption")),
            " ",
            (FULL * filled, self.get_component_rich_style("textbar--filled")),
            (EMPTY * (width - filled), self.get_component_rich_style("textbar--empty")),
            " ",
            self.right.rjust(self.right_width),
            no_wrap=True,
        )

"""A progress bar drawn with full and light blocks plus words, readable without colour.

Textual's ProgressBar tells filled from empty by colour only and runs its own clock for
the ETA; this one shows what the engine says and repaints only when a cell changes.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

FULL = "█"
EMPTY = "░"


class TextBar(Widget):
    COMPONENT_CLASSES = {"textbar--filled", "textbar--empty", "textbar--caption"}

    def __init__(self, caption: str, *, right_width: int = 15, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = caption
        self.right_width = right_width  # a fixed width keeps stacked bars aligned
        self.fraction = 0.0
        self.right = ""
        self._drawn: tuple[int, int, str] | None = None

    def _bar_width(self) -> int:
        return max(4, self.size.width - len(self.caption) - self.right_width - 2)

    def set(self, fraction: float, right: str) -> None:
        """Show `fraction` (0..1) and the text at the right; repaint only on a visible change."""
        self.fraction = min(1.0, max(0.0, fraction))
        self.right = right
        width = self._bar_width()
        key = (width, int(self.fraction * width), right)
        if key != self._drawn:
            self._drawn = key
            self.refresh()

    def render(self) -> Text:
        width = self._bar_width()
        filled = int(self.fraction * width)
        self._drawn = (width, filled, self.right)
        return Text.assemble(
            (self.caption, self.get_component_rich_style("textbar--caption")),
            " ",
            (FULL * filled, self.get_component_rich_style("textbar--filled")),
            (EMPTY * (width - filled), self.get_component_rich_style("textbar--empty")),
            " ",
            self.right.rjust(self.right_width),
            no_wrap=True,
        )

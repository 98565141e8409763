"""A line (or a few) of plain text held in a reactive attribute.

Setting `text` to what it already shows does nothing; a new value repaints this widget
alone, never the layout. The text is never read as markup, so a routine's own title
with brackets in it shows as written.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class TextLine(Widget):
    """Plain text; `emphasis` reverses it (the state is in the words, not a colour)."""

    DEFAULT_CSS = """
    TextLine {
        height: auto;
    }
    """

    text: reactive[str] = reactive("")
    emphasis: reactive[bool] = reactive(False)

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(TextLine.text, text)

    def render(self) -> Text:
        # Emphasis goes in the content, not in a CSS class: a class change restyles the
        # screen and costs a frame or two at the very moment a boundary should show.
        return Text(self.text, style="reverse" if self.emphasis else "")

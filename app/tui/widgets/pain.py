"""A 0-10 pain scale on one line: keys pick a number, a click picks the one under it."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

MAX_PAIN = 10
_CELL = 5  # characters per number: " [7] " marks the choice with brackets, not colour


class PainScale(Widget):
    COMPONENT_CLASSES = {"painscale--chosen"}

    class Chosen(Message):
        """A number was picked with the mouse (keys are handled by the screen)."""

        def __init__(self, value: int) -> None:
            super().__init__()
            self.value = value

    def __init__(self, value: int | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.value = value

    def choose(self, value: int | None) -> None:
        if value is not None:
            value = max(0, min(MAX_PAIN, value))
        if value != self.value:
            self.value = value
            self.refresh()

    def render(self) -> Text:
        out = Text(no_wrap=True)
        chosen = self.get_component_rich_style("painscale--chosen")
        for n in range(MAX_PAIN + 1):
            if n == self.value:
                out.append(f"[{n}]".center(_CELL), chosen)
            else:
                out.append(f"{n}".center(_CELL))
        return out

    def on_click(self, event: events.Click) -> None:
        n = event.x // _CELL
        if 0 <= n <= MAX_PAIN:
            self.choose(n)
            self.post_message(self.Chosen(n))

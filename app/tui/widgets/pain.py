"""A 0-10 pain scale on one line, which owns its keys: digits, arrows, and a click.

10 has two digits, so a key alone cannot pick it: "1" then "0" typed within
`TYPE_WINDOW_S` of each other make 10, while a "0" typed later is 0 again. The window is
read from the monotonic clock (`now`, injectable for tests), never from counting keys.
Every change the user makes is posted as `PainScale.Chosen`, whatever made it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

MAX_PAIN = 10
TYPE_WINDOW_S = 1.0  # how long after "1" a "0" still makes 10
PAIN_WORDS = f"how much it hurts now; for {MAX_PAIN}, type 1 then 0 quickly"
_CELL = 5  # characters per number: " [7] " marks the choice with brackets, not colour

# What the prompts say (mid-sentence; capitalize to start one), one text for all of them.
TYPING_HINT = f"type 0 to {MAX_PAIN} (for {MAX_PAIN}, 1 then 0 quickly), use ← →, or click"


class PainScale(Widget, can_focus=True):
    """The scale takes the focus on its screen, so its keys reach it first."""

    DEFAULT_CSS = """
    PainScale {
        height: 1;
        width: 55;
    }
    PainScale > .painscale--chosen {
        text-style: bold reverse;
    }
    """
    COMPONENT_CLASSES = {"painscale--chosen"}
    BINDINGS = [
        Binding("0", "digit(0)", "Pain", key_display=f"0-{MAX_PAIN}", tooltip=PAIN_WORDS),
        *(
            Binding(str(n), f"digit({n})", "Pain", show=False, tooltip=PAIN_WORDS)
            for n in range(1, 10)
        ),
        Binding("right", "adjust(1)", "One more", show=False, tooltip="one more"),
        Binding("left", "adjust(-1)", "One less", show=False, tooltip="one less"),
    ]

    value: reactive[int | None] = reactive(None)

    class Chosen(Message):
        """The user picked a number, by key or by mouse."""

        def __init__(self, value: int) -> None:
            super().__init__()
            self.value = value

    def __init__(
        self,
        value: int | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.now = now
        self._typed = ""  # the digits typed so far, while the window is open
        self._typed_at = 0.0
        self.set_reactive(PainScale.value, _clamp(value))

    def choose(self, value: int | None) -> None:
        """Show `value` (the screen's answer); posts nothing."""
        self.value = _clamp(value)

    def type_digit(self, digit: int) -> int:
        """The number that typing `digit` now makes: it extends the last key's number
        when that came within the window and the result is still on the scale."""
        now = self.now()
        extended = self._typed + str(digit)
        if self._typed and now - self._typed_at < TYPE_WINDOW_S and int(extended) <= MAX_PAIN:
            self._typed = extended
        else:
            self._typed = str(digit)
        self._typed_at = now
        return int(self._typed)

    def _pick(self, value: int) -> None:
        self.value = _clamp(value)
        assert self.value is not None
        self.post_message(self.Chosen(self.value))

    def action_digit(self, digit: int) -> None:
        self._pick(self.type_digit(digit))

    def action_adjust(self, delta: int) -> None:
        self._typed = ""  # an arrow ends the typing: "1", →, "0" is 0
        self._pick((self.value if self.value is not None else 0) + delta)

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
            self._typed = ""
            self._pick(n)


def _clamp(value: int | None) -> int | None:
    return None if value is None else max(0, min(MAX_PAIN, value))

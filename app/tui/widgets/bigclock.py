"""Time left in solid block digits, as large as the space allows.

The runner reads this from the floor a metre or two away. Textual's `Digits` is three
rows of thin box lines at any terminal size; these digits are five rows of full blocks at
80x24 and grow in whole steps (10, 15, ... rows) on bigger terminals.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

# A 3x5 pixel font; each pixel is drawn two cells wide so it comes out about square.
FONT: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    ":": (".", "#", ".", "#", "."),
    "-": ("...", "...", "###", "...", "..."),
    " ": ("...", "...", "...", "...", "..."),
}
FONT_ROWS = 5
BLOCK = "█"


def pixel_rows(value: str) -> list[str]:
    """The value as rows of '#' and '.', one pixel column gap between glyphs."""
    glyphs = [FONT.get(ch, FONT[" "]) for ch in value]
    return [".".join(g[row] for g in glyphs) for row in range(FONT_ROWS)]


def fit_scale(value: str, width: int, height: int, max_scale: int = 6) -> int:
    """The largest whole scale at which the value fits; 0 when even scale 1 does not."""
    px = len(pixel_rows(value)[0]) if value else 0
    scale = 0
    for s in range(1, max_scale + 1):
        if px * 2 * s <= width and FONT_ROWS * s <= height:
            scale = s
    return scale


def render_big(value: str, scale: int) -> list[str]:
    """Text rows of the value drawn with blocks at `scale` (scale rows per pixel row)."""
    out: list[str] = []
    for row in pixel_rows(value):
        line = "".join((BLOCK if px == "#" else " ") * 2 * scale for px in row)
        out.extend([line] * scale)
    return out


class BigClock(Widget):
    """Shows a short time string ("1:30", "-:--"); repaints only when it changes."""

    def __init__(self, value: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.value = value

    def update(self, value: str) -> None:
        if value != self.value:
            self.value = value
            self.refresh()  # the widget's size is set by the layout, never by the value

    def render(self) -> Text:
        width, height = self.size
        scale = fit_scale(self.value, width, height)
        if scale == 0:  # a tiny terminal: plain text, still readable
            return Text(self.value, justify="center", style="bold")
        rows = render_big(self.value, scale)
        top = (height - len(rows)) // 2
        pad = max(0, (width - len(rows[0])) // 2)
        lines = [""] * top + [" " * pad + r for r in rows]
        return Text("\n".join(lines), no_wrap=True, style="bold")

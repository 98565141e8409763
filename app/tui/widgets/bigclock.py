"""Big block text: the time left, or in a hold the phase and the rep, as large as fits.

The runner reads this from the floor a metre or two away. Textual's `Digits` is three
rows of thin box lines at any terminal size and has no letters; these glyphs are five
rows of full blocks at 80x24 and grow in whole steps (10, 15, ... rows) on bigger
terminals. Letters and digits share one 3x5 pixel font, so "PUSH 3" and "1:30" are drawn
alike.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

# A 3x5 pixel font; each pixel is drawn two cells wide so it comes out about square.
# O is rounded and D has cut corners, so neither reads as the digit 0.
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
    "A": (".#.", "#.#", "###", "#.#", "#.#"),
    "B": ("##.", "#.#", "##.", "#.#", "##."),
    "C": (".##", "#..", "#..", "#..", ".##"),
    "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "##.", "#..", "###"),
    "F": ("###", "#..", "##.", "#..", "#.."),
    "G": (".##", "#..", "#.#", "#.#", ".##"),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "J": ("..#", "..#", "..#", "#.#", ".#."),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "M": ("#.#", "###", "###", "#.#", "#.#"),
    "N": ("##.", "#.#", "#.#", "#.#", "#.#"),
    "O": (".#.", "#.#", "#.#", "#.#", ".#."),
    "P": ("##.", "#.#", "##.", "#..", "#.."),
    "Q": (".#.", "#.#", "#.#", "##.", ".##"),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "S": (".##", "#..", ".#.", "..#", "##."),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "V": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "W": ("#.#", "#.#", "###", "###", "#.#"),
    "X": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
    "Z": ("###", "..#", ".#.", "#..", "###"),
    ":": (".", "#", ".", "#", "."),
    "-": ("...", "...", "###", "...", "..."),
    "/": ("..#", "..#", ".#.", "#..", "#.."),
    " ": ("..", "..", "..", "..", ".."),
}
FONT_ROWS = 5
BLOCK = "█"


def drawable(value: str) -> bool:
    """Whether every character of `value` has a glyph (otherwise it is shown as text)."""
    return all(ch in FONT for ch in value)


def pixel_rows(value: str) -> list[str]:
    """The value as rows of '#' and '.', one pixel column gap between glyphs."""
    glyphs = [FONT.get(ch, FONT[" "]) for ch in value]
    return [".".join(g[row] for g in glyphs) for row in range(FONT_ROWS)]


MAX_ROWS_PER_PIXEL = 6


def fit(value: str, width: int, height: int) -> tuple[int, int]:
    """The largest pixel, as (columns, rows), at which the value fits; (0, 0) if none.

    Height matters most from the floor, so the tallest rows come first. A pixel of two
    columns per row is square; a long word ("RELAX 10") may narrow it to one column per
    row, condensed letters twice as tall as they are wide, rather than drawing it small.
    """
    px = len(pixel_rows(value)[0]) if value else 0
    if px == 0:
        return (0, 0)
    for rows in range(min(MAX_ROWS_PER_PIXEL, height // FONT_ROWS), 0, -1):
        cols = min(2 * rows, width // px)
        if cols >= rows:
            return (cols, rows)
    return (0, 0)


def render_big(value: str, cols: int, rows: int | None = None) -> list[str]:
    """Text rows of the value drawn with blocks, each pixel `cols` wide and `rows` tall
    (square by default: two columns per row)."""
    rows = rows if rows is not None else max(1, cols // 2)
    out: list[str] = []
    for row in pixel_rows(value):
        line = "".join((BLOCK if px == "#" else " ") * cols for px in row)
        out.extend([line] * rows)
    return out


class BigClock(Widget):
    """Shows a short string ("1:30", "PUSH 3", "LEVER"); a new value repaints it."""

    DEFAULT_CSS = """
    BigClock {
        height: 1fr;
        min-height: 5;
    }
    """

    value: reactive[str] = reactive("")

    def __init__(self, value: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(BigClock.value, value)

    def render(self) -> Text:
        width, height = self.size
        value = self.value
        cols, rows = fit(value, width, height) if drawable(value) else (0, 0)
        if cols == 0:  # a tiny terminal or a word without glyphs: plain text, still readable
            top = max(0, (height - 1) // 2)
            return Text("\n" * top + value, justify="center", style="bold")
        drawn = render_big(value, cols, rows)
        top = (height - len(drawn)) // 2
        pad = max(0, (width - len(drawn[0])) // 2)
        lines = [""] * top + [" " * pad + r for r in drawn]
        return Text("\n".join(lines), no_wrap=True, style="bold")

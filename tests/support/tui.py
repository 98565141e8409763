"""Drive the real coach with the Pilot on a fake clock: the shared steps of the TUI tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from app.core.clock import FakeClock
from app.core.routine import Routine, load_routine
from app.session import RunOptions
from app.tui.app import HiphookApp
from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.routine import DISPLAY_HZ, RoutineScreen
from app.tui.widgets import BigClock

TODAY = dt.date(2025, 3, 4)  # a Tuesday; frozen so Home's week is the same every run
SIZE = (80, 24)


def daily() -> Routine:
    return load_routine("daily").for_side("left")


def make_app(
    routine: Routine | None = None, *, cues: str = "none", **kw: Any
) -> tuple[HiphookApp, FakeClock]:
    clock = FakeClock()
    app = HiphookApp(
        routine,
        "left" if routine else None,
        options=RunOptions(cues=cues),
        clock=clock,
        today=TODAY,
        **kw,
    )
    return app, clock


def drive(
    app: HiphookApp,
    body: Callable[[Pilot[int]], Awaitable[None]],
    size: tuple[int, int] = SIZE,
    *,
    notifications: bool = False,
) -> None:
    """Run `body` against the app; `notifications=True` draws toasts too."""

    async def main() -> None:
        async with app.run_test(size=size, notifications=notifications) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(main())
    if app.session_log is not None:  # as run_tui does at exit: the log's writer is done
        app.session_log.close()


async def settle(pilot: Pilot[int]) -> None:
    """Let the runner's task wake, poll and dispatch, and the screen repaint."""
    for _ in range(3):
        await pilot.pause()


async def display_tick(pilot: Pilot[int]) -> None:
    """Wait for the display timer: time passing without a boundary shows on its next tick."""
    await pilot.pause(1.5 / DISPLAY_HZ)
    await settle(pilot)


# Rich's SVG export places each run of text at x = column * 12.2 (its 0.61 font aspect on
# 20 px rows) on the row named by its clip path.
_CHAR_W = 20 * 0.61
_TEXT = re.compile(
    r'<text [^>]*?x="([\d.]+)"[^>]*?clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>([^<]*)</text>'
)


def screen_text(app: HiphookApp) -> str:
    """The screen as plain text, trailing spaces removed (what a snapshot compares).

    Read from `App.export_screenshot()`, Textual's public SVG of the whole screen (the
    screens beneath a dialog included), by putting each run of text back at its column.
    """
    rows: dict[int, list[str]] = {}
    for x, line, text in _TEXT.findall(app.export_screenshot()):
        row = rows.setdefault(int(line), [])
        col = round(float(x) / _CHAR_W)
        plain = html.unescape(text).replace("\xa0", " ")
        row.extend(" " * (col + len(plain) - len(row)))
        row[col : col + len(plain)] = plain
    return "\n".join("".join(rows.get(n, [])).rstrip() for n in range(app.size.height))


def routine_screen(app: HiphookApp) -> RoutineScreen:
    screen = app.screen
    assert isinstance(screen, RoutineScreen), type(screen)
    return screen


def digits(app: HiphookApp) -> str:
    return routine_screen(app).query_one("#clock", BigClock).value


async def start_run(pilot: Pilot[int], pain: str = "s") -> RoutineScreen:
    """From the check-in: skip it (s) or answer a number and press Enter."""
    assert isinstance(pilot.app.screen, CheckInScreen)
    if pain == "s":
        await pilot.press("s")
    else:
        await pilot.press(*pain, "enter")
    await settle(pilot)
    return routine_screen(pilot.app)  # type: ignore[arg-type]

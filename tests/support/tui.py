"""Drive the real coach with the Pilot on a fake clock: the shared steps of the TUI tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Awaitable, Callable
from typing import Any

from rich.console import Console
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


def drive(app: HiphookApp, body: Callable[[Pilot[int]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
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


def screen_text(app: HiphookApp) -> str:
    """The screen as plain text, trailing spaces removed (what a snapshot compares)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


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

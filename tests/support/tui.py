"""Drive the real coach with the Pilot on a fake clock: the shared steps of the TUI tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual.message import Message
from textual.pilot import Pilot

from app.core.clock import FakeClock
from app.core.protocol import LeverEvent
from app.core.routine import Routine, load_routine
from app.runner import SessionRunner
from app.sensor import LinkStatus, SensorBatch
from app.sensor.attachment import SensorAttachment
from app.session import RunOptions
from app.tui.app import HiphookApp
from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.routine import DISPLAY_HZ, RoutineScreen
from app.tui.widgets import BigClock
from tests.support.waiting import until

TODAY = dt.date(2025, 3, 4)  # a Tuesday; frozen so Home's week is the same every run
SIZE = (80, 24)


def daily() -> Routine:
    return load_routine("daily").for_side("left")


def make_app(
    routine: Routine | None = None, *, cues: str = "none", db: str | None = None, **kw: Any
) -> tuple[HiphookApp, FakeClock]:
    """The coach on a fake clock and a fixed date; `db`: a session log to read (Home)."""
    clock = FakeClock()
    app = HiphookApp(
        routine,
        "left" if routine else None,
        options=RunOptions(cues=cues, db=db),
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


def handled_by_app(app: HiphookApp, kind: type[Message]) -> list[Message]:
    """The messages of `kind` the app has handled so far (its handler done), in a list
    that grows as it handles more: wait for its length, not for a time. Call it with
    the app running (in a Pilot body)."""
    handled: list[Message] = []

    def hear(message: Message) -> None:
        if isinstance(message, kind):
            handled.append(message)

    app.message_signal.subscribe(app, hear, immediate=True)
    return handled


async def settle(pilot: Pilot[int]) -> None:
    """Let the runner's task wake, poll and dispatch, and the screen repaint; a run being
    assembled (on its thread) is waited for, and its screen shown."""
    for _ in range(3):
        await pilot.pause()
    app = pilot.app
    if isinstance(app, HiphookApp) and app.starting:

        def run_assembled() -> bool:
            return not app.starting

        await until(pilot, run_assembled)
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
    """The screen as plain text, trailing spaces removed.

    Read from `App.export_screenshot()`, Textual's public SVG of the whole screen (the
    screens beneath a dialog included).
    """
    return svg_text(app.export_screenshot(), app.size.height)


def svg_text(svg: str, height: int | None = None) -> str:
    """The text of a screen's SVG, each run of text put back at its column and row
    (`height` rows; None: down to the last row with text)."""
    rows: dict[int, list[str]] = {}
    for x, line, text in _TEXT.findall(svg):
        row = rows.setdefault(int(line), [])
        col = round(float(x) / _CHAR_W)
        plain = html.unescape(text).replace("\xa0", " ")
        row.extend(" " * (col + len(plain) - len(row)))
        row[col : col + len(plain)] = plain
    if height is None:
        height = max(rows, default=-1) + 1
    return "\n".join("".join(rows.get(n, [])).rstrip() for n in range(height))


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


RATE_HZ = 100  # the fed sensor's sample rate
BATCH_S = 0.1  # and how often its reader thread hands over a batch


class Feed:
    """Plays the sensor reader thread's part: status reports and batches of samples, on
    the fake clock, so every word and cell of the pressure panel is known."""

    def __init__(self) -> None:
        self.attachment: SensorAttachment | None = None
        self.ms = 0

    def make(self, runner: SessionRunner) -> SensorAttachment:
        """The session's sensor: no port (the test feeds it); the session starts it."""
        self.attachment = SensorAttachment(runner, "none")
        return self.attachment

    @property
    def att(self) -> SensorAttachment:
        assert self.attachment is not None
        return self.attachment

    def status(self, state: str, message: str = "") -> None:
        self.att._on_status(LinkStatus(state=state, message=message, rate_hz=RATE_HZ))

    async def hold(
        self,
        pilot: Pilot[int],
        clock: FakeClock,
        seconds: float,
        newtons: float,
        *,
        each_batch: Callable[[], object] | None = None,
    ) -> None:
        """`seconds` of a steady force, a batch every 0.1 s, the loop let run every second
        (with `each_batch`, which runs after each batch, only at the end: a snapshot
        ticks the display itself, in step with the clock)."""
        per = round(RATE_HZ * BATCH_S)
        for i in range(round(seconds / BATCH_S)):
            clock.advance(BATCH_S)
            samples = []
            for _ in range(per):
                self.ms += 1000 // RATE_HZ
                samples.append((self.ms, self.ms, round(newtons * 100)))
            self.att._on_batch(SensorBatch(time.monotonic(), samples, [], "device"))
            if each_batch is not None:
                each_batch()
            elif i % 10 == 9:
                await settle(pilot)
        await settle(pilot)

    async def lever(self, pilot: Pilot[int]) -> None:
        self.ms += 10
        self.att._on_batch(SensorBatch(time.monotonic(), [], [LeverEvent(self.ms, True)], "device"))
        await settle(pilot)

"""Pain 0-10 typed, clicked or stepped, on the check-in and the summary, with the Pilot.

The scale's typing window is read from an injected fake clock, so "1 then 0 in time"
and "1, too late, 0" are decided by the test, not by how busy the machine is.
"""

from __future__ import annotations

from textual.pilot import Pilot

from app.core.clock import FakeClock
from app.core.routine import load_routine
from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.routine import RoutineScreen
from app.tui.screens.summary import SummaryScreen
from app.tui.widgets import PainScale
from app.tui.widgets.pain import TYPE_WINDOW_S
from tests.support.tui import daily, drive, make_app, screen_text, settle


def scale_on(pilot: Pilot[int], clock: FakeClock) -> PainScale:
    """The scale on the current screen, its typing window read from `clock`."""
    scale = pilot.app.screen.query_one(PainScale)
    scale.now = clock.now
    return scale


def test_one_then_zero_types_ten_and_the_prompt_says_how() -> None:
    app, _clock = make_app(daily())
    keys = FakeClock()

    async def body(pilot: Pilot[int]) -> None:
        assert isinstance(app.screen, CheckInScreen)
        scale = scale_on(pilot, keys)
        assert scale.has_focus
        assert "1 then 0" in screen_text(app)
        await pilot.press("1")
        await settle(pilot)
        assert "1 out of 10" in screen_text(app)  # a 1 shows at once, not after the window
        keys.advance(TYPE_WINDOW_S / 2)
        await pilot.press("0")
        await settle(pilot)
        assert app.screen.pain == 10 and scale.value == 10
        assert "10 out of 10" in screen_text(app) and "[10]" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RoutineScreen)
        assert app.pain_before == 10

    drive(app, body)


def test_a_zero_after_the_window_is_zero_and_ten_does_not_grow() -> None:
    app, _clock = make_app(daily())
    keys = FakeClock()

    async def body(pilot: Pilot[int]) -> None:
        screen = app.screen
        assert isinstance(screen, CheckInScreen)
        scale_on(pilot, keys)
        await pilot.press("1")
        keys.advance(TYPE_WINDOW_S)  # the window is over: the next key stands alone
        await pilot.press("0")
        await settle(pilot)
        assert screen.pain == 0
        await pilot.press("1", "0", "0")  # 100 is off the scale: the last 0 starts anew
        await settle(pilot)
        assert screen.pain == 0
        await pilot.press("1", "0")
        await settle(pilot)
        assert screen.pain == 10
        await pilot.press("7", "4")  # 74 is off the scale too: 4
        await settle(pilot)
        assert screen.pain == 4
        await pilot.press("1", "right", "0")  # an arrow ends the typing
        await settle(pilot)
        assert screen.pain == 0

    drive(app, body)


def test_the_summary_types_ten_too() -> None:
    routine = load_routine("daily").for_side("left")
    app, clock = make_app(routine)
    keys = FakeClock()

    async def body(pilot: Pilot[int]) -> None:
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, RoutineScreen)
        await pilot.press("q", "y")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        scale_on(pilot, keys)
        await pilot.press("1", "0")
        await settle(pilot)
        assert app.screen.pain_after == 10
        assert "pain now: 10/10" in screen_text(app)

    drive(app, body)

"""The help is made from the bindings: on each screen of a real run (Pilot), the keys the
help lists for it are exactly the keys that screen answers to, no more and no fewer."""

from __future__ import annotations

import json
import os
from pathlib import Path

from textual.pilot import Pilot

from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.confirm import QuitConfirm
from app.tui.screens.help import SECTIONS, HelpScreen, help_sections, listed_keys
from app.tui.screens.home import HomeScreen
from app.tui.screens.routine import RoutineScreen
from app.tui.screens.summary import SummaryScreen
from tests.support.home import home_ready, until
from tests.support.tui import drive, make_app, screen_text


def live_keys(pilot: Pilot[int]) -> set[str]:
    """What the screen in front answers to now: its focused widget's, its own, the app's."""
    return {k for k, ab in pilot.app.screen.active_bindings.items() if not ab.binding.system}


def test_the_help_lists_exactly_the_keys_each_screen_binds() -> None:
    Path(os.environ["HIPHOOK_CONFIG"]).write_text(json.dumps({"side": "left"}))
    app, clock = make_app(None)
    checked: list[str] = []

    async def check(pilot: Pilot[int], screen: type[object], title: str) -> None:
        await until(pilot, lambda: isinstance(app.screen, screen))
        await pilot.pause()
        assert live_keys(pilot) == listed_keys(title, type(app)), title
        checked.append(title)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        await check(pilot, HomeScreen, "Home")
        await pilot.press("enter")
        await check(pilot, CheckInScreen, "Check-in")
        await pilot.press("s")
        await check(pilot, RoutineScreen, "During the routine")
        clock.advance(2)
        await pilot.press("q")
        await check(pilot, QuitConfirm, "Asked whether to stop")
        await pilot.press("y")
        await check(pilot, SummaryScreen, "Summary")

    drive(app, body)
    assert checked == [title for title, _screen, _widgets in SECTIONS]


def test_the_help_shows_every_line_with_its_words() -> None:
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        text = " ".join(str(help_screen.query_one("#keys").render()).split())
        assert "n, Esc or q keep going" in text and "Ctrl+Q close hiphook at once" in text
        for title, lines in help_sections(type(app)):
            assert title in text
            for line in lines:
                assert f"{line.shown} {line.what}" in text, line
        # the words come from the bindings: a few that a runner looks for
        assert "n or → skip this step" in text
        assert "0-10 how much it hurts now; for 10, type 1 then 0 quickly" in text
        assert "q or Esc stop the routine (asks first: y or Enter stops" in text
        assert text.count("not medical advice") == 1
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert "Start" in screen_text(app)

    drive(app, body)

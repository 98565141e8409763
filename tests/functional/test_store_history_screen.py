"""HistoryScreen opens at 80x24 on a small log, shows the streak, and plots presses."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App
from textual.widgets import OptionList, Static

from app.core.engine import StepRecord
from app.store.stats import local_zone_name, today_in
from app.store.store import open_store
from app.store.trace import ForceTrace
from app.tui.history import HistoryScreen


def _small_log(path: Path) -> None:
    store = open_store(path)
    tz = local_zone_name()
    today = today_in(tz)
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    for back in (4, 3, 1, 0):  # day -2 missed: one bend
        sid = store.begin_session(
            "daily", 1, "left", "loop://", 5 - back % 3, started=noon - timedelta(days=back), tz=tz
        )
        trace = ForceTrace(tuple(120 + 10 * math.sin(i / 40) for i in range(800)), 80.0)
        store.record_step(
            sid,
            StepRecord(1, "press", "Psoas press", "left", 90, 90, 0, False, True),
            "steady",
            85.0,
            trace,
        )
        store.end_session(sid, "completed", 2, ended=noon - timedelta(days=back, minutes=-10))
    store.close()


class _Host(App[None]):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.url))


async def _settle(app: App[None], pilot: object, cond: object) -> None:
    for _ in range(100):
        await pilot.pause(0.02)  # type: ignore[attr-defined]
        if cond():  # type: ignore[operator]
            return
    raise AssertionError("the screen never finished loading")


def test_history_screen_shows_streak_and_presses(tmp_path: Path) -> None:
    asyncio.run(_shows_streak_and_presses(tmp_path))


async def _shows_streak_and_presses(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _small_log(db)
    app = _Host(str(db))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await _settle(app, pilot, lambda: screen.loaded)
        assert screen.streak_text.startswith("Streak: 4 days, bent 1×")
        streak = str(screen.query_one("#streak", Static).render())
        assert "Streak: 4 days" in streak and "two missed days in a row break it" in streak
        calendar = str(screen.query_one("#calendar", Static).render())
        assert calendar.count("■") == 4 + 1  # four days and the legend
        options = screen.query_one("#sessions", OptionList)
        assert options.option_count == 4
        options.focus()
        options.highlighted = 0
        await _settle(app, pilot, lambda: "Psoas press" in screen.detail_text)
        assert "steady" in screen.detail_text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)


def test_history_screen_reports_a_bad_log(tmp_path: Path) -> None:
    asyncio.run(_reports_a_bad_log(tmp_path))


async def _reports_a_bad_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 50)
    app = _Host(str(bad))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await _settle(app, pilot, lambda: screen.loaded)
        assert "cannot be read" in screen.streak_text and "damaged" in screen.streak_text

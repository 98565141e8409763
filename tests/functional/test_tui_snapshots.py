"""Screens at 80x24 compared with committed text renderings under tests/functional/snapshots/.

Text (not SVG) so a diff is readable in review; everything that could change is frozen
(fake clock, fixed date, no notifications). Regenerate after an intended change with
`HIPHOOK_UPDATE_SNAPSHOTS=1 pytest tests/functional/test_tui_snapshots.py` and review the diff.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from textual.pilot import Pilot

from app.core.routine import StepKind
from app.store.stats import Streak
from app.tui.homedata import HomeData
from app.tui.screens.summary import SummaryScreen
from tests.support.tui import (
    daily,
    display_tick,
    drive,
    make_app,
    screen_text,
    settle,
    start_run,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("HIPHOOK_UPDATE_SNAPSHOTS") == "1"


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path.name}; create it with HIPHOOK_UPDATE_SNAPSHOTS=1")
    expected = path.read_text(encoding="utf-8").rstrip("\n")
    if text != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(), text.splitlines(), "snapshot", "now", lineterm=""
            )
        )
        pytest.fail(f"{path.name} differs (HIPHOOK_UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


def test_snapshot_home_without_history() -> None:
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await app.workers.wait_for_complete()
        await settle(pilot)
        check_snapshot("home_empty", screen_text(app))

    drive(app, body)


def test_snapshot_home_with_history() -> None:
    def loader(today: object, url: str | None) -> HomeData:
        return HomeData(
            done_today=True,
            streak=Streak(12, 0, None, False, 12),
            last7=(True, True, True, False, True, True, True),
            next_reminder="tomorrow 07:30",
        )

    app, _clock = make_app(None, home_loader=loader)

    async def body(pilot: Pilot[int]) -> None:
        await pilot.press("s")  # left side, remembered in the test's own settings file
        await app.workers.wait_for_complete()
        await settle(pilot)
        check_snapshot("home_history", screen_text(app))

    drive(app, body)


def test_snapshot_routine_press_step() -> None:
    routine = daily()
    app, clock = make_app(routine)

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        clock.advance(routine.steps[0].planned_s)  # into the first press
        await settle(pilot)
        clock.advance(37.0)
        await display_tick(pilot)
        check_snapshot("routine_press", screen_text(app))

    drive(app, body)


def test_snapshot_routine_hold_phase() -> None:
    routine = daily()
    app, clock = make_app(routine)
    holds = next(i for i, s in enumerate(routine.steps) if s.kind is StepKind.HOLDS)

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        for _ in range(holds):
            await pilot.press("n")
        await settle(pilot)
        clock.advance(3 * 5.0 + 0.5)  # rep 4, half a second into PUSH
        await settle(pilot)
        check_snapshot("routine_hold", screen_text(app))

    drive(app, body)


def test_snapshot_summary() -> None:
    routine = daily()
    app, clock = make_app(routine)

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot, pain="4")
        for i, step in enumerate(routine.steps):
            await settle(pilot)
            if i == 5:
                await pilot.press("n")  # skip the other side's psoas press
            elif step.kind is StepKind.ACTION:
                clock.advance(6.0)
                await pilot.press("enter")
            else:
                clock.advance(step.planned_s)
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("2")
        await app.workers.wait_for_complete()
        await settle(pilot)
        check_snapshot("summary", screen_text(app))

    drive(app, body)

"""Pilot steps for Home and its routine picker: wait for states, never for a guessed time."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import OptionList

from app.tui.screens.home import HomeScreen
from app.tui.screens.picker import RoutinePicker
from tests.support.waiting import until as until  # the tests of Home wait with it


async def home_ready(pilot: Pilot[int]) -> HomeScreen:
    """Home with its remembered routine read and its settings saved (both on threads)."""
    screen = pilot.app.screen
    assert isinstance(screen, HomeScreen), type(screen)

    def routine_read() -> bool:
        return screen.choice is not None

    await until(pilot, routine_read)
    await settings_saved(pilot)
    await pilot.pause()
    return screen


async def settings_saved(pilot: Pilot[int]) -> None:
    """Wait for Home's settings writes (thread workers) started so far to finish."""
    saves = [w for w in pilot.app.workers if w.group == "home-save"]
    if saves:  # (an empty list would mean every worker)
        await pilot.app.workers.wait_for_complete(saves)


async def open_picker(pilot: Pilot[int]) -> RoutinePicker:
    """Press r on Home and wait until the picker has read the routines."""
    await pilot.press("r")

    def listed() -> bool:
        return isinstance(pilot.app.screen, RoutinePicker) and bool(pilot.app.screen.entries)

    await until(pilot, listed)
    await pilot.pause()
    picker = pilot.app.screen
    assert isinstance(picker, RoutinePicker)
    return picker


async def pick_routine(pilot: Pilot[int], source: str) -> HomeScreen:
    """Choose `source` (a built-in's name or a file's path) in the picker with the keys,
    and wait for Home to have read it."""
    picker = await open_picker(pilot)
    target = [e.source for e in picker.entries].index(source)
    options = picker.query_one("#routines", OptionList)
    for _ in range(len(picker.entries) + 1):  # arrows skip the disabled (broken) entries
        if options.highlighted == target:
            break
        down = options.highlighted is None or options.highlighted < target
        await pilot.press("down" if down else "up")
    assert options.highlighted == target, f"{source} cannot be picked"
    await pilot.press("enter")

    def taken() -> bool:
        home = pilot.app.screen
        return isinstance(home, HomeScreen) and home.settings.routine == source

    await until(pilot, taken)
    return await home_ready(pilot)

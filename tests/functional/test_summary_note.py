"""A note typed at the summary after a real run goes into the real log, off the loop;
Esc leaves the field without saving, and the pain keys work again afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from app.session import RunOptions, SessionLog
from app.store.store import open_store
from app.tui.screens.home import HomeScreen
from app.tui.screens.summary import SummaryScreen
from app.tui.widgets import PainScale
from app.tui.widgets.note_input import NoteInput
from tests.support.tui import daily, drive, make_app, screen_text, settle, start_run
from tests.support.waiting import until


def logged(db: Path) -> list[dict[str, Any]]:
    store = open_store(db)
    try:
        return store.sessions(steps=False)
    finally:
        store.close()


def test_a_note_at_the_summary_is_saved_in_the_log(tmp_path: Path) -> None:
    db = tmp_path / "note.db"
    app, clock = make_app(daily(), log=SessionLog(RunOptions(db=str(db))))

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        clock.advance(20)
        await pilot.press("q", "y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SummaryScreen)
        note = screen.query_one(NoteInput)
        assert "Note (Tab to write, Enter saves, Esc leaves):" in screen_text(app)
        await pilot.press("tab")
        assert isinstance(app.focused, Input)
        await pilot.press(*"left  hip tight, 5 went 4")
        assert screen.pain_after is None  # the digits went into the note, not the scale
        await pilot.press("enter")  # saves the note; does not close the summary
        await until(pilot, lambda: note.saved is not None)
        assert note.saved == "left hip tight, 5 went 4"
        assert app.screen is screen and "Note saved" in screen_text(app)
        assert [s["notes"] for s in logged(db)] == ["left hip tight, 5 went 4"]
        # The field gave the keys back: digits are the pain again, Enter goes Home.
        assert isinstance(app.focused, PainScale)
        await pilot.press("3")
        await settle(pilot)
        assert screen.pain_after == 3
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

    drive(app, body)
    [session] = logged(db)
    assert (session["notes"], session["pain_after"]) == ("left hip tight, 5 went 4", 3)


def test_escape_leaves_the_note_unsaved(tmp_path: Path) -> None:
    db = tmp_path / "esc.db"
    app, clock = make_app(daily(), log=SessionLog(RunOptions(db=str(db))))

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        clock.advance(5)
        await pilot.press("q", "y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SummaryScreen)
        await pilot.press("tab", *"never mind", "escape")
        await settle(pilot)
        assert isinstance(app.focused, PainScale)
        assert screen.query_one(NoteInput).saved is None
        await pilot.press("7", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

    drive(app, body)
    [session] = logged(db)
    assert (session["notes"], session["pain_after"]) == ("", 7)


def test_no_note_field_without_a_log() -> None:
    app, _clock = make_app(daily())

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        await pilot.press("q", "y")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        assert not app.screen.query(NoteInput)

    drive(app, body)

"""Home's routine picker with the user's own files, driven with the Pilot on real files.

The files live under the test's own config folder (HIPHOOK_CONFIG points there), so the
routines folder the picker reads is real and private to the test.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from app.core.routine import Routine
from app.sensor.attachment import SensorAttachment
from app.session import RunOptions, Session
from app.settings import Settings
from app.store.stats import Streak
from app.tui.homedata import HomeData
from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.home import HomeScreen
from app.tui.screens.picker import RoutinePicker, routines_dir
from tests.support.audit import watching
from tests.support.home import home_ready, open_picker, pick_routine, settings_saved, until
from tests.support.tui import drive, make_app, screen_text, start_run

MINE = """
name = "mine"
title = "My short release"
[[step]]
kind = "timed"
name = "Position"
instruction = "Find the spot."
seconds = 20
[[step]]
kind = "press"
name = "Press"
instruction = "Hold."
seconds = 100
"""
BROKEN = MINE.replace("seconds = 100", 'seconds = "long"')


def settings() -> dict[str, object]:
    return dict(json.loads(Path(os.environ["HIPHOOK_CONFIG"]).read_text()))


def remember(**values: object) -> None:
    Path(os.environ["HIPHOOK_CONFIG"]).write_text(json.dumps(values))


def own_routine(name: str, text: str = MINE) -> Path:
    folder = routines_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_a_file_in_the_routines_folder_is_listed_picked_and_remembered() -> None:
    mine = own_routine("mine.toml")
    own_routine("broken.toml", BROKEN)
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        picker = await open_picker(pilot)
        text = screen_text(app)
        assert "My short release — about 2:00" in text
        assert "broken.toml cannot" in text and "'seconds' must be a number" in text
        [broken] = [e for e in picker.entries if e.source.endswith("broken.toml")]
        assert broken.routine is None and "step 2 (line 9)" in str(broken.problem)
        home = await pick_routine(pilot, str(mine))
        assert settings()["routine"] == str(mine)
        text = screen_text(app)
        assert "My short release — about 2:00" in text
        assert "file …" in text and "/routines/mine.toml" in text, text
        assert "not needed for this routine" in text  # the file's steps have no side
        assert home.choice is not None and home.choice.problem is None
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        assert "My short release" in screen_text(app)

    drive(app, body)

    again, _clock = make_app(None)  # a new start reads the remembered file again

    async def reopened(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        assert "My short release — about 2:00" in screen_text(again)
        assert "mine.toml" in screen_text(again)

    drive(again, reopened)


def test_a_typed_path_is_checked_explained_and_then_taken(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    good = elsewhere / "good.toml"
    good.write_text(MINE)
    bad = elsewhere / "bad.toml"
    bad.write_text("this is = not toml [")
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        picker = await open_picker(pilot)
        path = picker.query_one("#path", Input)
        await pilot.press("tab")
        assert path.has_focus
        for typed, expect in (
            (str(bad), "not valid TOML"),
            (str(elsewhere / "none.toml"), "not there any more"),
        ):
            path.value = typed
            await pilot.press("enter")
            await until(pilot, lambda e=expect: e in screen_text(app))  # type: ignore[misc]
            assert isinstance(app.screen, RoutinePicker)  # still picking: nothing chosen
            assert settings_or_default() == "daily"
        path.value = str(good)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await home_ready(pilot)
        assert settings()["routine"] == str(good)
        assert "My short release — about 2:00" in screen_text(app)
        # picked once, it stays on the list after another choice
        await pick_routine(pilot, "daily")
        picker = await open_picker(pilot)
        assert str(good) in [e.source for e in picker.entries]
        assert settings()["recent_routines"] == str(good)

    drive(app, body)


def settings_or_default() -> object:
    path = Path(os.environ["HIPHOOK_CONFIG"])
    return settings()["routine"] if path.exists() else "daily"


def test_escape_leaves_the_choice_as_it_was() -> None:
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        picker = await open_picker(pilot)
        options = picker.query_one("#routines", OptionList)
        await pilot.press("up")
        assert options.highlighted is not None
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert settings_or_default() == "daily"

    drive(app, body)


def test_a_missing_remembered_file_is_explained_and_the_built_in_starts(tmp_path: Path) -> None:
    gone = tmp_path / "gone.toml"
    remember(routine=str(gone), side="left")
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        home = await home_ready(pilot)
        text = screen_text(app)
        assert "gone.toml" in text and "not there any more" in text
        assert "Enter starts Daily hip-flexor release" in text
        assert home.choice is not None and home.choice.problem is not None
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        assert "Daily hip-flexor release" in screen_text(app)
        assert settings()["routine"] == str(gone)  # kept: the file may come back

    drive(app, body)


def test_a_broken_remembered_file_says_what_is_wrong() -> None:
    broken = own_routine("broken.toml", BROKEN)
    remember(routine=str(broken), side="left")
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        text = screen_text(app)
        assert "broken.toml" in text and "cannot be used" in text and "'seconds'" in text
        assert "Enter starts Daily hip-flexor release" in text
        broken.write_text(MINE)  # mended: picking it again takes it
        await pick_routine(pilot, str(broken))
        assert "My short release — about 2:00" in screen_text(app)

    drive(app, body)


def test_homes_sensor_choice_travels_with_its_run() -> None:
    """The run started from Home is assembled from options that carry Home's sensor; the
    app's own options (what a run the app starts itself, as `hiphook run`, uses) keep
    theirs, and nothing of the choice is left on the app for a later run."""
    port = "/dev/hiphook-test-no-such-port"
    remembered = Settings.load()
    remembered.sensor, remembered.side = port, "left"
    assert remembered.save() is None
    # the run's sensor: an attachment with no port, so nothing is opened
    app, _clock = make_app(None, sensor_factory=lambda runner: SensorAttachment(runner, "none"))
    before = dict(vars(app))
    seen: list[RunOptions] = []
    make_session = app.make_session

    def recording(options: RunOptions, routine: Routine, side: str | None) -> Session:
        seen.append(options)
        return make_session(options, routine, side)

    app.make_session = recording  # type: ignore[method-assign]

    async def body(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        await start_run(pilot)
        assert [o.sensor for o in seen] == [port] and seen[0].db == app.options.db
        assert app.options == before["options"] and app.options.sensor == "none"
        assert port not in map(str, vars(app).values())

    drive(app, body)


def test_home_paints_before_its_history_loads_and_reads_no_file_on_the_loop(
    tmp_path: Path,
) -> None:
    """The history loader (a thread worker) is held until Home has painted and answered
    keys; meanwhile the remembered routine file, the settings and the choice of routine
    at Enter are read and written on threads only (an audit hook sees every open)."""
    mine = own_routine("mine.toml")
    remember(routine=str(mine), side="left")
    release = threading.Event()
    loading = threading.Event()

    def held_loader(today: object, url: str | None) -> HomeData:
        loading.set()
        assert release.wait(10), "the test never let the loader go"
        return HomeData(done_today=False, streak=Streak(12, 0, None, False, 12))

    app, _clock = make_app(None, home_loader=held_loader)  # the settings read, before the loop

    async def body(pilot: Pilot[int]) -> None:
        home = await home_ready(pilot)  # painted, its routine file read on a thread
        assert loading.is_set() and not home.loaded
        text = screen_text(app)
        assert "Streak       no history yet" in text and "My short release" in text
        await pilot.press("s")  # the keys answer while the loader is held
        await until(pilot, lambda: "Tight side   right" in screen_text(app))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen))
        await pilot.press("q")  # back to Home, nothing started
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert not home.loaded
        release.set()
        await until(pilot, lambda: home.loaded)
        await settings_saved(pilot)
        assert "Streak       12 days" in screen_text(app)

    with watching() as opened:
        try:
            drive(app, body)
        finally:
            release.set()
    assert settings()["side"] == "right"
    # The user's files (all below tmp_path here): none opened on the event loop's thread.
    on_loop = [
        (o.event, o.path) for o in opened if o.on_main_thread and o.path.startswith(str(tmp_path))
    ]
    assert not on_loop, f"read or written on the event loop: {on_loop}"

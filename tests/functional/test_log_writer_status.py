"""The Routine screen's status line, driven by the Pilot at 80x24: a notice takes its own
row, never the clock's or the pressure panel's, says its kind in words, and goes away;
the log's writer says there that it waits for a locked file, and that it caught up."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot

from app.runner import SessionRunner
from app.sensor.attachment import SensorAttachment
from app.session import RunOptions, SessionLog
from app.tui.widgets.status_line import StatusLine
from tests.support.locker import Locker
from tests.support.tui import daily, display_tick, drive, make_app, screen_text, start_run


def no_port(runner: SessionRunner) -> SensorAttachment:
    return SensorAttachment(runner, "none")


def _regions(pilot: Pilot[int]) -> tuple[Region, list[Region]]:
    screen = pilot.app.screen
    line = screen.query_one(StatusLine).region
    others = [screen.query_one("#clock").region]
    others += [w.region for w in screen.query("#pressure")]
    return line, others


@pytest.mark.parametrize("with_sensor", [False, True], ids=["plain", "pressure-panel"])
def test_a_notice_takes_its_own_row_and_goes_away(with_sensor: bool) -> None:
    app, _clock = make_app(daily(), sensor_factory=no_port if with_sensor else None)

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        await display_tick(pilot)
        line = screen.query_one(StatusLine)
        assert line.region.height == 0, "no notice, no row"
        clock_before = screen.query_one("#clock").region

        line.say("The log is waiting:\nthe file is locked", kind="warning")
        await display_tick(pilot)
        region, others = _regions(pilot)
        assert region.height == 1
        for other in others:
            assert other.height > 0 and not region.overlaps(other), (region, other)
        assert screen.query_one("#clock").size.height >= 5, "the digits still fit"
        text = screen_text(app)
        assert "Warning: The log is waiting: the file is locked" in text
        assert text.splitlines()[region.y].strip().startswith("Warning:")

        line.say("Everything is in the log again.")
        await display_tick(pilot)
        text = screen_text(app)
        assert "Everything is in the log again." in text and "Warning:" not in text

        line.say("")
        await display_tick(pilot)
        assert line.region.height == 0
        assert screen.query_one("#clock").region == clock_before, "the row is given back"

    drive(app, body)


def test_an_unknown_kind_is_refused() -> None:
    line = StatusLine()
    with pytest.raises(ValueError, match="kind"):
        line.say("x", kind="loud")


async def _until(pilot: Pilot[int], pred: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until `pred` holds (the log's writer works on its own thread)."""
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "the state never came"
        await pilot.pause(0.02)


def test_the_log_waiting_and_catching_up_show_on_the_status_line(tmp_path: Path) -> None:
    """A real second process holds the log's write lock while the coach runs."""
    db = tmp_path / "log.db"
    log = SessionLog(RunOptions(db=str(db)))
    app, clock = make_app(daily(), log=log)

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        line = screen.query_one(StatusLine)
        steps = daily().steps
        clock.advance(steps[0].seconds or 0)  # the first step ends and is written
        await _until(pilot, lambda: log.writer is not None and log.writer.written >= 2)
        with Locker(db) as lock:
            clock.advance(steps[1].seconds or 0)  # the second ends while the file is held
            await _until(pilot, lambda: "waiting" in str(line.render()))
            await display_tick(pilot)  # the row is laid out and painted
            text = screen_text(app)
            assert "Warning: The session log is waiting: another program is holding" in text
            assert line.region.height == 1
            assert not line.region.overlaps(screen.query_one("#clock").region)
            assert screen.runner.engine.view().step_index == 2, "the run went on"
            lock.release()
            await _until(pilot, lambda: "caught up" in str(line.render()))
        await display_tick(pilot)
        text = screen_text(app)
        assert "The session log has caught up" in text and "Warning:" not in text

    drive(app, body)
    assert log.outcome is not None and log.outcome.complete

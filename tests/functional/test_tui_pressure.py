"""The coach with a sensor, driven by the Pilot: the full panel at 120x40, the one-row
panel at 80x24.

Most tests feed a real `SensorAttachment` (no port) with batches shaped like the link's,
on a fake clock, so every word on screen is known. One test runs the real simulator on
a pseudo-terminal at ×20 and expects the Summary without a key press after the start.
"""

from __future__ import annotations

import asyncio
import time

from textual.pilot import Pilot
from textual.screen import Screen

from app.core.clock import ScaledClock
from app.core.coach import CoachEvent, CoachKind
from app.core.pressure import DEFAULT_BAND, Verdict, VerdictKind, Zone
from app.core.routine import Routine, Step, StepKind
from app.cues import Cue, Tone, cue_for_coach
from app.runner import SessionRunner
from app.sensor import LOST_MESSAGE, LinkStatus
from app.sensor.attachment import SensorAttachment
from app.session import RunOptions, Session
from app.tui.app import HiphookApp
from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.routine import RoutineScreen
from app.tui.screens.summary import SummaryScreen, held_words
from app.tui.widgets.pressure import (
    COMPACT_CELLS,
    PressurePanel,
    gauge_cells,
    link_words,
    pinned,
)
from tests.support.tui import (
    TODAY,
    Feed,
    display_tick,
    drive,
    make_app,
    screen_text,
    settle,
    start_run,
)


def judged_routine(press_s: float = 10, position_s: float = 3) -> Routine:
    """Get into position, one press, the lever: the shortest run with every sensor duty."""
    return Routine(
        name="judged",
        title="Judged press",
        version=1,
        description="",
        steps=(
            Step(StepKind.TIMED, "Position", "Find the spot.", seconds=position_s),
            Step(StepKind.PRESS, "Press", "Keep the pressure on.", seconds=press_s),
            Step(StepKind.ACTION, "Lever", "Push the lever.", seconds=10),
        ),
    )


def cues(app: HiphookApp) -> list[Cue]:
    """What the app's cue player has played so far (the bell plays inline, so no waiting)."""
    player = app.session.player if app.session is not None else None
    assert player is not None and player.backend_name == "bell"
    return [cue for _, cue in player.played]


def panel_text(app: HiphookApp) -> str:
    screen = app.screen
    assert isinstance(screen, RoutineScreen), type(screen)
    assert screen.query(PressurePanel), "the pressure panel should show with a sensor"
    return screen_text(app)


FULL = (120, 40)


def test_panel_words_cues_and_summary_through_a_judged_press() -> None:
    feed = Feed()
    app, clock = make_app(judged_routine(), cues="bell", sensor_factory=feed.make)

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        await display_tick(pilot)
        text = panel_text(app)
        assert "sensor: connecting" in text and "NO READING" in text
        assert "uncalibrated band 60–450 N" in text
        assert "no press yet" in text

        feed.status("connected")
        await feed.hold(pilot, clock, 3.0, 0.0)  # getting into position: the tool is empty
        await display_tick(pilot)
        text = panel_text(app)
        assert "Step 2 of 3" in text
        assert "sensor: connected 100 Hz, 0 dropped" in text
        assert "PRESS HARDER" in text  # the press has begun and nothing presses yet

        await feed.hold(pilot, clock, 4.0, 150.0)
        await display_tick(pilot)
        text = panel_text(app)
        assert "HELD" in text and "150 N" in text
        assert "held 3 of 10 s" in text  # the first sample came 0.01 s in
        assert "[" + gauge_cells(150.0, feed.att.coach.band) + "]" in text

        await feed.hold(pilot, clock, 0.5, 520.0)
        await display_tick(pilot)
        assert "EASIER" in panel_text(app)

        await feed.hold(pilot, clock, 0.5, 150.0)
        await feed.hold(pilot, clock, 2.0, 10.0)  # the pressure goes, past the 1 s grace
        await display_tick(pilot)
        text = panel_text(app)
        assert "PRESS HARDER" in text
        assert "held 5 of 10 s" in text  # the count stopped where the dip began
        slip = next(c for c in cues(app) if c.tone is Tone.SLIP)
        assert slip.text == "press again" and slip.ring

        await feed.hold(pilot, clock, 3.0, 150.0)  # back in the band to the end of the press
        await display_tick(pilot)
        text = panel_text(app)
        assert "Step 3 of 3" in text
        assert "last press: partial 8" in text
        tones = [c.tone for c in cues(app)]
        assert Tone.HELD in tones[tones.index(Tone.SLIP) :], "the recovery is cued too"
        verdict = next(c for c in cues(app) if c.tone is Tone.VERDICT)
        assert verdict.text.startswith("Press partly held: 8")

        feed.status("lost", LOST_MESSAGE)
        await display_tick(pilot)
        text = panel_text(app)
        assert "sensor lost — reconnecting" in text and "NO READING" in text
        assert any(c.tone is Tone.SENSOR for c in cues(app))

        feed.status("connected")
        await feed.lever(pilot)  # the lever completes the lever step: no key
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        text = screen_text(app)
        assert "Sensor: 0 of 1 presses confirmed as held." in text
        line = next(ln for ln in text.splitlines() if "Press" in ln and "2." in ln)
        assert "partial" in line and "held 0:08 (8" in line, line

    drive(app, body, FULL)


def test_at_80x24_the_panel_is_one_row_and_the_digits_keep_ten_rows() -> None:
    """Readable from the floor: the panel folds to the gauge's row, which still says the
    force, what to do, the time held, and what is wrong with the link."""
    feed = Feed()
    app, clock = make_app(judged_routine(), sensor_factory=feed.make)

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        feed.status("connected")
        await feed.hold(pilot, clock, 3.0, 0.0)
        await feed.hold(pilot, clock, 4.0, 150.0)
        await display_tick(pilot)
        panel = screen.query_one(PressurePanel)
        assert panel.size.height == 1 and screen.big.size.height >= 10
        lines = screen_text(app).splitlines()
        assert sum(1 for ln in lines if ln.startswith(" " * 14 + "████")) == 10  # "0:04"
        row = next(ln for ln in panel_text(app).splitlines() if "150 N" in ln)
        assert "HELD" in row and "held 3 of 10 s" in row, row
        assert "[" + gauge_cells(150.0, feed.att.coach.band, COMPACT_CELLS) + "]" in row
        feed.status("lost", LOST_MESSAGE)
        await display_tick(pilot)
        row = next(ln for ln in panel_text(app).splitlines() if "-- N" in ln)
        assert "NO READING" in row and "sensor lost — reconnecting" in row, row

    drive(app, body)


def test_a_steady_press_is_confirmed_on_the_summary() -> None:
    feed = Feed()
    app, clock = make_app(judged_routine(), sensor_factory=feed.make)

    async def body(pilot: Pilot[int]) -> None:
        await start_run(pilot)
        feed.status("connected")
        await feed.hold(pilot, clock, 3.0, 1.0)
        await feed.hold(pilot, clock, 10.0, 160.0)
        await feed.hold(pilot, clock, 0.5, 1.0)
        await feed.lever(pilot)
        assert isinstance(app.screen, SummaryScreen)
        text = screen_text(app)
        assert "Sensor: 1 of 1 presses confirmed as held." in text
        line = next(ln for ln in text.splitlines() if "2." in ln)
        assert "confirmed" in line and "held 0:10 (100%)" in line, line

    drive(app, body)


def test_no_sensor_means_no_panel_and_the_usual_summary() -> None:
    app, clock = make_app(judged_routine())

    async def body(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        assert not screen.query(PressurePanel)
        clock.advance(13.0)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        text = screen_text(app)
        assert "confirmed" not in text and "Sensor:" not in text

    drive(app, body)


def test_coach_cues_in_words() -> None:
    over = cue_for_coach(CoachEvent(CoachKind.ZONE, 1.0, 1, zone=Zone.OVER))
    assert over is not None and over.text == "easier" and not over.ring
    v = Verdict(VerdictKind.CONFIRMED, 90.0, 88.2)
    cue = cue_for_coach(CoachEvent(CoachKind.VERDICT, 1.0, 1, verdict=v))
    assert cue is not None and cue.text == "Press confirmed. Held 1 minute 28."
    lost = Verdict(VerdictKind.UNVERIFIED, 90.0, 40.0, 12.0, "sensor lost for 12 s")
    cue = cue_for_coach(CoachEvent(CoachKind.VERDICT, 1.0, 1, verdict=lost))
    assert cue is not None and "12 seconds" in cue.text
    assert cue_for_coach(CoachEvent(CoachKind.TARED, 1.0, 0, text="zero re-taken")) is None
    assert cue_for_coach(CoachEvent(CoachKind.SENSOR, 1.0, 0, text="sensor connected")) is None


def test_the_simulator_runs_a_judged_routine_to_the_summary_without_a_key() -> None:
    """The real simulator behind the real link, at ×4. It waits for states, never for
    a time: the run may be over before the test first looks (a busy machine), so the
    Routine screen's panel is checked on the screen the app made, not on the screen."""
    attached: list[SensorAttachment] = []
    screens: list[RoutineScreen] = []

    def make(runner: SessionRunner) -> SensorAttachment:
        attached.append(SensorAttachment(runner, "sim", time_scale=4.0))
        return attached[-1]

    class Watched(HiphookApp):
        def make_routine_screen(self, session: Session) -> Screen[None]:
            screen = super().make_routine_screen(session)
            assert isinstance(screen, RoutineScreen)
            screens.append(screen)
            return screen

    # At ×4 the 1 s grace for a dip is 250 ms of real time (at ×20 it was 50 ms, and one
    # scheduling hiccup of a busy machine, load 5 on 2 cores, read as a dip, making the
    # press "partial"); batches that reach the loop late weigh little in the verdict too.
    # 30 s of press (7.5 s real) leaves the simulated user's time to reach the band well
    # inside the 90 % needed for "confirmed". 5 s in position (1.25 s real) let the link
    # connect and shake hands before the press begins.
    app = Watched(
        judged_routine(press_s=30, position_s=5),
        None,
        clock=ScaledClock(4.0),
        options=RunOptions(cues="none"),
        today=TODAY,
        sensor_factory=make,
    )

    async def body(pilot: Pilot[int]) -> None:
        # Not pilot.press/pause: each waits up to 1 s (twice for a key) for the process to
        # go idle, which it never does while the simulator's threads run, so on an idle
        # machine the 1.5 s run was over before a look. Wait for states instead.
        assert isinstance(app.screen, CheckInScreen)
        app.simulate_key("s")  # skip the check-in
        end = time.monotonic() + 60.0  # a bound for a hung run, not a measure of one
        try:
            while not isinstance(app.screen, SummaryScreen) and time.monotonic() < end:
                await asyncio.sleep(0.02)
        finally:
            for sensor in attached:
                sensor.close()
        assert isinstance(app.screen, SummaryScreen), screen_text(app)
        (screen,) = screens
        assert screen.panel is not None, "the pressure panel should show with a sensor"
        await settle(pilot)
        text = screen_text(app)
        line = next(ln for ln in text.splitlines() if "2." in ln)
        assert "confirmed" in line, text

    drive(app, body)


def test_gauge_trend_and_words_read_without_colour() -> None:
    empty = gauge_cells(0.0, DEFAULT_BAND, cells=20)
    assert empty.count("|") == 2 and "█" not in empty
    inside = empty[empty.index("|") + 1 : empty.rindex("|")]
    assert set(inside) == {"░"} and set(empty[: empty.index("|")]) == {"·"}
    assert gauge_cells(10_000.0, DEFAULT_BAND, cells=20).count("|") == 2  # edges stay
    # The trend keeps its own scale: a steady press is not blown up to noise.
    data = pinned([150.0, 152.0, 149.0], 300.0)
    assert min(data) == 0.0 and max(data) == 300.0 and len(data) == 6
    assert link_words(None) == "sensor: connecting…"
    assert link_words(LinkStatus(state="reconnecting")) == "sensor lost — reconnecting"
    lost = Verdict(VerdictKind.UNVERIFIED, 90.0, 40.0, 0.3, "sensor lost for 0 s")
    assert held_words(lost) == "sensor lost 0:01"  # a split second still counts

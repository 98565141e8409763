"""The coach's screens as SVG snapshots: Home, the check-in, the routine in a press, a
hold and at the lever, the summary and the history, at 80x24 and 120x40, dark and light.

pytest-textual-snapshot's SVG files (its syrupy extension, which also strips the random
id Rich puts in each SVG), under `__snapshots__/test_tui_snapshots/`. Each test opens the
app once, brings it to its screen, then takes the four shots (two sizes, two themes) in
that one run: opening the app, and driving a whole routine for the summary, cost far
more than a shot, and CI's time is short. So the plugin's `snap_compare`, which runs a
fresh app for every shot, is not used; its HTML report still shows each failing shot.

Everything that could change is fixed: a fake clock, a fixed date, a log written by a
seeded generator (in UTC), a fed sensor (no noise) whose display ticks in step with the
fake clock, no toasts, no blinking cursor, the same theme order. After an intended change,
`pytest tests/functional/test_tui_snapshots.py --snapshot-update`, then look at the files.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import pickle
from collections.abc import Awaitable, Callable, Iterator

import pytest
from pytest_textual_snapshot import (
    PseudoApp,
    PseudoConsole,
    SVGImageExtension,
    node_to_report_path,
)
from rich.console import Console
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import Input

from app.core.routine import StepKind
from app.tui.app import HiphookApp
from app.tui.homedata import session_log_loader
from app.tui.screens.history import HistoryScreen
from app.tui.screens.routine import RoutineScreen
from app.tui.screens.summary import SummaryScreen
from tests.support.home import home_ready, until
from tests.support.report_fixture import build_log
from tests.support.tui import (
    TODAY,
    Feed,
    daily,
    make_app,
    settle,
    start_run,
    svg_text,
)

# In this order, so one run changes the theme once (restyling every widget is the dearest
# step) and the size twice.
SHOTS = (
    ((80, 24), "textual-dark"),
    ((120, 40), "textual-dark"),
    ((120, 40), "textual-light"),
    ((80, 24), "textual-light"),
)
Reach = Callable[[Pilot[int]], Awaitable[None]]


class Shots:
    """Takes a screen's four shots in one run of the app and compares each with its file."""

    def __init__(self, snapshot: SnapshotAssertion, request: pytest.FixtureRequest) -> None:
        self.snapshot = snapshot.use_extension(SVGImageExtension)
        self.node = request.node
        self.text_diffs: list[str] = []

    def check(self, app: HiphookApp, reach: Reach) -> None:
        shots = asyncio.run(self._take(app, reach))
        failed = [name for name, svg in shots if not self._matches(name, svg)]
        if failed:
            pytest.fail(
                f"{len(failed)} of {len(shots)} shots differ: {', '.join(failed)} (the "
                "snapshot report has them side by side; --snapshot-update accepts them)\n"
                + "\n".join(self.text_diffs)
            )

    async def _take(self, app: HiphookApp, reach: Reach) -> list[tuple[str, str]]:
        shots = []
        async with app.run_test(size=SHOTS[0][0]) as pilot:
            await settle(pilot)
            await reach(pilot)
            for size, theme in SHOTS:
                if size != tuple(app.size):
                    await pilot.resize_terminal(*size)
                if theme != app.theme:
                    app.theme = theme
                await still(pilot)
                name = f"{size[0]}x{size[1]}-{theme.removeprefix('textual-')}"
                shots.append((name, app.export_screenshot()))
        return shots

    def _matches(self, name: str, svg: str) -> bool:
        """Compare one shot, and hand it to the plugin's report as `snap_compare` does."""
        assertion = self.snapshot(name=name)
        result = bool(assertion == svg)
        expected = str(assertion)
        exists = assertion.executions[assertion.num_executions - 1].final_data is not None
        if not result:
            self.text_diffs.append(text_diff(name, expected if exists else "", svg))
        console = Console(legacy_windows=False, force_terminal=True)
        pseudo = PseudoApp(PseudoConsole(console.legacy_windows, console.size))
        path, line, test_name = self.node.reportinfo()
        data = (
            result,
            expected,
            svg,
            pseudo,
            path,
            line,
            f"{test_name}[{name}]",
            inspect.getdoc(self.node.function) or "",
            "",
            exists,
        )
        report = node_to_report_path(self.node)
        report.with_name(f"{report.name}_{name}").write_bytes(pickle.dumps(data))
        return result


def text_diff(name: str, expected_svg: str, svg: str) -> str:
    """What changed, as text: readable in a CI log where the SVGs are not."""
    lines = difflib.unified_diff(
        svg_text(expected_svg).splitlines(),
        svg_text(svg).splitlines(),
        f"{name} (snapshot)",
        f"{name} (now)",
        lineterm="",
    )
    return "\n".join(lines) or f"{name}: the same text, other colours or styles"


async def still(pilot: Pilot[int]) -> None:
    """Let the screen repaint and stop what moves by itself (a blinking cursor)."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


@pytest.fixture
def shots(snapshot: SnapshotAssertion, request: pytest.FixtureRequest) -> Shots:
    return Shots(snapshot, request)


@pytest.fixture(scope="module")
def fixture_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three weeks of runs ending yesterday, the last with force traces (seeded, in UTC),
    shared by Home and History."""
    path = tmp_path_factory.mktemp("log") / "hiphook.db"
    build_log(path, TODAY, days=22, trace_samples=120)
    yield str(path)


def frozen_display(screen: RoutineScreen) -> Callable[[], None]:
    """Pause the screen's display timer; the returned tick is called in step with the
    fake clock instead, so the pressure trend holds the same cells on every run."""
    assert screen.display_timer is not None
    screen.display_timer.pause()
    return screen.display_tick


# ---------------------------------------------------------------------------- Home


def test_home_with_a_log(shots: Shots, fixture_log: str) -> None:
    app, _clock = make_app(None, db=fixture_log, home_loader=session_log_loader)

    async def reach(pilot: Pilot[int]) -> None:
        await pilot.press("s")  # the left side, kept in the test's own settings file
        home = await home_ready(pilot)
        await until(pilot, lambda: home.loaded)

    shots.check(app, reach)


def test_history(shots: Shots, fixture_log: str) -> None:
    app, _clock = make_app(None, db=fixture_log, home_loader=session_log_loader)

    async def reach(pilot: Pilot[int]) -> None:
        await home_ready(pilot)
        await pilot.press("h")
        screen = pilot.app.screen
        assert isinstance(screen, HistoryScreen)

        def newest_shown() -> bool:  # the newest session's steps, and its force plots
            if "No force traces" in screen.detail_text:
                return True
            plots = len(screen.query(".press"))
            return "Force of each press" in screen.detail_text and plots == len(screen.press_titles)

        await until(pilot, newest_shown)

    shots.check(app, reach)


# ---------------------------------------------------------------------------- a run


def test_check_in(shots: Shots) -> None:
    app, _clock = make_app(daily())

    async def reach(pilot: Pilot[int]) -> None:
        await pilot.press("3")

    shots.check(app, reach)


def test_routine_in_a_press_with_the_sensor(shots: Shots) -> None:
    """37 s into the first press, held since it began (a dip at 25 s)."""
    feed = Feed()
    app, clock = make_app(daily(), sensor_factory=feed.make)

    async def reach(pilot: Pilot[int]) -> None:
        tick = frozen_display(await start_run(pilot))
        feed.status("connected")

        def unseen() -> None:
            """The trend shows the last 10 s: the display need not tick before those."""

        await feed.hold(pilot, clock, 30.0, 0.0, each_batch=unseen)  # getting into position
        await feed.hold(pilot, clock, 23.0, 150.0, each_batch=unseen)
        for seconds, newtons in ((2.0, 150.0), (3.0, 110.0), (9.0, 170.0)):
            await feed.hold(pilot, clock, seconds, newtons, each_batch=tick)

    shots.check(app, reach)


def test_routine_in_a_hold(shots: Shots) -> None:
    """The realignment, rep 4, half a second into PUSH; no sensor."""
    routine = daily()
    app, clock = make_app(routine)
    holds = next(i for i, s in enumerate(routine.steps) if s.kind is StepKind.HOLDS)

    async def reach(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        tick = frozen_display(screen)
        for _ in range(holds):
            screen.runner.skip()  # what n does, without a key's round trip each
        await settle(pilot)
        clock.advance(3 * 5.0 + 0.5)
        await settle(pilot)
        tick()

    shots.check(app, reach)


def test_routine_at_the_lever_with_the_sensor(shots: Shots) -> None:
    feed = Feed()
    routine = daily()
    app, _clock = make_app(routine, sensor_factory=feed.make)
    lever = next(i for i, s in enumerate(routine.steps) if s.kind is StepKind.ACTION)

    async def reach(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot)
        tick = frozen_display(screen)
        feed.status("connected")
        for _ in range(lever):
            screen.runner.skip()
        await settle(pilot)
        assert screen.runner.engine.view().step_index == lever
        tick()

    shots.check(app, reach)


def test_summary(shots: Shots) -> None:
    """A whole run (the other side's psoas press skipped), pain 4 before and 2 after."""
    routine = daily()
    app, clock = make_app(routine)
    levers = [i for i, s in enumerate(routine.steps) if s.kind is StepKind.ACTION]
    skipped = 5
    assert routine.steps[skipped].kind is StepKind.PRESS and levers == [2, 6]

    def planned(start: int, stop: int) -> float:
        return sum(s.planned_s for s in routine.steps[start:stop])

    async def reach(pilot: Pilot[int]) -> None:
        screen = await start_run(pilot, pain="4")
        runner = screen.runner
        # The clock jumps from wait to wait: the runner catches up every boundary between.
        for start, stop in ((0, 2), (3, skipped)):
            clock.advance(planned(start, stop))
            await until(pilot, lambda stop=stop: runner.engine.view().step_index == stop)
            if stop in levers:
                clock.advance(6.0)
                await pilot.press("enter")
        await pilot.press("n")  # the psoas press of the other side
        await until(pilot, lambda: runner.engine.view().step_index == levers[1])
        clock.advance(6.0)
        await pilot.press("enter")
        clock.advance(planned(levers[1] + 1, len(routine.steps)))
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("2")
        await app.workers.wait_for_complete()

    shots.check(app, reach)


def test_a_changed_screen_fails_with_its_text_diff() -> None:
    """The check itself: a shot that differs from its file fails, saying what changed."""
    before = '<text x="0" y="20" clip-path="url(#terminal-1-line-0)">Streak 3 days</text>'
    after = before.replace("3 days", "4 days")
    diff = text_diff("home", before, after)
    assert "-Streak 3 days" in diff and "+Streak 4 days" in diff
    assert "other colours" in text_diff("home", before, before)

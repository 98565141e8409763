"""The session assembly: one order for both faces, the verdict in the event, one record.

The runs here are real (engine, runner, sensor attachment, coach, recorder, a SQLite
file, the cue player with the terminal bell); only the clock is a FakeClock, and the
sensor's batches are handed to the attachment as its reader thread would hand them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import app.cues
from app.core.clock import FakeClock
from app.core.coach import CoachEvent, CoachKind
from app.core.engine import HOLD_REASON, Event, EventKind, State
from app.core.routine import Routine, Step, StepKind
from app.plain import summary_dict
from app.sensor import LinkStatus, SensorBatch
from app.sensor.attachment import SensorAttachment
from app.session import RunOptions, Session, SessionLog, assemble, prepare_routine
from app.settings import Settings
from app.store.store import open_store
from app.tui.screens.summary import step_lines

RATE_HZ = 100
BATCH_S = 0.1


def judged(press_s: float = 10) -> Routine:
    return Routine(
        name="judged",
        title="Judged press",
        version=1,
        description="",
        steps=(
            Step(StepKind.TIMED, "Position", "Find the spot.", seconds=3),
            Step(StepKind.PRESS, "Press", "Keep the pressure on.", seconds=press_s),
            Step(StepKind.ACTION, "Lever", "Push the lever.", seconds=10),
        ),
    )


class Hand:
    """Drives a session: moves the fake clock, hands over batches, polls the runner."""

    def __init__(self, session: Session, clock: FakeClock) -> None:
        self.session = session
        self.clock = clock
        self.ms = 0

    @property
    def sensor(self) -> SensorAttachment:
        assert self.session.sensor is not None
        return self.session.sensor

    async def hold(self, seconds: float, newtons: float) -> None:
        per = round(RATE_HZ * BATCH_S)
        for _ in range(round(seconds / BATCH_S)):
            self.clock.advance(BATCH_S)
            samples = []
            for _ in range(per):
                self.ms += 1000 // RATE_HZ
                samples.append((self.ms, self.ms, round(newtons * 100)))
            self.sensor._on_batch(SensorBatch(time.monotonic(), samples, [], "device"))
            self.session.runner.poll()
            await asyncio.sleep(0)  # the attachment's call_soon work (hold-only sync)

    async def lever(self) -> None:
        from app.core.protocol import LeverEvent

        self.ms += 10
        self.sensor._on_batch(
            SensorBatch(time.monotonic(), [], [LeverEvent(self.ms, True)], "device")
        )
        await asyncio.sleep(0)


def build(
    tmp_path: Path, options: RunOptions, routine: Routine, clock: FakeClock
) -> tuple[Session, SessionLog]:
    log = SessionLog(options)
    log.open(lambda text: None)
    session = assemble(
        options,
        routine,
        None,
        clock=clock,
        settings=Settings(),
        log=log,
        ring=lambda: None,
        sensor_factory=lambda runner: SensorAttachment(runner, "none", hold_only=options.hold_only),
    )
    return session, log


def logged_steps(db: Path) -> list[dict[str, Any]]:
    store = open_store(db)
    try:
        [s] = store.sessions()
        return s["steps"]
    finally:
        store.close()


def test_verdict_then_log_then_cues_then_face(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order the docstring of app/session.py promises, seen from each stage: the log's
    writer holds the step and its verdict before the cues and the face hear of it (its
    thread commits it a moment later: docs/log.md)."""
    db = tmp_path / "order.db"
    seen: list[tuple[str, str | None]] = []
    handed: list[Session] = []

    def verdict_on_disk() -> str | None:
        recorder = handed[0].recorder if handed else None
        if recorder is None or recorder.writer is None or recorder.key is None:
            return None
        return recorder.writer.handed(recorder.key).get(1)

    real_attach = app.cues.attach_cues

    def attach_and_spy(runner: Any, mode: Any, **kw: Any) -> Any:
        player = real_attach(runner, mode, **kw)

        def at_cues(ev: Event) -> None:  # subscribed where the player is
            if ev.kind is EventKind.STEP_FINISHED and ev.step == 1:
                assert ev.verdict is not None, "the judge enriched the event"
                seen.append(("cues", verdict_on_disk()))

        runner.subscribe(at_cues)
        return player

    monkeypatch.setattr(app.cues, "attach_cues", attach_and_spy)
    clock = FakeClock()

    async def main() -> None:
        options = RunOptions(db=str(db), cues="bell")
        session, log = build(tmp_path, options, judged(), clock)
        handed.append(session)
        assert session.player is not None
        session.start(asyncio.get_running_loop())

        def face(ev: Event) -> None:
            if ev.kind is EventKind.STEP_FINISHED and ev.step == 1:
                seen.append(("face", verdict_on_disk()))

        def face_coach(c: CoachEvent) -> None:
            if c.kind is CoachKind.VERDICT:
                seen.append(("face hears the verdict", verdict_on_disk()))

        session.runner.subscribe(face)
        hand = Hand(session, clock)
        hand.sensor.subscribe(face_coach)
        session.runner.start()
        hand.sensor._on_status(LinkStatus(state="connected", rate_hz=RATE_HZ))
        await hand.hold(3.0, 0.0)
        await hand.hold(10.5, 160.0)
        await hand.lever()
        assert session.runner.done
        session.close()
        outcome = log.close()
        assert outcome is not None and outcome.complete

    asyncio.run(main())
    assert seen == [
        ("cues", "confirmed"),
        ("face hears the verdict", "confirmed"),
        ("face", "confirmed"),
    ]
    steps = logged_steps(db)
    assert steps[1]["under_pressure_s"] == pytest.approx(10, abs=0.2)
    assert steps[1]["trace"]["n_samples"] > 900


@pytest.mark.parametrize("hold_only", [False, True])
def test_hold_only_counts_only_held_time(tmp_path: Path, hold_only: bool) -> None:
    """A press held 4 s, let go for 3 s (past the 1 s grace), then held again: only
    hold-only waits for the missing seconds, and only it pauses for pressure."""
    clock = FakeClock()
    events: list[Event] = []

    async def main() -> Session:
        options = RunOptions(db=str(tmp_path / "h.db"), cues="none", hold_only=hold_only)
        session, _log = build(tmp_path, options, judged(press_s=10), clock)
        session.start(asyncio.get_running_loop())
        session.runner.subscribe(events.append)
        hand = Hand(session, clock)
        session.runner.start()
        hand.sensor._on_status(LinkStatus(state="connected", rate_hz=RATE_HZ))
        await hand.hold(3.0, 0.0)  # position
        await hand.hold(4.0, 160.0)
        await hand.hold(3.0, 5.0)  # lifted off
        for _ in range(200):  # held again until the press ends, whenever that is
            if session.runner.engine.view().step_index != 1:
                break
            await hand.hold(0.1, 160.0)
        await hand.lever()
        session.close()
        return session

    session = asyncio.run(main())
    record = session.runner.record
    press = record.steps[1]
    verdict = session.verdicts[1]
    waits = [e for e in events if e.kind is EventKind.PAUSED and e.reason == HOLD_REASON]
    if hold_only:
        assert waits, "the countdown waits for pressure"
        assert press.active_s == pytest.approx(10, abs=0.15)  # counted only while held
        # held for all but the 1 s grace the countdown ran on after the lift
        assert 9.0 <= verdict.under_pressure_s <= 10.0
        assert verdict.kind.value == "confirmed"
        assert record.paused_s >= 2.0  # the unheld seconds, as pause
    else:
        assert not waits
        assert press.active_s == pytest.approx(10, abs=0.15)  # the clock ran on
        assert verdict.under_pressure_s < 8.5  # the lift cost the press its seconds
        assert verdict.kind.value == "partial"
        assert record.paused_s == 0


def test_after_back_the_summary_and_the_log_keep_the_same_attempt(tmp_path: Path) -> None:
    db = tmp_path / "back.db"
    clock = FakeClock()
    options = RunOptions(db=str(db), cues="none")
    routine = judged(press_s=90)

    async def main() -> Session:
        log = SessionLog(options)
        log.open(lambda text: None)
        session = assemble(options, routine, None, clock=clock, settings=Settings(), log=log)
        runner = session.runner
        runner.start()
        clock.advance(3)
        runner.poll()  # position done; the press begins
        clock.advance(8)
        runner.back()  # 8 s into the press, back to the position
        clock.advance(3)
        runner.poll()  # position again; the press again
        clock.advance(1)
        runner.skip()  # skipped after 1 s this time
        runner.complete_action()
        assert runner.done
        log.close()  # the writer's thread has written everything it was handed
        return session

    session = asyncio.run(main())
    record = session.runner.record
    (line,) = [ln for ln in step_lines(record) if "Press" in ln]
    assert "skipped" in line and "0:01 of 1:30" in line, line
    step = logged_steps(db)[1]
    assert step["skipped"] and step["actual_s"] == pytest.approx(1)
    plain = summary_dict(record)["steps"][1]  # type: ignore[index]
    assert plain["actual_s"] == pytest.approx(1) and plain["skipped"]


def test_a_time_scaled_run_is_logged_as_a_demo_and_never_makes_a_day(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    options = RunOptions(routine="ball", side="left", db=str(db), cues="none", time_scale=10)
    assert options.demo and options.logs
    settings = Settings()
    routine, side, _notes = prepare_routine(options, settings, None)

    async def main() -> State:
        log = SessionLog(options)
        log.open(lambda text: None)
        session = assemble(options, routine, side, clock=FakeClock(), settings=settings, log=log)
        runner = session.runner
        runner.start()
        while not runner.done:
            if runner.engine.state is State.WAITING:
                runner.complete_action()
            else:
                runner.skip()
        log.close()
        return runner.record.state

    assert asyncio.run(main()) is State.FINISHED
    store = open_store(db)
    try:
        [s] = store.sessions(steps=False)
        assert s["status"] == "completed"
        assert store.done_days() == set()  # completed, but a demo
    finally:
        store.close()
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT demo FROM session").fetchall() == [(1,)]
    finally:
        con.close()


def test_a_demo_is_logged_only_where_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIPHOOK_DB")
    assert not RunOptions(time_scale=10).logs
    assert RunOptions(time_scale=10, db="x.db").logs
    assert RunOptions().logs and not RunOptions().demo


def test_no_screen_imports_the_cli_and_the_tui_never_sees_argparse() -> None:
    """The cycle cli -> tui/app -> screens/home -> cli is gone, imports in functions too."""
    import ast

    root = Path(__file__).resolve().parents[2] / "app"
    for path in [*root.glob("tui/**/*.py"), root / "session.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name != "app.cli" and name != "argparse", f"{path}: imports {name}"


def test_an_assembly_that_fails_after_the_cues_started_closes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last part (the watchers' publisher) cannot be made: the run is closed (its cue
    player, whose threads run with sound, with it) before the error goes on to the face."""
    import app.publish

    def no_publisher(*args: Any, **kw: Any) -> None:
        raise RuntimeError("the test's publisher cannot be made")

    closed: list[Session] = []
    real_close = Session.close

    def close(self: Session) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(app.publish, "Publisher", no_publisher)
    monkeypatch.setattr(Session, "close", close)
    options = RunOptions(cues="bell", time_scale=10)  # a demo: not logged
    with pytest.raises(RuntimeError, match="publisher cannot be made"):
        assemble(options, judged(), None, clock=FakeClock(), settings=Settings(), ring=lambda: None)
    (session,) = closed
    assert session.player is not None and session.publisher is None

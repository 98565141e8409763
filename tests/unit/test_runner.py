from __future__ import annotations

import asyncio

import pytest

from app.core.clock import FakeClock, ScaledClock
from app.core.engine import Event, EventKind, State
from app.core.routine import Routine, Step, StepKind, load_routine
from app.runner import SessionRunner, format_clock


def test_runner_on_a_fake_clock_wakes_when_the_clock_moves() -> None:
    async def main() -> list[Event]:
        clock = FakeClock()
        runner = SessionRunner(load_routine("ball").for_side("left"), clock)
        seen: list[Event] = []
        runner.subscribe(seen.append)
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0)
        assert seen[0].kind is EventKind.RUN_STARTED
        clock.advance(29.5)
        await asyncio.sleep(0)
        assert [e.count for e in seen if e.kind is EventKind.COUNTDOWN] == [3, 2, 1]
        clock.advance(0.5)
        await asyncio.sleep(0)
        assert seen[-1].kind is EventKind.STEP_STARTED and seen[-1].step == 1
        runner.abort()
        await asyncio.wait_for(task, 1)
        return seen

    seen = asyncio.run(main())
    assert seen[-1].kind is EventKind.ABORTED


def test_a_failing_listener_never_stops_the_run() -> None:
    async def main() -> SessionRunner:
        clock = FakeClock()
        r = Routine("t", "T", 1, "", (Step(StepKind.TIMED, "A", "a", seconds=2),))
        runner = SessionRunner(r, clock)

        def broken(ev: Event) -> None:
            raise OSError("disk full")

        runner.subscribe(broken)
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0)
        clock.advance(2)
        await asyncio.wait_for(task, 1)
        return runner

    runner = asyncio.run(main())
    assert runner.engine.state is State.FINISHED
    assert runner.listener_errors and "disk full" in runner.listener_errors[0]


def test_real_clock_run_keeps_to_the_plan() -> None:
    """On a real (scaled) clock: no boundary early, none far late, and the schedule is
    the plan's however late a wake-up was (the figures themselves are in bench/)."""
    r = Routine("t", "T", 1, "", (Step(StepKind.HOLDS, "H", "h", reps=10, push_s=1, relax_s=1),))
    runner = SessionRunner(r, ScaledClock(20))  # 20 s of plan in 1 s
    events: list[Event] = []
    runner.subscribe(events.append)
    record = asyncio.run(asyncio.wait_for(runner.run(), 30))
    assert record.state is State.FINISHED  # no false "asleep" pause when scaled either
    assert len(events) == 1 + 1 + 20 + 1 + 1  # run, step start, 20 phases, step end, finish
    late = [ev.t - ev.planned_t for ev in events]
    assert min(late) >= 0, "a boundary came early"
    # A bound for a broken wake-up (a missed deadline waits for the 1 s heartbeat, 20 s
    # here), loose enough for a busy machine: 2 s of plan is 100 ms of real time.
    assert max(late) < 2.0, late
    # Lateness never carries forward: each boundary is planned from the start.
    assert [ev.planned_t for ev in events if ev.kind is EventKind.PHASE] == [
        pytest.approx(float(k)) for k in range(20)
    ]
    assert events[-1].planned_t == pytest.approx(20)
    assert record.active_s == pytest.approx(20) and record.paused_s == 0


def test_countdown_digits_round_up() -> None:
    assert format_clock(89.2) == "1:30"
    assert format_clock(0.2) == "0:01"
    assert format_clock(0.0) == "0:00"


def test_scaled_clock_reads_no_suspend_from_a_stall() -> None:
    """A few ms between two reads must not look like seconds asleep at ×1000."""
    import time as _time

    clock = ScaledClock(1000)
    mono, boot = clock.now(), clock.boot()
    _time.sleep(0.02)  # 20 s of scaled time passes, nobody suspended anything
    gap = (clock.boot() - boot) - (clock.now() - mono)
    assert abs(gap) < 0.5


def test_heartbeat_polls_between_distant_deadlines() -> None:
    """A suspend must be noticed within a second or so, not at the next boundary."""
    import app.runner as runner_mod

    r = Routine("t", "T", 1, "", (Step(StepKind.TIMED, "A", "a", seconds=600),))
    runner = SessionRunner(r, ScaledClock(1))
    polls: list[float] = []
    real_poll = runner.poll

    def counting_poll() -> None:
        polls.append(runner.clock.now())
        real_poll()

    runner.poll = counting_poll  # type: ignore[method-assign]
    old = runner_mod.HEARTBEAT_S
    runner_mod.HEARTBEAT_S = 0.05

    async def main() -> None:
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.5)
        runner.abort()
        await asyncio.wait_for(task, 2)

    try:
        asyncio.run(main())
    finally:
        runner_mod.HEARTBEAT_S = old
    assert len(polls) >= 4  # ~10 heartbeats in 0.5 s; without them, none before 597 s

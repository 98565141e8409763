from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.clock import FakeClock
from app.core.engine import Engine, EventKind, State, run_to_end
from app.core.routine import Routine, Step, StepKind, load_routine


def daily() -> Routine:
    return load_routine("daily").for_side("left")


def expected_boundaries(r: Routine, action_wait: float) -> list[tuple[str, int, float]]:
    """The schedule worked out independently of the engine, from the routine alone."""
    out: list[tuple[str, int, float]] = []
    t = 0.0
    for i, s in enumerate(r.steps):
        out.append(("step_started", i, t))
        if s.kind is StepKind.ACTION:
            t += action_wait
        elif s.kind in (StepKind.HOLDS, StepKind.REPS):
            for _rep in range(s.reps):
                out.append(("phase", i, t))
                t += s.push_s
                out.append(("phase", i, t))
                t += s.relax_s
        else:
            for c in (3, 2, 1):
                out.append(("countdown", i, t + s.seconds - c))
            t += s.seconds
        out.append(("step_finished", i, t))
    return sorted(out, key=lambda x: (x[2], x[1], x[0] != "step_finished"))


def test_whole_daily_routine_on_fake_clock() -> None:
    r = daily()
    clock = FakeClock()
    engine = Engine(r, clock)

    def advance(dt: float) -> None:
        clock.advance(dt)

    events = engine.start()
    while engine.state is not State.FINISHED:
        if engine.state is State.WAITING:
            clock.advance(7.0)  # the runner takes 7 s to push the lever
            events += engine.complete_action()
            continue
        deadline = engine.next_deadline()
        assert deadline is not None
        clock.advance(deadline - clock.now())
        events += engine.poll()
    got = [
        (e.kind.value, e.step, e.planned_t)
        for e in events
        if e.kind.value in ("step_started", "phase", "countdown", "step_finished")
    ]
    want = expected_boundaries(r, 7.0)
    assert sorted(got, key=lambda x: (x[2], x[1], x[0] != "step_finished")) == want
    assert all(e.t == pytest.approx(e.planned_t) for e in events)
    rec = engine.record
    assert rec.state is State.FINISHED
    # Waiting at the two lever steps is not exercise: it is counted apart.
    assert rec.active_s == pytest.approx(r.timed_total_s)
    assert rec.waiting_s == pytest.approx(2 * 7.0)
    assert [s.waited_s for s in rec.steps if s.kind == "action"] == [7.0, 7.0]
    assert rec.elapsed_s == pytest.approx(rec.active_s + rec.waiting_s)
    # One planned total everywhere: the routine's (lever steps at their estimate).
    assert rec.planned_s == pytest.approx(r.total_s)
    assert all(s.completed and not s.skipped for s in rec.steps)
    assert [s.reps_done for s in rec.steps if s.kind in ("holds", "reps")] == [10, 10]
    assert events[-1].kind is EventKind.FINISHED


def test_phases_are_named_for_the_step() -> None:
    clock = FakeClock()
    events = run_to_end(Engine(daily(), clock), clock.advance)
    hold = [e for e in events if e.kind is EventKind.PHASE and e.name.startswith("Realignment")]
    calves = [e for e in events if e.kind is EventKind.PHASE and e.name == "Calf raises"]
    assert [e.phase for e in hold[:4]] == ["push", "relax", "push", "relax"]
    assert [e.rep for e in hold[:4]] == [1, 1, 2, 2]
    assert [e.phase for e in calves[:2]] == ["up", "down"]
    assert len(hold) == 20 and len(calves) == 20


def test_late_poll_never_shifts_the_schedule() -> None:
    """A poll 0.4 s late emits late but the next boundary keeps its planned time."""
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(30.4)
    events = engine.poll()
    finished = [e for e in events if e.kind is EventKind.STEP_FINISHED][0]
    assert finished.planned_t == pytest.approx(30.0) and finished.t == pytest.approx(30.4)
    assert engine.next_deadline() == pytest.approx(clock.now() - 0.4 + 87.0)


def test_no_boundary_fires_early() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(26.999)
    assert engine.poll() == []
    clock.advance(0.001)
    (ev,) = engine.poll()
    assert ev.kind is EventKind.COUNTDOWN and ev.count == 3


def test_pause_freezes_and_shifts() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(10)
    engine.pause()
    assert engine.state is State.PAUSED
    clock.advance(100)
    assert engine.poll() == []
    assert engine.view().step_remaining_s == pytest.approx(20)
    engine.resume()
    assert engine.view().step_remaining_s == pytest.approx(20)
    clock.advance(20)
    assert any(e.kind is EventKind.STEP_FINISHED for e in engine.poll())
    assert engine.record.paused_s == pytest.approx(100)
    assert engine.record.steps[0].active_s == pytest.approx(30)


def test_skip_and_back() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(5)
    engine.skip()
    assert engine.record.steps[0].skipped and engine.view().step_index == 1
    clock.advance(40)
    engine.back()
    v = engine.view()
    assert v.step_index == 0 and v.step_remaining_s == pytest.approx(30)
    assert engine.record.steps[1].active_s == pytest.approx(40)
    assert not engine.record.steps[0].skipped  # revisited: starts afresh
    engine.abort()
    assert engine.state is State.ABORTED
    assert not engine.record.interrupted  # the user's choice


def test_after_back_the_last_attempt_is_the_steps_record() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(30)  # step 0 done on time
    engine.poll()
    clock.advance(8)
    engine.back()  # 8 s into step 1, back to step 0
    clock.advance(30)
    engine.poll()  # step 0 again, done; step 1 again
    clock.advance(1)
    engine.skip()  # skipped after 1 s this time
    step = engine.record.steps[1]
    assert step.skipped and not step.completed
    assert step.active_s == pytest.approx(1)  # this attempt, not 8 + 1
    assert step.visits == 2
    # the run's own totals keep every second really spent
    assert engine.record.active_s == pytest.approx(30 + 8 + 30 + 1)


def test_an_abort_from_outside_is_marked_interrupted() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(3)
    (ev,) = engine.abort("Ctrl-C", interrupted=True)
    assert ev.kind is EventKind.ABORTED and ev.interrupted
    assert ev.to_dict()["interrupted"] is True
    assert engine.record.interrupted and engine.record.state is State.ABORTED


def test_action_waits_until_confirmed() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(120)
    events = engine.poll()
    assert engine.state is State.WAITING
    assert events[-1].kind is EventKind.WAITING
    clock.advance(3600)
    assert engine.poll() == [] and engine.state is State.WAITING
    engine.complete_action()
    assert engine.state is State.RUNNING and engine.view().step.name == "Iliacus press"


def test_suspend_is_noticed_and_pauses() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock)
    engine.start()
    clock.advance(40)
    engine.poll()
    clock.suspend(600)  # lid closed for ten minutes: monotonic time stood still
    clock.advance(0.5)
    events = engine.poll()
    assert engine.state is State.PAUSED
    assert events[-1].kind is EventKind.PAUSED and "asleep" in events[-1].reason
    assert engine.view().step_remaining_s == pytest.approx(80 - 0.5)


def test_wall_clock_is_never_consulted(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    def broken() -> float:
        raise AssertionError("wall clock used")

    monkeypatch.setattr(time, "time", broken)
    clock = FakeClock()
    run_to_end(Engine(daily(), clock), clock.advance)


# ----------------------------------------------------------------- property tests
ACTIONS = st.sampled_from(["pause", "resume", "skip", "back", "confirm", "abort", "wait"])


def small_routine() -> Routine:
    steps = (
        Step(StepKind.TIMED, "A", "a", seconds=5),
        Step(StepKind.PRESS, "B", "b", seconds=7),
        Step(StepKind.ACTION, "C", "c", seconds=3),
        Step(StepKind.HOLDS, "D", "d", reps=3, push_s=2, relax_s=1),
        Step(StepKind.REPS, "E", "e", reps=2, push_s=1.5, relax_s=1.5),
    )
    return Routine("t", "T", 1, "", steps)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ACTIONS, st.floats(0, 6, allow_nan=False)), max_size=40))
def test_any_controls_keep_the_invariants(script: list[tuple[str, float]]) -> None:
    clock = FakeClock()
    engine = Engine(small_routine(), clock)
    events = engine.start()
    t0 = clock.now()
    for action, dt in script:
        # advance in small hops, polling, so lateness stays bounded by the hop
        clock.advance(dt)
        events += engine.poll()
        events += {
            "pause": engine.pause,
            "resume": engine.resume,
            "skip": engine.skip,
            "back": engine.back,
            "confirm": engine.complete_action,
            "abort": engine.abort,
            "wait": engine.poll,
        }[action]()
    # finish whatever is left, confirming actions at once
    events += run_rest(engine, clock)
    rec = engine.record
    for e in events:
        assert e.t >= e.planned_t - 1e-9, e  # never early
    assert rec.active_s + rec.waiting_s + rec.paused_s == pytest.approx(rec.elapsed_s, abs=1e-6)
    assert rec.planned_s == pytest.approx(small_routine().total_s)
    assert rec.elapsed_s <= clock.now() - t0 + 1e-9
    touched = any(a in ("skip", "back", "abort") for a, _ in script)
    if not touched and rec.state is State.FINISHED:
        timed = sum(s.active_s for s in rec.steps if s.kind != "action")
        assert timed == pytest.approx(small_routine().timed_total_s)


def run_rest(engine: Engine, clock: FakeClock) -> list:  # type: ignore[type-arg]
    events = engine.resume()
    while engine.state not in (State.FINISHED, State.ABORTED):
        if engine.state is State.WAITING:
            events += engine.complete_action()
            continue
        d = engine.next_deadline()
        assert d is not None
        clock.advance(max(0.0, d - clock.now()))
        events += engine.poll()
    return events


def test_hold_only_press_counts_down_only_while_held() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock, hold_only=True)
    engine.start()
    clock.advance(30)
    engine.poll()  # into the psoas press: it waits for pressure
    assert engine.state is State.PAUSED and "pressure" in engine.view().pause_reason
    clock.advance(5)
    engine.set_held(True)
    clock.advance(50)
    engine.set_held(False)  # let go for 20 s: the countdown stops
    clock.advance(20)
    assert engine.view().step_remaining_s == pytest.approx(40)
    engine.set_held(True)
    clock.advance(40)
    events = engine.poll()
    done = [e for e in events if e.kind is EventKind.STEP_FINISHED][0]
    assert done.actual_s == pytest.approx(90)  # 90 s under pressure, 25 s waiting
    assert engine.record.paused_s == pytest.approx(25)


def test_user_pause_during_a_hold_wait_is_not_undone_by_pressure() -> None:
    clock = FakeClock()
    engine = Engine(daily(), clock, hold_only=True)
    engine.start()
    clock.advance(30)
    engine.poll()
    engine.toggle_pause()  # the user pauses while the app waits for pressure
    engine.set_held(True)
    assert engine.state is State.PAUSED and engine.view().pause_reason == "paused"
    engine.toggle_pause()
    assert engine.state is State.RUNNING

from __future__ import annotations

import pytest

from app.core.clock import FakeClock
from app.core.coach import CoachKind, PressureCoach
from app.core.engine import Engine, State
from app.core.pressure import Band, VerdictKind, Zone
from app.core.routine import load_routine

BAND = Band(low=100.0, high=300.0, hysteresis=10.0, grace_s=1.0, calibrated=True)


def setup() -> tuple[FakeClock, Engine, PressureCoach]:
    r = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(r, clock)
    coach = PressureCoach(r, band=BAND, sensor_connected=True)
    return clock, engine, coach


def feed_until(
    clock: FakeClock,
    engine: Engine,
    coach: PressureCoach,
    until: float,
    force: float,
    rate: int = 20,
) -> list:  # type: ignore[type-arg]
    out = []
    while engine.t() < until + 1e-6:
        clock.advance(1 / rate)
        for ev in engine.poll():
            out += coach.on_event(ev)
        out += coach.on_samples([(engine.t(), force)])
    return out


def test_position_tares_then_a_steady_press_is_confirmed() -> None:
    clock, engine, coach = setup()
    for ev in engine.start():
        coach.on_event(ev)
    out = feed_until(clock, engine, coach, 30.0, force=12.0)  # tool empty, 12 N of drift
    out += feed_until(clock, engine, coach, 120.0, force=212.0)
    kinds = [e.kind for e in out]
    assert CoachKind.TARED in kinds
    verdicts = [e for e in out if e.kind is CoachKind.VERDICT]
    assert len(verdicts) == 1 and verdicts[0].verdict is not None
    assert verdicts[0].verdict.kind is VerdictKind.CONFIRMED
    assert coach.last_force == pytest.approx(200.0, abs=0.5)
    assert len(coach.traces[1]) >= 90 * 20 - 1


def test_a_slip_is_announced_and_the_press_is_partial() -> None:
    clock, engine, coach = setup()
    for ev in engine.start():
        coach.on_event(ev)
    feed_until(clock, engine, coach, 30.0, force=0.0)
    out = feed_until(clock, engine, coach, 60.0, force=200.0)
    out += feed_until(clock, engine, coach, 90.0, force=10.0)  # let go for 30 s
    out += feed_until(clock, engine, coach, 120.0, force=200.0)
    zones = [e.zone for e in out if e.kind is CoachKind.ZONE]
    assert zones == [Zone.HELD, Zone.OUT, Zone.HELD]
    (v,) = [e.verdict for e in out if e.kind is CoachKind.VERDICT]
    assert v is not None and v.kind is VerdictKind.PARTIAL
    assert v.share == pytest.approx(60 / 90, abs=0.02)


def test_lever_completes_only_the_lever_step() -> None:
    clock, engine, coach = setup()
    for ev in engine.start():
        coach.on_event(ev)
    assert coach.on_lever(True, 1.0) == []  # not a lever step
    feed_until(clock, engine, coach, 120.0, force=200.0)
    assert engine.state is State.WAITING
    (lever,) = coach.on_lever(True, engine.t())
    assert lever.kind is CoachKind.LEVER


def test_sensor_lost_mid_press_is_unverified_for_the_gap() -> None:
    clock, engine, coach = setup()
    for ev in engine.start():
        coach.on_event(ev)
    feed_until(clock, engine, coach, 50.0, force=200.0)
    coach.on_connection(False, engine.t())
    clock.advance(12)
    for ev in engine.poll():
        coach.on_event(ev)
    coach.on_connection(True, engine.t())
    out = feed_until(clock, engine, coach, 120.0, force=200.0)
    (v,) = [e.verdict for e in out if e.kind is CoachKind.VERDICT]
    assert v is not None and v.kind is VerdictKind.UNVERIFIED
    assert v.lost_s == pytest.approx(12, abs=0.1) and "12 s" in v.reason


def test_a_lever_left_down_does_not_complete_the_next_lever_step() -> None:
    clock, engine, coach = setup()
    for ev in engine.start():
        coach.on_event(ev)
    feed_until(clock, engine, coach, 120.0, force=200.0)
    assert coach.on_lever(True, engine.t())
    for ev in engine.complete_action():
        coach.on_event(ev)
    feed_until(clock, engine, coach, 330.2, force=200.0)  # to the second lever step
    assert engine.state is State.WAITING
    assert coach.on_lever(True, engine.t()) == []  # still down from the first side
    coach.on_lever(False, engine.t())
    assert coach.on_lever(True, engine.t())

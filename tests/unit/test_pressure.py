from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.pressure import (
    DEFAULT_BAND,
    Band,
    PressJudge,
    SoftTare,
    VerdictKind,
    Zone,
    band_from_calibration,
)

BAND = Band(low=100.0, high=300.0, hysteresis=10.0, grace_s=1.0, calibrated=True)
RATE = 20  # samples per second in these tests


def run(forces: list[float], planned: float, band: Band = BAND) -> tuple[PressJudge, list]:  # type: ignore[type-arg]
    judge = PressJudge(band, start_t=0.0, planned_s=planned)
    events = []
    for i, f in enumerate(forces):
        events += judge.feed(i / RATE, f)
    return judge, events


in_band = st.floats(BAND.low, BAND.high, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(in_band, min_size=1, max_size=50))
def test_hold_in_band_for_the_whole_step_is_confirmed(pattern: list[float]) -> None:
    forces = (pattern * (30 * RATE + 1))[: 30 * RATE + 1]
    judge, events = run(forces, planned=30)
    verdict = judge.finish(30.0)
    assert verdict.kind is VerdictKind.CONFIRMED
    assert verdict.under_pressure_s == pytest.approx(30.0)
    assert [e.zone for e in events] == [Zone.HELD]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 40), st.integers(1, RATE - 1)), min_size=1, max_size=15),
    st.floats(0, BAND.low - BAND.hysteresis - 0.01),
)
def test_dips_shorter_than_grace_never_break_a_hold(
    pattern: list[tuple[int, int]], dip_force: float
) -> None:
    forces = [200.0]
    for held, dipped in pattern:
        forces += [200.0] * held + [dip_force] * dipped  # a dip of < RATE samples spans < 1 s
    forces += [200.0]
    planned = (len(forces) - 1) / RATE
    judge, events = run(forces, planned=planned)
    assert [e.zone for e in events] == [Zone.HELD]
    verdict = judge.finish(planned)
    assert verdict.kind is VerdictKind.CONFIRMED
    assert verdict.under_pressure_s == pytest.approx(planned)


def test_a_dip_longer_than_grace_breaks_and_is_cued_within_a_second() -> None:
    forces = [200.0] * 100 + [20.0] * 60 + [200.0] * 100
    judge, events = run(forces, planned=13)
    assert [e.zone for e in events] == [Zone.HELD, Zone.OUT, Zone.HELD]
    left_at = 100 / RATE
    assert left_at < events[1].t <= left_at + BAND.grace_s + 1 / RATE
    verdict = judge.finish(13)
    assert verdict.kind is VerdictKind.PARTIAL
    assert verdict.under_pressure_s == pytest.approx(13 - 3.0, abs=0.06)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=400), st.floats(1, 60))
def test_time_under_pressure_never_exceeds_the_step(forces: list[float], planned: float) -> None:
    end = min(planned, (len(forces) - 1) / RATE)
    judge = PressJudge(BAND, 0.0, planned)
    for i, f in enumerate(forces):
        if i / RATE > end:
            break
        judge.feed(i / RATE, f)
        assert judge.under_pressure_s(i / RATE) <= i / RATE + 1e-9
    assert judge.finish(end).under_pressure_s <= end + 1e-9


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(BAND.low - BAND.hysteresis, BAND.low, exclude_max=True, allow_nan=False),
        min_size=1,
        max_size=300,
    ),
    st.booleans(),
)
def test_dithering_inside_the_hysteresis_changes_nothing(
    dither: list[float], start_held: bool
) -> None:
    judge = PressJudge(BAND, 0.0, 100)
    if start_held:
        judge.feed(0.0, 200.0)
    before = judge.zone
    changes = []
    for i, f in enumerate(dither, start=1):
        changes += judge.feed(i / RATE, f)
    assert changes == [] and judge.zone is before


@given(
    st.lists(
        st.floats(BAND.high, BAND.high + BAND.hysteresis, allow_nan=False), min_size=1, max_size=200
    )
)
def test_dithering_at_the_top_edge_changes_nothing(dither: list[float]) -> None:
    judge = PressJudge(BAND, 0.0, 100)
    judge.feed(0.0, 200.0)
    assert all(judge.feed((i + 1) / RATE, f) == [] for i, f in enumerate(dither))


def test_weak_hold_is_not_confirmed() -> None:
    judge, events = run([70.0] * (30 * RATE + 1), planned=30)
    assert events == []
    v = judge.finish(30)
    assert v.kind is VerdictKind.PARTIAL and v.under_pressure_s == 0


def test_sensor_lost_makes_it_unverified_and_says_how_long() -> None:
    judge = PressJudge(BAND, 0.0, 30)
    for i in range(10 * RATE):
        judge.feed(i / RATE, 200.0)
    judge.sensor_lost(10.0)
    judge.sensor_back(17.0)
    for i in range(17 * RATE, 30 * RATE + 1):
        judge.feed(i / RATE, 200.0)
    v = judge.finish(30)
    assert v.kind is VerdictKind.UNVERIFIED and v.lost_s == pytest.approx(7)
    assert "lost for 7 s" in v.words()
    assert v.under_pressure_s == pytest.approx(23, abs=0.1)


def test_no_samples_is_unverified_no_sensor() -> None:
    v = PressJudge(DEFAULT_BAND, 0.0, 90).finish(90)
    assert v.kind is VerdictKind.UNVERIFIED and v.reason == "no sensor"
    assert not DEFAULT_BAND.calibrated


def test_calibration_band_and_refusal() -> None:
    b = band_from_calibration(2.0, 200.0, 320.0)
    assert b.calibrated and 2.0 < b.low < 200.0 < 320.0 < b.high
    with pytest.raises(ValueError):
        band_from_calibration(50.0, 40.0, 300.0)


@given(
    st.floats(-25, 25),
    st.lists(st.floats(-1, 1), min_size=40, max_size=40),
    st.lists(st.floats(0, 80), max_size=15),
)
def test_soft_tare_finds_the_floor_despite_brushes(
    drift: float, noise: list[float], brushes: list[float]
) -> None:
    tare = SoftTare(window=60, max_spread=3.0)
    for n in noise:
        tare.feed(drift + n)
    for b in brushes:  # a leg touching the tool only ever adds force
        tare.feed(drift + b)
    assert tare.settle()
    assert abs(tare.apply(drift)) <= 1.0 + 1e-9


def test_soft_tare_refuses_a_window_with_someone_on_the_tool() -> None:
    tare = SoftTare(window=40)
    for i in range(40):
        tare.feed(150.0 + (i % 3))
    assert not tare.settle() and tare.offset == 0

"""The steady reading that calibration takes: it waits for a still force, never less."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.settle import (
    WINDOW_S,
    Stage,
    SteadyReading,
    allowed_spread,
    noise_estimate,
)

rates = st.sampled_from([10, 80, 100, 1000])
levels = st.floats(-50.0, 600.0, allow_nan=False)
noises = st.floats(0.0, 3.0, allow_nan=False)
seeds = st.integers(0, 2**16)


def feed(reading: SteadyReading, force: object, rate: int, start: float, end: float) -> float:
    """Samples of force(t) from start to end at rate, polled after each; returns the
    time of the last one fed."""
    last = t = start
    n = 0
    while t <= end:
        reading.add(t, force(t))  # type: ignore[operator]
        last = t
        if reading.poll(t).stage in (Stage.DONE, Stage.TIMED_OUT):
            break
        n += 1
        t = start + n / rate
    return last


@settings(max_examples=25, deadline=None)
@given(rate=rates, level=levels, noise=noises, seed=seeds)
def test_a_still_force_is_read_once_a_window_and_a_measurement_have_passed(
    rate: int, level: float, noise: float, seed: int
) -> None:
    rng = random.Random(seed)
    reading = SteadyReading(0.0, measure_s=2.0, timeout_s=30.0)
    done_at = feed(reading, lambda t: level + rng.gauss(0.0, noise), rate, 0.0, 30.0)
    state = reading.poll(done_at)
    assert state.stage is Stage.DONE
    assert done_at >= WINDOW_S + 2.0  # never before a still window and a full measurement
    # a still force settles at once; a slow sensor's few samples may restart it, rarely
    # (1 in 3,000 at 10 Hz took a second more)
    assert done_at <= WINDOW_S + 2.0 + 3.0
    assert state.mean is not None and state.noise is not None
    n = 2.0 * rate
    assert abs(state.mean - level) <= 5 * noise / n**0.5 + 1e-9
    assert state.noise <= 3 * noise + 1e-9


@settings(max_examples=25, deadline=None)
@given(rate=rates, level=st.floats(0.0, 300.0), noise=st.floats(0.0, 2.0), seed=seeds)
def test_a_force_that_keeps_moving_times_out_at_the_deadline_and_not_before(
    rate: int, level: float, noise: float, seed: int
) -> None:
    """A body shifting on the tool by 40 N every half second is never still enough."""
    rng = random.Random(seed)
    timeout = 3.0
    reading = SteadyReading(0.0, measure_s=1.0, timeout_s=timeout)

    def shifting(t: float) -> float:
        return level + (40.0 + 0.1 * level if int(t * 2) % 2 else 0.0) + rng.gauss(0.0, noise)

    last = feed(reading, shifting, rate, 0.0, timeout - 0.01)
    assert reading.poll(last).stage in (Stage.SETTLING, Stage.MEASURING)
    state = reading.poll(timeout)
    assert state.stage is Stage.TIMED_OUT and state.mean is None
    reading.add(timeout + 0.1, level)  # nothing is taken once it has ended
    assert reading.poll(timeout + 0.2).stage is Stage.TIMED_OUT


@settings(max_examples=25, deadline=None)
@given(
    rate=st.sampled_from([10, 80, 100]),
    slope=st.floats(25.0, 200.0),
    noise=st.floats(0.0, 1.0),
    seed=seeds,
)
def test_a_ramp_is_not_read_until_it_has_ended(
    rate: int, slope: float, noise: float, seed: int
) -> None:
    """Lying down onto the tool: the force climbs to its level, and only that is read.

    A climb slower than about 15 N/s moves a one-second window by less than the 3 %
    tolerance left for a body's sway, so it is not a ramp to this reading."""
    rng = random.Random(seed)
    top = 150.0
    ramp_end = top / slope

    def ramp(t: float) -> float:
        return min(top, slope * t) + rng.gauss(0.0, noise)

    reading = SteadyReading(0.0, measure_s=1.0, timeout_s=30.0)
    done_at = feed(reading, ramp, rate, 0.0, 30.0)
    state = reading.poll(done_at)
    assert state.stage is Stage.DONE and state.mean is not None
    assert done_at >= ramp_end + 1.0
    assert abs(state.mean - top) <= max(1.0, 0.03 * top)


def test_a_step_during_the_measurement_starts_it_again_and_reads_the_new_level() -> None:
    reading = SteadyReading(0.0, measure_s=2.0, timeout_s=30.0)
    done_at = feed(reading, lambda t: 100.0 if t < 2.0 else 160.0, 100, 0.0, 30.0)
    state = reading.poll(done_at)
    assert state.stage is Stage.DONE and state.restarts == 1
    assert state.mean == pytest.approx(160.0)
    assert done_at >= 2.0 + WINDOW_S + 2.0


def test_samples_out_of_order_by_a_jitter_count_as_the_last_time() -> None:
    reading = SteadyReading(0.0, measure_s=1.0, timeout_s=30.0)
    for i in range(300):
        t = i / 100 - (0.004 if i % 10 == 0 else 0.0)  # two batches overlapping a little
        reading.add(t, 50.0)
    state = reading.poll(3.0)
    assert state.stage is Stage.DONE and state.samples <= 300


def test_no_samples_means_a_timeout_with_nothing_seen() -> None:
    reading = SteadyReading(10.0, timeout_s=2.0)
    assert reading.poll(11.9).stage is Stage.SETTLING
    state = reading.poll(12.0)
    assert state.stage is Stage.TIMED_OUT and state.samples == 0 and state.last is None


@given(
    start=st.floats(-100.0, 100.0),
    slope=st.floats(-50.0, 50.0),
    n=st.integers(3, 200),
)
def test_the_noise_estimate_ignores_a_steady_trend(start: float, slope: float, n: int) -> None:
    assert noise_estimate([start + slope * i / 100 for i in range(n)]) == pytest.approx(
        0.0, abs=1e-6
    )


def test_the_noise_estimate_matches_gaussian_noise() -> None:
    rng = random.Random(1)
    forces = [150.0 + 0.02 * i + rng.gauss(0.0, 0.5) for i in range(2000)]
    assert noise_estimate(forces) == pytest.approx(0.5, rel=0.1)
    # a still force may spread by three noise widths, or a small tolerance if larger
    tolerance = 0.03 * sum(forces) / len(forces)
    assert allowed_spread(forces) == pytest.approx(max(3 * noise_estimate(forces), tolerance))


def test_times_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SteadyReading(0.0, timeout_s=0.0)

"""A steady reading: the mean force once it holds still, for `hiphook sensor calibrate`.

A reading taken while the user is still settling onto the tool (or while the load cell
is still ramping) would put the band in the wrong place, so the reading waits: the
force's spread over a sliding window must fall to what the sensor's own noise explains
(or a small tolerance, for the sway of a body lying still); the mean is then taken over
the next `measure_s` seconds, starting again if the force moves meanwhile. All of it before a
deadline, so a force that never settles ends in a clear "did not settle", not a hang.

Pure: times are seconds on one monotonic clock, handed in by the caller.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

WINDOW_S = 1.0  # the force must hold still this long before the reading starts
NOISE_FACTOR = 3.0  # white noise alone gives a spread of about one noise width
NOISE_HISTORY_S = 5.0  # the noise is estimated over this long (more than the window)
MIN_TOLERANCE_N = 1.0  # a reading this steady is steady, whatever the noise estimate
REL_TOLERANCE = 0.03  # ... and so is one within 3 % of its level (a body breathes)
MIN_SAMPLES = 5
CHECK_EVERY_S = 0.05  # how often (in sample time) the window is judged
MEDIAN_ABS_DIFF = 0.6745 * math.sqrt(2.0)  # median |x1 - x2| of two N(0, 1) draws
MOVED_FACTOR = 1.5  # a measurement restarts only past 1.5 x the still spread (hysteresis)


class Stage(StrEnum):
    SETTLING = "settling"  # waiting for the force to hold still
    MEASURING = "measuring"  # steady: averaging
    DONE = "done"
    TIMED_OUT = "timed out"


@dataclass(frozen=True, slots=True)
class ReadingState:
    """What the reading is doing, for the live line and the outcome."""

    stage: Stage
    last: float | None  # the newest force
    spread: float | None  # standard deviation over the sliding window
    allowed: float | None  # the spread below which the window counts as still
    measured_s: float  # seconds averaged so far (of measure_s)
    restarts: int  # times the force moved during a measurement
    samples: int  # every sample seen
    mean: float | None = None  # set when DONE
    noise: float | None = None  # the measurement's standard deviation, set when DONE


def spread(forces: list[float]) -> float:
    """The population standard deviation, in floats (statistics.pstdev is exact and slow)."""
    mean = math.fsum(forces) / len(forces)
    return math.sqrt(math.fsum((f - mean) ** 2 for f in forces) / len(forces))


def noise_from_diffs(diffs: list[float]) -> float:
    """The sensor's white noise (a standard deviation) from successive differences.

    The median of |d - median d| over d = x[i+1] - x[i] ignores a steady trend (a
    constant difference) and steps, which the plain standard deviation would count as
    noise.
    """
    if len(diffs) < 4:
        return 0.0
    centre = statistics.median(diffs)
    return statistics.median(abs(d - centre) for d in diffs) / MEDIAN_ABS_DIFF


def noise_estimate(forces: list[float]) -> float:
    """noise_from_diffs over a run of readings."""
    return noise_from_diffs([b - a for a, b in zip(forces, forces[1:], strict=False)])


def allowed_spread(forces: list[float], noise: float | None = None) -> float:
    """The spread a still force may show: a few noise widths, or the tolerance if
    larger. The noise is estimated from the forces unless given."""
    level = abs(statistics.fmean(forces))
    tolerance = max(MIN_TOLERANCE_N, REL_TOLERANCE * level)
    if noise is None:
        noise = noise_estimate(forces)
    return max(NOISE_FACTOR * noise, tolerance)


class SteadyReading:
    """Feed it (time, force) samples in time order; poll it for its state."""

    def __init__(
        self,
        start: float,
        *,
        measure_s: float = 3.0,
        timeout_s: float = 30.0,
        window_s: float = WINDOW_S,
    ) -> None:
        if not (measure_s > 0 and timeout_s > 0 and window_s > 0):
            raise ValueError("measure_s, timeout_s and window_s must be positive")
        self.deadline = start + timeout_s
        self.measure_s = measure_s
        self.window_s = window_s
        self._window: deque[tuple[float, float]] = deque()
        self._diffs: deque[tuple[float, float]] = deque()  # (time, change) for the noise
        self._measured: list[tuple[float, float]] = []
        self._stage = Stage.SETTLING
        self._spread: float | None = None
        self._allowed: float | None = None
        self._restarts = 0
        self._samples = 0
        self._checked_at = -math.inf

    def add(self, t: float, force: float) -> None:
        """One sample; ignored once the reading has ended. A time before the last one
        (stamps from two batches overlapping by a jitter) counts as the last one."""
        if self._stage in (Stage.DONE, Stage.TIMED_OUT):
            return
        if self._window:
            t = max(t, self._window[-1][0])
            self._diffs.append((t, force - self._window[-1][1]))
            while self._diffs[0][0] < t - NOISE_HISTORY_S:
                self._diffs.popleft()
        self._samples += 1
        self._window.append((t, force))
        # keep one sample at or before the window's start, so a full window spans it all
        while len(self._window) > 1 and self._window[1][0] <= t - self.window_s:
            self._window.popleft()
        if self._stage is Stage.MEASURING:
            self._measured.append((t, force))
        if t - self._checked_at < CHECK_EVERY_S:
            return  # the window's statistics cost a pass over it: not on every sample
        self._checked_at = t
        still = self._still(1.0 if self._stage is Stage.SETTLING else MOVED_FACTOR)
        if self._stage is Stage.SETTLING:
            if still:  # the window may still hold the end of a ramp: measure from here
                self._stage = Stage.MEASURING
                self._measured = [(t, force)]
            return
        if not still:  # moved during the measurement: wait for it to settle again
            self._stage = Stage.SETTLING
            self._measured = []
            self._restarts += 1
            return
        if t - self._measured[0][0] >= self.measure_s:
            self._stage = Stage.DONE

    def _still(self, factor: float) -> bool:
        forces = [f for _, f in self._window]
        if len(forces) < MIN_SAMPLES or self._window[-1][0] - self._window[0][0] < self.window_s:
            self._spread = spread(forces) if len(forces) > 1 else None
            self._allowed = None
            return False
        self._spread = spread(forces)
        self._allowed = allowed_spread(forces, noise_from_diffs([d for _, d in self._diffs]))
        return self._spread <= factor * self._allowed

    def poll(self, now: float) -> ReadingState:
        """The state at `now`; past the deadline an unfinished reading has timed out."""
        if self._stage not in (Stage.DONE, Stage.TIMED_OUT) and now >= self.deadline:
            self._stage = Stage.TIMED_OUT
        measured = [f for _, f in self._measured]
        done = self._stage is Stage.DONE
        return ReadingState(
            stage=self._stage,
            last=self._window[-1][1] if self._window else None,
            spread=self._spread,
            allowed=self._allowed,
            measured_s=self._measured[-1][0] - self._measured[0][0] if self._measured else 0.0,
            restarts=self._restarts,
            samples=self._samples,
            mean=statistics.fmean(measured) if done else None,
            noise=spread(measured) if done else None,
        )

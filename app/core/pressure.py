"""The pressure judge: was a press really held, and for how long?

A press only works if the pressure is sustained, so the judge turns a stream of force
samples into "held" / "not held" with two guards against flicker: hysteresis at the band
edges (a force dithering at the edge changes nothing) and a grace period that bridges
brief dips (shifting on the tool is not letting go). Pure: times and forces in, events
and a verdict out; forces in newtons, times in seconds on the session's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Band:
    """The target force band of one user."""

    low: float
    high: float
    hysteresis: float = 5.0
    grace_s: float = 1.0
    calibrated: bool = False

    def __post_init__(self) -> None:
        if not (0 <= self.low < self.high) or self.hysteresis < 0 or self.grace_s < 0:
            raise ValueError(f"not a usable band: {self}")


# Before calibration: a light-to-firm press by an adult lying on the tool.
DEFAULT_BAND = Band(low=60.0, high=450.0, hysteresis=8.0, grace_s=1.0, calibrated=False)


def band_from_calibration(
    unloaded: float, relaxed: float, press: float, grace_s: float = 1.0
) -> Band:
    """Three readings (tool empty, lying relaxed on it, a comfortable press) → a band.

    Lying relaxed on the tool is the press the routine asks for, so the band starts a
    little below it and reaches somewhat past the comfortable press.
    """
    if not unloaded < relaxed <= press:
        raise ValueError(
            "the readings must rise: tool empty < lying relaxed ≤ comfortable press "
            f"(got {unloaded:.1f}, {relaxed:.1f}, {press:.1f} N)"
        )
    low = unloaded + 0.7 * (relaxed - unloaded)
    high = press + 0.25 * (press - unloaded)
    hyst = max(1.0, 0.05 * (high - low))
    return Band(low=low, high=high, hysteresis=hyst, grace_s=grace_s, calibrated=True)


class Zone(StrEnum):
    OUT = "out"  # below the band (beyond the grace period)
    HELD = "held"  # in the band (or in a dip shorter than the grace)
    OVER = "over"  # above the band: still pressure, but harder than asked


class VerdictKind(StrEnum):
    CONFIRMED = "confirmed"
    PARTIAL = "partial"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class JudgeEvent:
    t: float
    zone: Zone


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    planned_s: float
    under_pressure_s: float
    lost_s: float = 0.0
    reason: str = ""

    @property
    def share(self) -> float:
        return self.under_pressure_s / self.planned_s if self.planned_s > 0 else 0.0

    def words(self) -> str:
        if self.kind is VerdictKind.CONFIRMED:
            return f"confirmed: held {self.under_pressure_s:.0f} of {self.planned_s:.0f} s"
        if self.kind is VerdictKind.PARTIAL:
            return (
                f"partial: held {self.share:.0%} ({self.under_pressure_s:.0f} of "
                f"{self.planned_s:.0f} s)"
            )
        return f"unverified: {self.reason}"


CONFIRM_SHARE = 0.9  # settling onto the tool takes a moment at the start


@dataclass
class PressJudge:
    """Judges one press from `start_t`; feed samples in time order, then `finish`."""

    band: Band
    start_t: float
    planned_s: float
    zone: Zone = Zone.OUT
    samples: int = 0
    _held_since: float | None = None
    _dip_since: float | None = None
    _held_s: float = 0.0
    _last_t: float | None = None
    _gaps: list[tuple[float, float]] = field(default_factory=list)
    _gap_open: float | None = None

    @property
    def is_held(self) -> bool:
        return self._held_since is not None

    def under_pressure_s(self, now: float) -> float:
        """Seconds held so far, counting an open hold up to `now` (or its open dip)."""
        total = self._held_s
        if self._held_since is not None:
            end = now
            if self._dip_since is not None and now - self._dip_since > self.band.grace_s:
                end = self._dip_since
            total += max(0.0, end - self._held_since)
        return min(total, max(0.0, now - self.start_t))

    def feed(self, t: float, force: float) -> list[JudgeEvent]:
        """One sample; returns zone changes (at most a couple per sample)."""
        if self._last_t is not None and t < self._last_t:
            return []  # out of order: ignore rather than run time backwards
        self._last_t = t
        self.samples += 1
        b = self.band
        out: list[JudgeEvent] = []
        self._expire_dip(t, out)
        if self._held_since is None:
            if force >= b.low:
                self._held_since = t
                self._dip_since = None
                self.zone = Zone.OVER if force > b.high + b.hysteresis else Zone.HELD
                out.append(JudgeEvent(t, self.zone))
            return out
        # currently held (possibly in a dip)
        if force < b.low - b.hysteresis:
            if self._dip_since is None:
                self._dip_since = t
        else:
            self._dip_since = None
            if self.zone is Zone.HELD and force > b.high + b.hysteresis:
                self.zone = Zone.OVER
                out.append(JudgeEvent(t, self.zone))
            elif self.zone is Zone.OVER and force <= b.high:
                self.zone = Zone.HELD
                out.append(JudgeEvent(t, self.zone))
        return out

    def tick(self, t: float) -> list[JudgeEvent]:
        """Time passes without samples (e.g. on a display tick): a dip may expire."""
        out: list[JudgeEvent] = []
        self._expire_dip(t, out)
        return out

    def _expire_dip(self, t: float, out: list[JudgeEvent]) -> None:
        if (
            self._held_since is not None
            and self._dip_since is not None
            and t - self._dip_since > self.band.grace_s
        ):
            self._held_s += max(0.0, self._dip_since - self._held_since)
            self._held_since = None
            self._dip_since = None
            self.zone = Zone.OUT
            out.append(JudgeEvent(t, Zone.OUT))

    def sensor_lost(self, t: float) -> None:
        if self._gap_open is None:
            self._gap_open = t
            self.tick(t)
            if self._held_since is not None:  # we cannot know: stop counting
                self._held_s += max(0.0, t - self._held_since)
                self._held_since = self._dip_since = None
                self.zone = Zone.OUT

    def sensor_back(self, t: float) -> None:
        if self._gap_open is not None:
            self._gaps.append((self._gap_open, t))
            self._gap_open = None

    def finish(self, end_t: float, *, sensor: bool = True) -> Verdict:
        if self._gap_open is not None:
            self.sensor_back(end_t)
        self.tick(end_t)
        held = self.under_pressure_s(end_t)
        planned = self.planned_s
        lost = sum(b - a for a, b in self._gaps)
        if not sensor or self.samples == 0:
            return Verdict(VerdictKind.UNVERIFIED, planned, 0.0, 0.0, "no sensor")
        if lost > 0:
            return Verdict(
                VerdictKind.UNVERIFIED, planned, held, lost, f"sensor lost for {lost:.0f} s"
            )
        if planned > 0 and held >= CONFIRM_SHARE * planned:
            return Verdict(VerdictKind.CONFIRMED, planned, held)
        return Verdict(VerdictKind.PARTIAL, planned, held)


@dataclass
class SoftTare:
    """A fresh zero from the readings while the tool is empty.

    Load cells drift by grams per minute, so the zero is re-taken while the tool is
    empty (getting into position) rather than once at start-up. A leg brushing the tool
    only ever adds force, so the zero is the window's floor (its 10th percentile), taken
    only if that floor is steady and small enough to be drift rather than a body.
    """

    window: int = 200
    max_spread: float = 3.0  # the lower half of the window must be this steady
    max_offset: float = 30.0  # a bigger "zero" is someone on the tool, not drift
    offset: float = 0.0
    _buf: list[float] = field(default_factory=list)

    def feed(self, raw: float) -> None:
        self._buf.append(raw)
        if len(self._buf) > self.window:
            del self._buf[0]

    def settle(self) -> bool:
        """Take the window's floor as the new zero if it is steady; True if taken."""
        if len(self._buf) < min(20, self.window):
            return False
        ordered = sorted(self._buf)
        lower = ordered[: len(ordered) // 2]
        floor = ordered[len(ordered) // 10]
        if lower[-1] - lower[0] > self.max_spread or abs(floor) > self.max_offset:
            return False
        self.offset = floor
        self._buf.clear()
        return True

    def apply(self, raw: float) -> float:
        return raw - self.offset

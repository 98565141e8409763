"""What the simulated user does with the tool: the true force and lever state over time.

A scenario answers `at(phase, t_in_phase, t)` with (newtons, lever engaged). The phase is
set by the app ("position" = unloaded, "press" = loaded, "lever" = lever step) so the
trace follows the routine; without an app an automatic cycle plays the phases in turn.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

PHASES = ("position", "press", "lever", "rest")
AUTO_CYCLE: tuple[tuple[str, float], ...] = (("position", 8.0), ("press", 40.0), ("lever", 10.0))


class ProfileError(ValueError):
    """A profile file that cannot be read; the message names the line."""


@dataclass
class Scenario:
    """Steady hold: a firm press that ramps up in 1.5 s and stays there."""

    name: str = "steady"
    hold_n: float = 150.0
    lever_n: float = 130.0
    ramp_s: float = 1.5
    # Transport behaviour the server applies (not force shape):
    plain: bool = False  # DIY sensor: bare numbers, no commands, no lever
    noise: float = 0.0  # probability that a line is corrupted on the wire
    unplug_every: float = 0.0  # seconds plugged before an automatic unplug (0: never)
    unplug_for: float = 2.0
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def press(self, t: float) -> float:
        return self.hold_n

    def at(self, phase: str, t_in_phase: float, t: float) -> tuple[float, bool]:
        ramp = min(1.0, t_in_phase / self.ramp_s) if self.ramp_s > 0 else 1.0
        if phase == "press":
            return ramp * self.press(t_in_phase), False
        if phase == "lever":
            return ramp * self.lever_n, True
        if phase == "position":
            # Getting into position: the leg brushes the tool now and then.
            return max(0.0, 6.0 * math.sin(t * 0.9) * math.sin(t * 0.23)), False
        return 0.0, False


@dataclass
class WeakHold(Scenario):
    """Holds, but well under the target force."""

    name: str = "weak"
    hold_n: float = 55.0
    lever_n: float = 50.0


@dataclass
class TiringHold(Scenario):
    """Starts strong and fades as the muscles tire."""

    name: str = "tiring"
    fade_s: float = 25.0

    def press(self, t: float) -> float:
        return self.hold_n * (0.2 + 0.8 * math.exp(-t / self.fade_s))


@dataclass
class BriefLifts(Scenario):
    """A good hold broken by short lifts off the tool every ten seconds."""

    name: str = "lifts"
    every_s: float = 10.0
    lift_s: float = 0.6  # shorter than the 1 s grace: shifting, not letting go

    def press(self, t: float) -> float:
        into = t % self.every_s
        if t > self.every_s / 2 and into < self.lift_s:
            return 5.0
        return self.hold_n


@dataclass
class Profile(Scenario):
    """A scripted trace from a file, played from the simulator's start, phase ignored.

    Text lines `seconds,newtons[,lever]` (lever 0/1), `#` comments; the force is
    interpolated linearly between points and holds the last point afterwards.
    """

    name: str = "profile"
    times: list[float] = field(default_factory=list)
    forces: list[float] = field(default_factory=list)
    levers: list[bool] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path, **kwargs: object) -> Profile:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"cannot read profile {path}: {exc}") from exc
        times: list[float] = []
        forces: list[float] = []
        levers: list[bool] = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split(",")]
            try:
                if len(parts) not in (2, 3):
                    raise ValueError("expected seconds,newtons[,lever]")
                t, f = float(parts[0]), float(parts[1])
                lever = len(parts) == 3 and parts[2] not in ("", "0")
                if not (math.isfinite(t) and math.isfinite(f)) or t < 0:
                    raise ValueError("numbers must be finite, time not negative")
                if times and t < times[-1]:
                    raise ValueError("times must not go backwards")
            except ValueError as exc:
                raise ProfileError(f"{path}:{number}: {exc}") from None
            times.append(t)
            forces.append(f)
            levers.append(lever)
        if not times:
            raise ProfileError(f"{path}: no points")
        return cls(times=times, forces=forces, levers=levers, **kwargs)  # type: ignore[arg-type]

    def at(self, phase: str, t_in_phase: float, t: float) -> tuple[float, bool]:
        i = bisect.bisect_right(self.times, t)
        if i == 0:
            return self.forces[0], self.levers[0]
        if i >= len(self.times):
            return self.forces[-1], self.levers[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        f0, f1 = self.forces[i - 1], self.forces[i]
        frac = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
        return f0 + (f1 - f0) * frac, self.levers[i - 1]


SCENARIOS: dict[str, type[Scenario]] = {
    "steady": Scenario,
    "weak": WeakHold,
    "tiring": TiringHold,
    "lifts": BriefLifts,
}
TRANSPORT_SCENARIOS = ("unplug", "noise", "diy")
SCENARIO_NAMES = (*SCENARIOS, *TRANSPORT_SCENARIOS, "profile")


def make_scenario(name: str, *, profile: str | Path | None = None, seed: int = 0) -> Scenario:
    """Build a scenario by name; the transport ones wrap a steady hold."""
    if name == "profile":
        if profile is None:
            raise ProfileError("the profile scenario needs a file (--profile PATH)")
        return Profile.load(profile, seed=seed)
    if name in SCENARIOS:
        return SCENARIOS[name](seed=seed)
    if name == "unplug":
        return Scenario(name=name, unplug_every=8.0, unplug_for=2.0, seed=seed)
    if name == "noise":
        return Scenario(name=name, noise=0.03, seed=seed)
    if name == "diy":
        return Scenario(name=name, plain=True, seed=seed)
    raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIO_NAMES)}")

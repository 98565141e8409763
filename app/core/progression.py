"""Progression by evidence: a routine's presses get longer only when the log says so.

The calendar rule (`Progression.press_seconds`: +add_s every every_days, whatever
happened) stays available; this one keeps the same pace but steps up only when the
last RECENT runs at the current length had every press confirmed by the sensor (or,
without one, completed) and no run ended with more pain than it began with. Pure: it
reads `RunEvidence` rows, oldest first, that the store builds from the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.core.routine import Progression

RECENT = 3  # runs at the current length that must all be good before a step up


@dataclass(frozen=True)
class RunEvidence:
    """One logged run of the routine, as the rule reads it."""

    day: date
    press_s: float  # the length its presses were planned at
    sensor: bool
    presses_good: bool  # every press confirmed (sensor) or completed (no sensor)
    completed: bool  # the run reached its end
    pain_before: int | None = None
    pain_after: int | None = None

    @property
    def pain_worse(self) -> bool:
        return (
            self.pain_before is not None
            and self.pain_after is not None
            and self.pain_after > self.pain_before
        )


@dataclass(frozen=True)
class Decision:
    """The press length for the next run, whether it stepped up, and why, in words."""

    press_s: float
    stepped: bool
    reason: str


def _s(x: float) -> str:
    return f"{x:g} s"


def by_evidence(p: Progression, runs: Sequence[RunEvidence], today: date) -> Decision:
    """The next run's press length from the runs so far (oldest first)."""
    if not runs:
        return Decision(p.start_s, False, f"First run: presses start at {_s(p.start_s)}.")
    level = min(p.max_s, max(p.start_s, runs[-1].press_s))
    if level >= p.max_s:
        return Decision(p.max_s, False, f"Presses at the full {_s(p.max_s)}.")
    at_level: list[RunEvidence] = []
    for r in reversed(runs):
        if r.press_s != level:
            break
        at_level.append(r)
    at_level.reverse()
    held = f"Presses stay at {_s(level)}"
    days = max(0, (today - at_level[0].day).days)  # a clock set back: no negative days
    if days < p.every_days:
        return Decision(
            level,
            False,
            f"{held}: {days} of {p.every_days} days at this length so far.",
        )
    recent = at_level[-RECENT:]
    if len(recent) < RECENT:
        return Decision(
            level,
            False,
            f"{held}: {len(recent)} of the {RECENT} runs needed at this length so far.",
        )
    for r in reversed(recent):
        if not r.completed or not r.presses_good:
            what = (
                "was stopped early"
                if not r.completed
                else (
                    "had a press the sensor did not confirm"
                    if r.sensor
                    else "had a press not completed"
                )
            )
            return Decision(level, False, f"{held}: the run of {r.day:%d %b} {what}.")
        if r.pain_worse:
            return Decision(
                level,
                False,
                f"{held}: after the run of {r.day:%d %b} the pain was higher "
                f"({r.pain_before} → {r.pain_after}).",
            )
    new = min(p.max_s, level + p.add_s)
    checked = "confirmed by the sensor" if all(r.sensor for r in recent) else "held to the end"
    return Decision(
        new,
        True,
        f"Presses up from {_s(level)} to {_s(new)}: the last {RECENT} runs' presses were "
        f"{checked}, and the pain was never higher after than before.",
    )

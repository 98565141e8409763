"""Which cue each engine event deserves: pure (in the core), so the whole plan can be tested.

The routine is done lying down, often with eyes closed, so every moment that asks the
runner to do something new gets a cue: a step starting or ending, the 3-2-1 before a
timed step ends, each push/relax of a hold and each up/down of a raise. With a sensor,
the pressure coach adds its own: the press slipped, it is held again, and how it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.coach import CoachEvent, CoachKind
from app.core.engine import Event, EventKind
from app.core.pressure import VerdictKind, Zone
from app.core.routine import Routine, StepKind


class Tone(StrEnum):
    """The sound family of a cue; the tone backend gives each its own short pattern."""

    START = "start"
    END = "end"
    COUNT = "count"
    PUSH = "push"
    RELAX = "relax"
    UP = "up"
    DOWN = "down"
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"
    STOP = "stop"
    SLIP = "slip"  # the pressure left the band
    HELD = "held"  # ... and is back in it
    EASE = "ease"  # harder than the band asks
    VERDICT = "verdict"
    SENSOR = "sensor"  # the sensor dropped out
    PACE = "pace"  # halfway / thirty seconds left in a long press


@dataclass(frozen=True)
class Cue:
    """One thing to say or sound. `t` is the planned time (s since the run's start)."""

    text: str
    tone: Tone
    t: float
    ring: bool = False  # the terminal bell (one sound only) rings for the cues that matter most
    stale_after: float = 3.0  # real seconds after which playing it late would mislead


# A phase or count heard late is worse than not heard: it would name the wrong moment.
_PHASE_STALE_S = 1.0
_COUNT_STALE_S = 0.6

_PHASE_TONES = {"push": Tone.PUSH, "relax": Tone.RELAX, "up": Tone.UP, "down": Tone.DOWN}


def _seconds_words(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s} seconds"
    m, r = divmod(s, 60)
    mins = "1 minute" if m == 1 else f"{m} minutes"
    return mins if r == 0 else f"{mins} {r}"


def step_start_text(routine: Routine, index: int) -> str:
    """Short spoken words for a step's start: name, side, and what it asks."""
    step = routine.steps[index]
    side = f", {step.side} side" if step.side in ("left", "right") else ""
    head = f"{step.name}{side}."
    if step.kind is StepKind.ACTION:
        return f"{head} Press Enter when done."
    if step.kind is StepKind.HOLDS:
        return f"{head} {step.reps} holds."
    if step.kind is StepKind.REPS:
        return f"{head} {step.reps} raises."
    return f"{head} {_seconds_words(step.planned_s)}."


def step_start_variants(routine: Routine, index: int) -> tuple[str, ...]:
    """The step's start words, then shorter forms for when time is short, longest first."""
    step = routine.steps[index]
    side = f", {step.side} side" if step.side in ("left", "right") else ""
    out = [step_start_text(routine, index), f"{step.name}{side}.", f"{step.name}."]
    return tuple(dict.fromkeys(out))


def shorter_texts(text: str) -> tuple[str, ...]:
    """A spoken text, then its first clause alone when it has more ("Press confirmed.")."""
    for i, ch in enumerate(text[:-1]):
        if ch in ".:" and text[i + 1] == " ":
            return (text, text[:i].rstrip(",") + ".")
    return (text,)


# Pacing in a long press: where the runner is, without opening their eyes.
HALFWAY_TEXT = "halfway"
THIRTY_LEFT_TEXT = "thirty seconds left"
HALFWAY_MIN_S = 20.0  # a shorter press is over before "halfway" helps
THIRTY_LEFT_MIN_S = 75.0  # so it comes well after "halfway" (at least 7.5 s)


def pacing_cues(end_t: float, planned_s: float) -> list[Cue]:
    """The pacing cues of a press of `planned_s` seconds that ends at `end_t`."""
    out: list[Cue] = []
    if planned_s >= HALFWAY_MIN_S:
        out.append(Cue(HALFWAY_TEXT, Tone.PACE, end_t - planned_s / 2, stale_after=1.0))
    if planned_s >= THIRTY_LEFT_MIN_S:
        out.append(Cue(THIRTY_LEFT_TEXT, Tone.PACE, end_t - 30.0, stale_after=1.0))
    return out


def cue_for(event: Event, routine: Routine) -> Cue | None:
    """The cue for one engine event, or None when the event needs no sound."""
    k = event.kind
    t = event.planned_t
    if k is EventKind.STEP_STARTED:
        return Cue(step_start_text(routine, event.step), Tone.START, t, ring=True, stale_after=6.0)
    if k is EventKind.PHASE and event.phase in _PHASE_TONES:
        effort = event.phase in ("push", "up")
        return Cue(
            event.phase, _PHASE_TONES[event.phase], t, ring=effort, stale_after=_PHASE_STALE_S
        )
    if k is EventKind.COUNTDOWN and event.count is not None:
        return Cue(str(event.count), Tone.COUNT, t, ring=True, stale_after=_COUNT_STALE_S)
    if k is EventKind.STEP_FINISHED:
        if event.reason == "back":
            return None  # the restarted step's own start cue follows at once
        return Cue("skipped" if event.skipped else "done", Tone.END, t, stale_after=2.0)
    if k is EventKind.PAUSED:
        return Cue("paused", Tone.PAUSE, t, stale_after=2.0)
    if k is EventKind.RESUMED:
        return Cue("go on", Tone.RESUME, t, stale_after=2.0)
    if k is EventKind.FINISHED:
        return Cue("Routine complete. Well done.", Tone.FINISH, t, ring=True, stale_after=10.0)
    if k is EventKind.ABORTED:
        return Cue("Stopped.", Tone.STOP, t, stale_after=3.0)
    return None  # run started, waiting: the step's start cue already said it


# A slip is corrected within a second or two; naming it any later would mislead.
_ZONE_STALE_S = 1.5
_ZONE_CUES = {
    Zone.OUT: ("press again", Tone.SLIP, True),
    Zone.HELD: ("held", Tone.HELD, False),
    Zone.OVER: ("easier", Tone.EASE, False),
}


HARDER_TEXT = "press harder"
# Every fixed phrase the coach can say, so a sound bank can render them before the run.
COACH_TEXTS: tuple[tuple[str, Tone], ...] = (
    *((text, tone) for text, tone, _ring in _ZONE_CUES.values()),
    (HARDER_TEXT, Tone.SLIP),
    ("sensor lost", Tone.SENSOR),
    ("Press confirmed.", Tone.VERDICT),
    ("Press partly held.", Tone.VERDICT),
    ("Press not verified.", Tone.VERDICT),
    ("Press not verified: no sensor reading.", Tone.VERDICT),
)


def verdict_text(event: CoachEvent) -> str:
    """The verdict as a short spoken sentence (units in words: "s" is read as a letter)."""
    v = event.verdict
    if v is None:
        return event.text
    held = _seconds_words(v.under_pressure_s)
    if v.kind is VerdictKind.CONFIRMED:
        return f"Press confirmed. Held {held}."
    if v.kind is VerdictKind.PARTIAL:
        return f"Press partly held: {v.share:.0%}, {held}."
    if v.lost_s > 0:
        return f"Press not verified: the sensor was away for {_seconds_words(v.lost_s)}."
    return "Press not verified: no sensor reading."


def cue_for_coach(event: CoachEvent) -> Cue | None:
    """The cue for one pressure-coach event: the press slipped or is back, or its verdict.

    "press harder" comes once when a press has not reached the band a few seconds in.
    Only a slip (or a press that never started) rings the bell: with one sound, it goes
    to the moment that needs a correction. A sensor coming back, a new zero and the
    lever need no sound of their own (the lever's step change is cued by the engine).
    """
    if event.kind is CoachKind.ZONE and event.zone is not None:
        text, tone, ring = _ZONE_CUES[event.zone]
        return Cue(text, tone, event.t, ring=ring, stale_after=_ZONE_STALE_S)
    if event.kind is CoachKind.VERDICT:
        return Cue(verdict_text(event), Tone.VERDICT, event.t, stale_after=8.0)
    if event.kind is CoachKind.HARDER:
        return Cue(HARDER_TEXT, Tone.SLIP, event.t, ring=True, stale_after=_ZONE_STALE_S)
    if event.kind is CoachKind.SENSOR and "lost" in event.text:
        return Cue("sensor lost", Tone.SENSOR, event.t, stale_after=3.0)
    return None

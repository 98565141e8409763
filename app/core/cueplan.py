"""The cue plan: upcoming boundaries plus each sound's length -> a timeline of sounds.

Pure: engine events (what is due, and when) and a duration for each cue in, a plan out.
The player re-plans on every step start and every control, and plays the plan through
one audio stream, so the plan, not a queue, decides when each sound starts.

Three roles, placed in this order:

1. **Boundary** cues (3-2-1, push/relax, up/down, a step's end, the routine's end, the
   pacing of a long press) start exactly at their boundary. Where two would overlap, the
   more urgent one is kept (`PRIORITY`): the action the runner must do now wins, so at a
   step change the next step's first "push" wins over "done" (the push says it) and
   "Routine complete" wins over the last "done". The other is dropped as "merged" (same
   instant) or "covered". A sound already playing cannot be stopped: a boundary cue that
   falls inside one starts when it ends ("late") if that is within its staleness, or is
   dropped ("busy").
2. **Immediate** cues (the coach: slipped, held, easier, press harder, the verdict;
   paused, go on, stopped) take the first free gap at or after the moment they arose, by
   priority, in their full form or a shorter one, before they go stale.
3. **Announcements** (the next step's name, side and length) are placed to end before
   their boundary, in the time of the step before (as close to it as fits), in the full
   form or a shorter one ("Realignment, left side."; "Realignment."); when there is no
   time before (a step started by a control), in the first gap after it where a form
   fits (the longest that fits there). They never
   cover a boundary cue: they only ever go into free gaps, `GAP_S` clear of other sounds.

A cue that cannot be placed is dropped with a reason; placed + dropped = due, always.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.clock import FakeClock
from app.core.coach import CoachEvent
from app.core.cues import (
    COACH_TEXTS,
    HALFWAY_TEXT,
    THIRTY_LEFT_TEXT,
    Cue,
    Tone,
    cue_for,
    cue_for_coach,
    pacing_cues,
    shorter_texts,
    step_start_variants,
)
from app.core.engine import Engine, Event, EventKind, run_to_end
from app.core.routine import Routine, StepKind

Duration = Callable[[Cue], float]

# Clear time between a placed announcement or immediate cue and any other sound, so
# words do not run into each other.
GAP_S = 0.12
# An announcement is said at most this long before its boundary (later is better: it
# is about what comes next, not what is on now).
ANNOUNCE_WINDOW_S = 12.0
# With no time before its boundary, an announcement may start up to this long after it.
ANNOUNCE_LATE_S = 6.0
_EPS = 1e-6


class Role(StrEnum):
    BOUNDARY = "boundary"
    IMMEDIATE = "immediate"
    ANNOUNCE = "announce"


# Higher wins. Boundary cues compete among themselves, immediates among themselves.
PRIORITY: dict[Tone, int] = {
    Tone.FINISH: 100,
    Tone.STOP: 95,
    Tone.PUSH: 80,
    Tone.RELAX: 80,
    Tone.UP: 80,
    Tone.DOWN: 80,
    Tone.COUNT: 70,
    Tone.PAUSE: 65,
    Tone.RESUME: 65,
    Tone.SLIP: 60,
    Tone.SENSOR: 55,
    Tone.EASE: 50,
    Tone.VERDICT: 45,
    Tone.START: 42,
    Tone.END: 40,
    Tone.HELD: 35,
    Tone.PACE: 30,
}


@dataclass(frozen=True)
class Due:
    """One cue that is due: its role, its time, and its forms, longest first."""

    key: str
    role: Role
    at: float  # boundary: must start here; announcement: its boundary; immediate: arose
    forms: tuple[Cue, ...]
    priority: int
    earliest: float = -math.inf  # announcement: not before (the start of the step before)
    latest: float = math.inf  # the last acceptable start

    @property
    def cue(self) -> Cue:
        return self.forms[0]


@dataclass(frozen=True)
class Placed:
    due: Due
    cue: Cue  # the form chosen
    start: float
    end: float

    @property
    def key(self) -> str:
        return self.due.key

    @property
    def late_s(self) -> float:
        """How far a boundary cue starts after its boundary (0 unless a sound was playing)."""
        return max(0.0, self.start - self.due.at) if self.due.role is Role.BOUNDARY else 0.0


@dataclass(frozen=True)
class Dropped:
    due: Due
    reason: str  # merged, covered, busy, no room, stale, past


@dataclass(frozen=True)
class Plan:
    now: float
    placed: tuple[Placed, ...]  # by start time
    dropped: tuple[Dropped, ...]
    busy: tuple[tuple[float, float], ...] = ()

    def counts(self) -> dict[str, int]:
        """due / placed / dropped, dropped by reason, and late / shortened placements."""
        out: dict[str, int] = {
            "due": len(self.placed) + len(self.dropped),
            "placed": len(self.placed),
            "dropped": len(self.dropped),
            "late": sum(1 for p in self.placed if p.late_s > _EPS),
            "shortened": sum(1 for p in self.placed if p.cue != p.due.cue),
        }
        for d in self.dropped:
            out[f"dropped:{d.reason}"] = out.get(f"dropped:{d.reason}", 0) + 1
        return out


# --------------------------------------------------------------------------- what is due
def event_key(ev: Event) -> str:
    """Stable across a forecast and the real event (the engine's own arithmetic)."""
    return (
        f"{ev.kind.value}:{ev.step}:{ev.rep}:{ev.phase}:{ev.count}:{ev.skipped}:{ev.planned_t:.6f}"
    )


def dues_for_events(
    events: Iterable[Event], routine: Routine, *, pacing: bool = True, now: float = -math.inf
) -> list[Due]:
    """The dues of a run of engine events (a forecast, or events that just happened).

    Pacing comes from a press's end in the forecast; its points before `now` are gone
    (said already, or passed while paused) and are not due."""
    out: list[Due] = []
    last_start = -math.inf  # the start of the step before: an announcement's earliest
    for ev in events:
        cue = cue_for(ev, routine)
        if cue is not None:
            out.append(_due_for(ev, cue, routine, last_start))
        if ev.kind is EventKind.STEP_STARTED:
            last_start = ev.planned_t
        if (
            pacing
            and ev.kind is EventKind.STEP_FINISHED
            and not ev.skipped
            and not ev.reason
            and routine.steps[ev.step].kind is StepKind.PRESS
        ):
            step = routine.steps[ev.step]
            for c in pacing_cues(ev.planned_t, step.planned_s):
                if c.t < now:
                    continue
                which = "half" if c.text == HALFWAY_TEXT else "thirty"
                out.append(
                    Due(
                        f"pace:{ev.step}:{which}:{ev.planned_t:.6f}",
                        Role.BOUNDARY,
                        c.t,
                        (c,),
                        PRIORITY[Tone.PACE],
                    )
                )
    return out


def _due_for(ev: Event, cue: Cue, routine: Routine, last_start: float) -> Due:
    key = event_key(ev)
    prio = PRIORITY.get(cue.tone, 0)
    if ev.kind is EventKind.STEP_STARTED:
        forms = tuple(
            Cue(text, cue.tone, cue.t, cue.ring, cue.stale_after)
            for text in step_start_variants(routine, ev.step)
        )
        earliest = max(last_start, ev.planned_t - ANNOUNCE_WINDOW_S)
        return Due(
            key,
            Role.ANNOUNCE,
            ev.planned_t,
            forms,
            prio,
            earliest=earliest,
            latest=ev.planned_t + ANNOUNCE_LATE_S,
        )
    if ev.kind in (EventKind.PAUSED, EventKind.RESUMED, EventKind.ABORTED):
        return Due(
            key, Role.IMMEDIATE, ev.planned_t, (cue,), prio, latest=ev.planned_t + cue.stale_after
        )
    return Due(
        key, Role.BOUNDARY, ev.planned_t, (cue,), prio, latest=ev.planned_t + cue.stale_after
    )


def due_for_coach(event: CoachEvent) -> Due | None:
    """A coach event as an immediate due, with its short form (a verdict's first clause)."""
    cue = cue_for_coach(event)
    if cue is None:
        return None
    forms = tuple(
        Cue(text, cue.tone, cue.t, cue.ring, cue.stale_after) for text in shorter_texts(cue.text)
    )
    key = f"coach:{event.kind.value}:{event.step}:{event.zone}:{event.t:.6f}"
    return Due(
        key, Role.IMMEDIATE, cue.t, forms, PRIORITY.get(cue.tone, 0), latest=cue.t + cue.stale_after
    )


def horizon(events: Sequence[Event]) -> list[Event]:
    """The forecast cut after the end of the next step: enough to schedule its sounds
    well ahead, short enough that a control rarely throws much away."""
    ends = [ev.planned_t for ev in events if ev.kind is EventKind.STEP_FINISHED]
    if len(ends) < 2:
        return list(events)
    cut = ends[1] + _EPS
    return [ev for ev in events if ev.planned_t <= cut]


def all_cues(routine: Routine, *, pacing: bool = True) -> list[Cue]:
    """Every cue a run of `routine` can produce with fixed words (the sound bank renders
    them before the run): every step's events and forms, controls, and the coach."""
    clock = FakeClock()
    seen: dict[tuple[str, Tone], Cue] = {}
    for due in dues_for_events(
        run_to_end(Engine(routine, clock), clock.advance), routine, pacing=pacing
    ):
        for c in due.forms:
            seen.setdefault((c.text, c.tone), c)
    for i in range(len(routine.steps)):
        for text in step_start_variants(routine, i):
            seen.setdefault((text, Tone.START), Cue(text, Tone.START, 0.0))
    fixed = [
        ("skipped", Tone.END),
        ("paused", Tone.PAUSE),
        ("go on", Tone.RESUME),
        ("Stopped.", Tone.STOP),
        *COACH_TEXTS,
    ]
    if pacing:
        fixed += [(HALFWAY_TEXT, Tone.PACE), (THIRTY_LEFT_TEXT, Tone.PACE)]
    for text, tone in fixed:
        seen.setdefault((text, tone), Cue(text, tone, 0.0))
    return list(seen.values())


# --------------------------------------------------------------------------- placing
@dataclass
class _Timeline:
    """Occupied intervals: sounds already playing, then each one placed."""

    spans: list[tuple[float, float]] = field(default_factory=list)

    def free(self, start: float, end: float, gap: float) -> bool:
        return all(end + gap <= a + _EPS or start - gap >= b - _EPS for a, b in self.spans)

    def blocker(self, start: float, end: float) -> tuple[float, float] | None:
        for a, b in self.spans:
            if end > a + _EPS and start < b - _EPS:
                return (a, b)
        return None

    def earliest(self, d: float, lo: float, hi: float, gap: float) -> float | None:
        """The first start in [lo, hi] with `gap` clear either side, or None."""
        for s in sorted({lo, *(b + gap for _a, b in self.spans)}):
            if lo - _EPS <= s <= hi + _EPS and self.free(s, s + d, gap):
                return s
        return None

    def latest(self, d: float, lo: float, end_by: float, gap: float) -> float | None:
        """The last start in [lo, end_by - d] with `gap` clear either side, or None."""
        for s in sorted({end_by - d, *(a - gap - d for a, _b in self.spans)}, reverse=True):
            if lo - _EPS <= s <= end_by - d + _EPS and self.free(s, s + d, gap):
                return s
        return None


def plan(
    dues: Iterable[Due],
    duration: Duration,
    now: float,
    *,
    busy: Iterable[tuple[float, float]] = (),
    gap_s: float = GAP_S,
) -> Plan:
    """Place `dues` from `now` on, around `busy` (sounds already playing); see the module."""
    dues = list(dues)
    busy_spans = tuple((a, b) for a, b in busy if b > now)
    line = _Timeline(list(busy_spans))
    placed: list[Placed] = []
    dropped: list[Dropped] = []

    def put(due: Due, cue: Cue, start: float) -> None:
        end = start + max(0.0, duration(cue))
        placed.append(Placed(due, cue, start, end))
        line.spans.append((start, end))

    by_urgency = sorted(dues, key=lambda d: (-d.priority, d.at, d.key))
    # 1. boundary cues at their boundary
    for due in (d for d in by_urgency if d.role is Role.BOUNDARY):
        if due.at < now - _EPS:
            dropped.append(Dropped(due, "past"))
            continue
        d = max(0.0, duration(due.cue))
        mine = next(
            (p for p in placed if due.at + d > p.start + _EPS and due.at < p.end - _EPS), None
        )
        if mine is not None:  # a more urgent boundary cue has this moment
            same = abs(mine.due.at - due.at) < _EPS
            dropped.append(Dropped(due, "merged" if same else "covered"))
            continue
        block = line.blocker(due.at, due.at + d)
        if block is None:
            put(due, due.cue, due.at)
            continue
        # a sound already playing: start when it ends, if that is still in time
        start = line.earliest(d, block[1], due.latest, 0.0)
        if start is not None and start <= due.at + due.cue.stale_after:
            put(due, due.cue, start)
        else:
            dropped.append(Dropped(due, "busy"))
    # 2. immediate cues in the first gap, by priority
    for due in (d for d in by_urgency if d.role is Role.IMMEDIATE):
        if due.latest < now - _EPS:
            dropped.append(Dropped(due, "stale"))
            continue
        for cue in due.forms:
            start = line.earliest(max(0.0, duration(cue)), max(due.at, now), due.latest, gap_s)
            if start is not None:
                put(due, cue, start)
                break
        else:
            dropped.append(Dropped(due, "no room"))
    # 3. announcements: before their boundary if it fits, else just after it
    for due in sorted((d for d in dues if d.role is Role.ANNOUNCE), key=lambda d: d.at):
        if due.latest < now - _EPS:
            dropped.append(Dropped(due, "past"))
            continue
        lo = max(due.earliest, now)
        spot: tuple[Cue, float] | None = None
        if due.at > lo:
            for cue in due.forms:
                start = line.latest(max(0.0, duration(cue)), lo, due.at, gap_s)
                if start is not None:
                    spot = (cue, start)
                    break
        if spot is None:  # after it: as soon as any form fits, the longest that does
            after = [
                (start, i, cue)
                for i, cue in enumerate(due.forms)
                if (
                    start := line.earliest(
                        max(0.0, duration(cue)), max(due.at, now), due.latest, gap_s
                    )
                )
                is not None
            ]
            if after:
                start, _i, cue = min(after)
                spot = (cue, start)
        if spot is None:
            dropped.append(Dropped(due, "no room"))
        else:
            put(due, *spot)
    placed.sort(key=lambda p: (p.start, p.key))
    return Plan(now, tuple(placed), tuple(dropped), busy_spans)


# --------------------------------------------------------------------------- re-planning
@dataclass(frozen=True)
class Replan:
    plan: Plan
    keep_until: float  # sounds placed before starting earlier than this keep playing
    cancelled: tuple[Placed, ...]  # placed before, not started: take them off the stream
    new: tuple[Placed, ...]  # hand these to the stream


class Planner:
    """The plan over a whole run: what is already playing, what is due, what became of it.

    Pure bookkeeping around `plan()`: on each step start and control the player hands in
    the events that just happened and the engine's forecast; sounds placed before that
    start before `keep_until` stay (the stream may have begun them), the rest are taken
    back and placed again with everything now due. A real event that a forecast already
    placed is not sounded twice; one that no forecast saw (a control's), or whose sound
    was taken back before it started, is placed from now.
    """

    def __init__(
        self, routine: Routine, duration: Duration, *, pacing: bool = True, gap_s: float = GAP_S
    ) -> None:
        self.routine = routine
        self.duration = duration
        self.pacing = pacing
        self.gap_s = gap_s
        self.live: list[Placed] = []  # placed and not cancelled, by start
        self.fate: dict[str, Placed | Dropped] = {}
        self._pending: dict[str, Due] = {}  # happened (or the coach's), not yet started

    def add(self, due: Due) -> None:
        """An immediate cue (the coach's) to place at the next re-plan."""
        if due.key not in self.fate:
            self._pending[due.key] = due

    def replan(
        self,
        now: float,
        events: Iterable[Event],
        forecast: Sequence[Event],
        keep_until: float | None = None,
    ) -> Replan:
        # a sound due right now has started (the stream is placing it): it stays
        keep_until = max(now, keep_until or now) + 10 * _EPS
        committed = [p for p in self.live if p.start < keep_until]
        cancelled = tuple(p for p in self.live if p.start >= keep_until)
        for p in cancelled:
            self.fate.pop(p.key, None)
        for key, f in list(self.fate.items()):  # a future drop is decided again, or moot
            if isinstance(f, Dropped) and f.due.at > now + _EPS:
                del self.fate[key]
        # What is left in `fate` is decided: playing, played or dropped. An event that
        # happened and is not decided (its sound was taken back: a control came before
        # it started) is due again, from now.
        done = {p.key for p in committed} | set(self.fate)
        for key in done:
            self._pending.pop(key, None)
        for due in dues_for_events(events, self.routine, pacing=False):
            if due.key not in done:
                self._pending[due.key] = due
        dues = [
            d
            for d in dues_for_events(horizon(forecast), self.routine, pacing=self.pacing, now=now)
            if d.key not in done
        ]
        seen = {d.key for d in dues}
        dues += [d for k, d in self._pending.items() if k not in seen and k not in done]
        result = plan(
            dues, self.duration, now, busy=[(p.start, p.end) for p in committed], gap_s=self.gap_s
        )
        for p in result.placed:
            self.fate[p.key] = p
        for d in result.dropped:
            self.fate[d.due.key] = d
            self._pending.pop(d.due.key, None)
        self.live = sorted(
            [p for p in committed if p.end > now - 10.0] + list(result.placed),
            key=lambda p: p.start,
        )
        return Replan(result, keep_until, cancelled, result.placed)

    def counts(self) -> dict[str, int]:
        """Over the run so far: due, placed, dropped (and by reason), late, shortened."""
        placed = [f for f in self.fate.values() if isinstance(f, Placed)]
        dropped = [f for f in self.fate.values() if isinstance(f, Dropped)]
        return Plan(0.0, tuple(placed), tuple(dropped)).counts()

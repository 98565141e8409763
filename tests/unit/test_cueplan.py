"""The cue plan (pure): forecasts, placing rules, and the whole-run invariants.

hypothesis drives small routines with every step kind through random controls, re-plans
after every batch of events (as the player does, and more often), and checks what the
ear would get: every kept boundary cue at its boundary, no two sounds overlapping, no
announcement covering a boundary cue, and every due cue accounted for (placed or
dropped with a reason, exactly once).
"""

from __future__ import annotations

import itertools
import math
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.clock import FakeClock
from app.core.coach import CoachEvent, CoachKind
from app.core.cueplan import (
    GAP_S,
    PRIORITY,
    Dropped,
    Placed,
    Planner,
    Role,
    all_cues,
    due_for_coach,
    dues_for_events,
    event_key,
    horizon,
    plan,
)
from app.core.cues import Cue, Tone, cue_for
from app.core.engine import Engine, Event, EventKind, State, run_to_end
from app.core.pressure import Zone
from app.core.routine import Routine, Step, StepKind, load_routine
from app.cues.tones import PATTERNS


def tone_s(cue: Cue) -> float:
    return sum(d for _f, d in PATTERNS[cue.tone])


def voice_s(cue: Cue) -> float:
    """About espeak-ng's pace at 165 words a minute, silence trimmed."""
    return 0.15 + 0.075 * len(cue.text)


# --------------------------------------------------------------------------- routines
def step_strategy() -> st.SearchStrategy[Step]:
    secs = st.sampled_from([0.5, 1.0, 2.0, 3.5, 6.0, 20.0, 31.0, 80.0])
    side = st.sampled_from([None, "left", "right"])
    timed = st.builds(
        Step,
        kind=st.sampled_from([StepKind.TIMED, StepKind.PRESS]),
        name=st.sampled_from(["Get into position", "Psoas press", "Hold"]),
        instruction=st.just("x"),
        seconds=secs,
        side=side,
    )
    action = st.builds(
        Step,
        kind=st.just(StepKind.ACTION),
        name=st.just("Lever"),
        instruction=st.just("x"),
        seconds=st.just(10.0),
        side=side,
    )
    phase = st.sampled_from([0.3, 1.0, 2.0, 3.0])
    reps = st.builds(
        Step,
        kind=st.sampled_from([StepKind.HOLDS, StepKind.REPS]),
        name=st.sampled_from(["Realignment", "Calf raises"]),
        instruction=st.just("x"),
        reps=st.integers(1, 3),
        push_s=phase,
        relax_s=phase,
        side=side,
    )
    return st.one_of(timed, action, reps)


routines = st.lists(step_strategy(), min_size=1, max_size=5).map(
    lambda steps: Routine("r", "Test routine", 1, "", tuple(steps))
)
CONTROLS = ["pause", "resume", "skip", "back", "complete_action", "held", "lost", "coach"]
controls = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.1, 0.27, 0.48, 0.7, 1.5, 4.0, 13.0]), st.sampled_from(CONTROLS)
    ),
    max_size=8,
)


def durations(per_char: float) -> object:
    def duration(cue: Cue) -> float:
        # a fixed, text-dependent length per phrase (like a rendered sound)
        wobble = (zlib.crc32(cue.text.encode()) % 100) / 1000
        return tone_s(cue) + per_char * len(cue.text) + wobble

    return duration


def drive(
    routine: Routine,
    ctrl: list[tuple[float, str]],
    duration: object,
    *,
    hold_only: bool = False,
    pacing: bool = True,
    lead: float = 0.0,
) -> tuple[Planner, list[Event], list[object]]:
    """Run the engine on a fake clock, re-planning after every batch of events."""
    clock = FakeClock()
    engine = Engine(routine, clock, hold_only=hold_only)
    planner = Planner(routine, duration, pacing=pacing)  # type: ignore[arg-type]
    real: list[Event] = []
    replans: list[object] = []

    def feed(events: list[Event]) -> None:
        real.extend(events)
        now = engine.t()
        replans.append(planner.replan(now, events, engine.forecast(), keep_until=now + lead))
        planner.control_times.append(now)  # type: ignore[attr-defined]

    planner.control_times = []  # type: ignore[attr-defined]

    feed(engine.start())
    for dt, what in itertools.chain(ctrl, [(1e9, "end")]):
        until = clock.now() + dt
        while engine.state is State.RUNNING:
            deadline = engine.next_deadline()
            if deadline is None or deadline > until:
                break
            clock.advance(max(0.0, deadline - clock.now()))
            feed(engine.poll())
        if engine.state in (State.FINISHED, State.ABORTED):
            break
        if what == "end":
            feed(engine.abort())
            break
        if until > clock.now() and math.isfinite(until):
            clock.advance(until - clock.now())
        if what == "coach":
            due = due_for_coach(CoachEvent(CoachKind.ZONE, engine.t(), 0, zone=Zone.OUT))
            assert due is not None
            planner.add(due)
            feed([])
        elif what in ("held", "lost"):
            feed(engine.set_held(what == "held"))
        else:
            feed(getattr(engine, what)())
    return planner, real, replans


def played(planner: Planner) -> list[Placed]:
    return sorted(
        (f for f in planner.fate.values() if isinstance(f, Placed)), key=lambda p: p.start
    )


# --------------------------------------------------------------------------- forecast
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routine=routines, stop_after=st.integers(0, 40))
def test_the_forecast_is_what_the_engine_then_emits(routine: Routine, stop_after: int) -> None:
    clock = FakeClock()
    engine = Engine(routine, clock)
    engine.start()
    for _ in range(stop_after):  # somewhere in the run
        if engine.state is State.WAITING:
            engine.complete_action()
        elif (d := engine.next_deadline()) is not None:
            clock.advance(d - clock.now())
            engine.poll()
    forecast = engine.forecast()
    record_before = engine.record.steps[0].visits
    got: list[Event] = []
    while engine.state is State.RUNNING and (d := engine.next_deadline()) is not None:
        clock.advance(d - clock.now())
        got += engine.poll()
    assert [(e.kind, e.step, e.planned_t, e.rep, e.phase, e.count) for e in forecast] == [
        (e.kind, e.step, e.planned_t, e.rep, e.phase, e.count) for e in got
    ]
    assert record_before == engine.record.steps[0].visits  # the twin changed nothing here


def test_the_forecast_stops_where_times_are_unknown() -> None:
    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(routine, clock)
    engine.start()
    fc = engine.forecast()
    assert fc[-1].kind is EventKind.WAITING and fc[-1].step == 2  # the first lever
    assert engine.forecast(until_t=29.5)[-1].kind is EventKind.COUNTDOWN
    engine.pause()
    assert engine.forecast() == []  # paused: nothing is timed
    engine.resume()
    held = Engine(routine, FakeClock(), hold_only=True)
    held.start()
    fc = held.forecast()
    assert fc[-1].kind is EventKind.PAUSED and fc[-1].step == 1  # the press waits for pressure


def test_the_horizon_is_the_rest_of_this_step_and_the_next() -> None:
    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(routine, clock)
    engine.start()
    clock.advance(30.0)
    engine.poll()  # the psoas press is on; the lever and the next press follow
    h = horizon(engine.forecast())
    assert h[-1].kind is EventKind.WAITING and h[-1].step == 2
    engine.skip()
    engine.complete_action()  # the iliacus press: then the second position, and the next
    h = horizon(engine.forecast())
    ends = [e for e in h if e.kind is EventKind.STEP_FINISHED]
    assert [e.step for e in ends] == [3, 4] and h[-1].planned_t == ends[-1].planned_t


# --------------------------------------------------------------------------- the rules
def _daily_planner(duration: object, pacing: bool = True) -> tuple[Planner, list[Event]]:
    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(routine, clock)
    planner = Planner(routine, duration, pacing=pacing)  # type: ignore[arg-type]
    real: list[Event] = []

    def feed(events: list[Event]) -> None:
        real.extend(events)
        planner.replan(engine.t(), events, engine.forecast())

    feed(engine.start())
    while engine.state is not State.FINISHED:
        if engine.state is State.WAITING:
            clock.advance(4.0)
            feed(engine.complete_action())
        else:
            clock.advance((engine.next_deadline() or 0) - clock.now())
            feed(engine.poll())
    return planner, real


def test_the_daily_routine_drops_only_the_merged_step_ends() -> None:
    for duration in (tone_s, voice_s):
        planner, real = _daily_planner(duration)
        counts = planner.counts()
        # "done" meets the next step's first push/up, and the routine's end: three merged
        assert counts["dropped"] == counts["dropped:merged"] == 3, counts
        merged = [f for f in planner.fate.values() if isinstance(f, Dropped)]
        assert {d.due.cue.text for d in merged} == {"done"}
        for p in played(planner):
            if p.due.role is Role.BOUNDARY:
                assert p.start == p.due.at, p
        due = {event_key(e) for e in real if cue_for(e, planner.routine) is not None}
        assert due <= set(planner.fate)
        texts = [p.cue.text for p in played(planner)]
        assert texts.count("halfway") == 4 and texts.count("thirty seconds left") == 4
        assert texts[-1] == "Routine complete. Well done."


def test_pacing_can_be_turned_off() -> None:
    planner, _ = _daily_planner(tone_s, pacing=False)
    assert not [p for p in played(planner) if p.cue.tone is Tone.PACE]


def test_an_announcement_goes_before_its_boundary_and_is_shortened_to_fit() -> None:
    # holds of 1 s push / 1.5 s relax, then a holds step: no room for the full words
    steps = (
        Step(StepKind.HOLDS, "Hold", "x", reps=3, push_s=1.0, relax_s=1.5),
        Step(StepKind.HOLDS, "Realignment", "x", reps=1, push_s=2, relax_s=3, side="left"),
    )
    routine = Routine("r", "R", 1, "", steps)
    clock = FakeClock()
    events = run_to_end(Engine(routine, clock), clock.advance)
    dues = dues_for_events(events, routine)
    words = {
        "push": 0.4,
        "relax": 0.45,
        "Realignment.": 0.6,
        "done": 0.4,
        "Realignment, left side.": 1.3,
    }
    p = plan(dues, lambda c: words.get(c.text, 2.4), 0.0)
    ann = next(x for x in p.placed if x.due.role is Role.ANNOUNCE and x.due.at == 7.5)
    assert ann.cue.text == "Realignment." and math.isclose(ann.end, 7.5 - GAP_S)
    assert ann.start >= 6.0 + 0.45 + GAP_S - 1e-9  # after the last relax, clear of it
    dropped = {(d.due.cue.text, d.due.at): d.reason for d in p.dropped}
    # the next push wins each step change; the first step's 2.4 s of words fit nowhere
    assert dropped == {
        ("done", 7.5): "merged",
        ("done", 12.5): "merged",
        ("Hold. 3 holds.", 0.0): "no room",
    }
    assert p.counts()["shortened"] == 1


def test_a_step_started_by_a_control_is_announced_after_its_first_cue() -> None:
    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(routine, clock)
    planner = Planner(routine, voice_s)
    planner.replan(0.0, engine.start(), engine.forecast())
    for _ in range(8):  # skip to the realignment, letting each announcement end
        clock.advance(5.0)
        evs = engine.skip()
        planner.replan(engine.t(), evs, engine.forecast())
    assert routine.steps[engine.view().step_index].name == "Realignment"
    now = engine.t()
    mine = [p for p in planner.live if p.start >= now - 1e-9]
    # the push first (the step began: act now), then the words in the push's 2 s, as
    # many of them as fit there
    assert [p.cue.text for p in mine[:3]] == ["push", "Realignment.", "relax"]
    assert mine[0].start == now and math.isclose(mine[1].start, mine[0].end + GAP_S)
    assert mine[1].end <= now + 2.0 - GAP_S + 1e-9 and mine[2].start == now + 2.0
    skipped = planner.fate[
        next(
            k
            for k in planner.fate
            if k.startswith("step_finished") and "True" in k and f"{now:.6f}" in k
        )
    ]
    assert isinstance(skipped, Dropped) and skipped.reason == "merged"


def test_a_coach_cue_fills_a_gap_without_covering_a_boundary() -> None:
    steps = (Step(StepKind.HOLDS, "Hold", "x", reps=4, push_s=1.0, relax_s=1.0),)
    routine = Routine("r", "R", 1, "", steps)
    clock = FakeClock()
    engine = Engine(routine, clock)
    planner = Planner(routine, lambda c: 0.3)
    planner.replan(0.0, engine.start(), engine.forecast())
    clock.advance(1.9)
    due = due_for_coach(CoachEvent(CoachKind.ZONE, engine.t(), 0, zone=Zone.OUT))
    assert due is not None
    planner.add(due)
    r = planner.replan(engine.t(), engine.poll(), engine.forecast())
    coach = next(p for p in r.new if p.due.role is Role.IMMEDIATE)
    # not in the 0.1 s before the push at 2.0; after it (push 0.3 s + the gap)
    assert coach.cue.text == "press again" and math.isclose(coach.start, 2.3 + GAP_S)


def test_a_sound_already_playing_delays_a_boundary_cue_within_its_staleness() -> None:
    cue = Cue("push", Tone.PUSH, 1.0, stale_after=1.0)
    from app.core.cueplan import Due

    due = Due("k", Role.BOUNDARY, 1.0, (cue,), PRIORITY[Tone.PUSH], latest=2.0)
    late = plan([due], lambda c: 0.4, 0.5, busy=[(0.5, 1.3)])
    assert late.placed[0].start == 1.3 and late.counts()["late"] == 1
    gone = plan([due], lambda c: 0.4, 0.5, busy=[(0.5, 2.5)])
    assert gone.dropped[0].reason == "busy" and gone.counts()["due"] == 1


def test_every_fixed_phrase_is_known_before_the_run() -> None:
    routine = load_routine("daily").for_side("right")
    texts = {(c.text, c.tone) for c in all_cues(routine)}
    for need in [
        ("Realignment, right side. 10 holds.", Tone.START),
        ("Realignment.", Tone.START),
        ("push", Tone.PUSH),
        ("3", Tone.COUNT),
        ("halfway", Tone.PACE),
        ("press harder", Tone.SLIP),
        ("paused", Tone.PAUSE),
        ("Routine complete. Well done.", Tone.FINISH),
        ("Press confirmed.", Tone.VERDICT),
    ]:
        assert need in texts, need
    assert ("halfway", Tone.PACE) not in {(c.text, c.tone) for c in all_cues(routine, pacing=False)}


# --------------------------------------------------------------------------- invariants
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    routine=routines,
    ctrl=controls,
    per_char=st.sampled_from([0.0, 0.03, 0.08]),
    hold_only=st.booleans(),
    lead=st.sampled_from([0.0, 0.05]),
)
def test_any_routine_any_controls_every_boundary_on_time_and_nothing_overlaps(
    routine: Routine, ctrl: list[tuple[float, str]], per_char: float, hold_only: bool, lead: float
) -> None:
    planner, real, replans = drive(
        routine, ctrl, durations(per_char), hold_only=hold_only, lead=lead
    )
    sounds = played(planner)
    # no two sounds overlap (so no announcement covers a boundary cue)
    for a, b in itertools.pairwise(sounds):
        assert a.end <= b.start + 1e-9, (a, b)
    # every kept boundary cue starts at its boundary, unless a sound was already
    # playing there (started before a control changed the plan): then right after it
    ends = {round(p.end, 6) for p in sounds}
    for p in sounds:
        if p.due.role is Role.BOUNDARY and p.start != p.due.at:
            assert round(p.start, 6) in ends and p.start <= p.due.at + p.cue.stale_after
        if p.due.role is Role.ANNOUNCE:
            assert p.due.earliest - 1e-9 <= p.start <= p.due.latest + 1e-9
    # each plan accounts for each of its dues once: placed + dropped = due
    for r in replans:
        c = r.plan.counts()  # type: ignore[attr-defined]
        keys = [p.key for p in r.plan.placed] + [d.due.key for d in r.plan.dropped]  # type: ignore[attr-defined]
        assert c["placed"] + c["dropped"] == c["due"] == len(keys) == len(set(keys))
    # over the run: every real cue-worthy event is placed or dropped; the only other
    # sounds are ones that had started when a control moved their moment: announcements
    # said ahead of their boundary, or sounds within the stream's lead of the control
    want = {event_key(e) for e in real if cue_for(e, routine) is not None}
    got = {k for k in planner.fate if not k.startswith(("pace:", "coach:"))}
    assert want <= got
    for key in got - want:
        f = planner.fate[key]
        assert isinstance(f, Placed)
        started = any(c - 1e-9 <= f.start < c + lead + 1e-4 for c in planner.control_times)  # type: ignore[attr-defined]
        assert (f.due.role is Role.ANNOUNCE and f.start < f.due.at) or started, f
    counts = planner.counts()
    assert counts["placed"] + counts["dropped"] == counts["due"] == len(planner.fate)

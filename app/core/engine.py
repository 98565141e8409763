"""The step engine: a pure state machine over (clock time, controls).

Every boundary is an absolute deadline: the step's anchor (the logical time it began,
shifted by pauses) plus a fixed offset. A late poll emits the boundary late but never
moves the schedule, so lateness does not add up over a routine, and since a boundary
is only emitted once `now >= deadline`, none is ever early. The engine never sleeps;
whoever owns it asks `next_deadline()` and calls `poll()` when that time comes.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.clock import Clock, FakeClock
from app.core.pressure import Verdict
from app.core.routine import PHASES, Routine, Step, StepKind

# A press's force trace: (session seconds, newtons), in time order.
Trace = tuple[tuple[float, float], ...]

COUNTDOWN_FROM = 3
# A jump of the boot-time clock past the monotonic one by more than this is a suspend.
SUSPEND_THRESHOLD_S = 2.0


class State(StrEnum):
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING = "waiting"  # an action step waits for the user or the lever
    FINISHED = "finished"
    ABORTED = "aborted"


class EventKind(StrEnum):
    RUN_STARTED = "run_started"
    STEP_STARTED = "step_started"
    PHASE = "phase"  # a rep's phase begins: push / relax / up / down
    COUNTDOWN = "countdown"  # 3, 2, 1 before a timed step ends
    WAITING = "waiting"  # an action step waits
    STEP_FINISHED = "step_finished"
    PAUSED = "paused"
    RESUMED = "resumed"
    FINISHED = "finished"
    ABORTED = "aborted"


@dataclass(frozen=True)
class Event:
    """One thing that happened; `t` and `planned_t` are seconds since the run's start."""

    kind: EventKind
    step: int
    name: str
    t: float
    planned_t: float
    rep: int | None = None
    reps: int | None = None
    phase: str | None = None
    count: int | None = None
    planned_s: float | None = None
    actual_s: float | None = None
    skipped: bool = False
    reason: str = ""
    # ABORTED: cut off from outside (a signal, the coach closed mid-run), not a choice.
    interrupted: bool = False
    # STEP_FINISHED of a judged press: the sensor's verdict and the force trace it judged.
    verdict: Verdict | None = None
    trace: Trace | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "event": self.kind.value,
            "step": self.step,
            "name": self.name,
            "t": round(self.t, 4),
            "planned_t": round(self.planned_t, 4),
        }
        for key in ("rep", "reps", "phase", "count", "planned_s", "actual_s"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(value, 4) if isinstance(value, float) else value
        if self.kind is EventKind.STEP_FINISHED:
            out["skipped"] = self.skipped
        if self.reason:
            out["reason"] = self.reason
        if self.kind is EventKind.ABORTED:
            out["interrupted"] = self.interrupted
        if self.verdict is not None:
            out["verdict"] = self.verdict.kind.value
            out["under_pressure_s"] = round(self.verdict.under_pressure_s, 2)
        return out


@dataclass
class StepRecord:
    """What happened in one step of a run.

    After Back the step's last attempt is the one that counts (time, reps, outcome), in
    the summary and in the log alike; the time of an attempt left with Back still counts
    in the run's totals. `planned_s` is the step's share of the routine's total (an
    action's is its estimate); waiting at an action step is `waited_s`, never active.
    """

    index: int
    kind: str
    name: str
    side: str | None
    planned_s: float
    active_s: float = 0.0
    waited_s: float = 0.0
    reps_done: int = 0
    skipped: bool = False
    completed: bool = False
    visits: int = 0


@dataclass
class Pause:
    start_t: float
    end_t: float | None
    reason: str


@dataclass
class RunRecord:
    routine: str
    version: int
    steps: list[StepRecord]
    state: State
    active_s: float = 0.0
    paused_s: float = 0.0
    waiting_s: float = 0.0  # at action steps: active + paused + waiting = elapsed
    elapsed_s: float = 0.0
    interrupted: bool = False  # ABORTED from outside, not by the user's choice
    pauses: list[Pause] = field(default_factory=list)

    @property
    def planned_s(self) -> float:
        """The routine's total, the same figure `routine show` and Home give."""
        return sum(s.planned_s for s in self.steps)


@dataclass(frozen=True)
class View:
    """Everything a face needs to draw the run at one instant; derived, never stored."""

    state: State
    step_index: int
    step: Step | None
    next_step: Step | None
    step_planned_s: float
    step_remaining_s: float
    rep: int | None
    reps: int | None
    phase: str | None
    phase_remaining_s: float | None
    total_planned_s: float
    total_remaining_s: float
    pause_reason: str


@dataclass(order=True)
class _Boundary:
    deadline: float
    order: int
    what: str = field(compare=False)  # "phase", "countdown" or "end"
    rep: int | None = field(default=None, compare=False)
    phase: str | None = field(default=None, compare=False)
    count: int | None = field(default=None, compare=False)


HOLD_REASON = "waiting for pressure: the countdown runs while you press"


class Engine:
    def __init__(self, routine: Routine, clock: Clock, *, hold_only: bool = False) -> None:
        self.routine = routine
        self.clock = clock
        # With a sensor: a press counts down only while the pressure is held.
        self.hold_only = hold_only
        self._hold_paused = False
        self.state = State.READY
        self._steps = routine.steps
        self._i = 0
        self._t0 = 0.0
        self._anchor = 0.0  # logical clock time the current step began, pause-shifted
        self._entered = 0.0  # logical clock time the current step began
        self._paused_in_step = 0.0
        self._pending: list[_Boundary] = []
        self._rep: int | None = None
        self._phase: str | None = None
        self._phase_deadline: float | None = None
        self._paused_at = 0.0
        self._resume_to = State.RUNNING
        self._pause_reason = ""
        self._end = 0.0
        self._last_mono = 0.0
        self._last_boot = 0.0
        self._out: list[Event] = []
        self.record = RunRecord(
            routine=routine.name,
            version=routine.version,
            state=self.state,
            steps=[
                StepRecord(i, s.kind.value, s.name, s.side, s.estimate_s)
                for i, s in enumerate(self._steps)
            ],
        )

    # ------------------------------------------------------------------ controls
    def start(self) -> list[Event]:
        if self.state is not State.READY:
            return []
        now = self.clock.now()
        self._t0 = now
        self._last_mono, self._last_boot = now, self.clock.boot()
        self._set(State.RUNNING)
        self._emit(EventKind.RUN_STARTED, now, now, step=-1, name=self.routine.title)
        self._enter(0, now, now)
        self._advance(now)
        return self._flush()

    def poll(self) -> list[Event]:
        """Emit every boundary whose deadline has come; cheap when none has."""
        if self.state in (State.READY, State.FINISHED, State.ABORTED):
            return []
        now = self.clock.now()
        self._check_suspend(now)
        self._advance(now)
        return self._flush()

    def pause(self, reason: str = "paused") -> list[Event]:
        now = self._catch_up()
        if self.state in (State.RUNNING, State.WAITING):
            self._pause(now, reason)
        elif self.state is State.PAUSED and self._hold_paused:
            self._hold_paused = False  # the user's pause now: pressure alone won't resume
            self._pause_reason = reason
            self.record.pauses[-1].reason = reason
            self._emit(EventKind.PAUSED, now, now, reason=reason)
        return self._flush()

    def resume(self) -> list[Event]:
        now = self._catch_up()
        if self.state is State.PAUSED:
            self._resume(now)
            self._advance(now)
        return self._flush()

    def toggle_pause(self) -> list[Event]:
        if self.state is State.PAUSED and not self._hold_paused:
            return self.resume()
        return self.pause()

    def set_held(self, held: bool) -> list[Event]:
        """The pressure judge's word; only matters for a press in hold-only mode."""
        now = self._catch_up()
        if not self.hold_only or self._steps[self._i].kind is not StepKind.PRESS:
            return self._flush()
        if not held and self.state is State.RUNNING:
            self._pause(now, HOLD_REASON)
            self._hold_paused = True
        elif held and self.state is State.PAUSED and self._hold_paused:
            self._resume(now)
            self._advance(now)
        return self._flush()

    def skip(self) -> list[Event]:
        """End the current step now (marked skipped) and start the next one."""
        now = self._catch_up()
        if self._active_or_paused(now):
            self._finish_step(now, now, skipped=True)
            self._enter(self._i + 1, now, now)
            self._advance(now)
        return self._flush()

    def back(self) -> list[Event]:
        """Leave the current step and restart the previous one from its beginning."""
        now = self._catch_up()
        if self._active_or_paused(now):
            target = max(0, self._i - 1)
            self._finish_step(now, now, skipped=False, left=True)
            self._enter(target, now, now)
            self._advance(now)
        return self._flush()

    def complete_action(self) -> list[Event]:
        """The user confirmed (Enter) or the lever engaged; only an action step listens."""
        now = self._catch_up()
        if self.state is State.WAITING:
            self._finish_step(now, now, skipped=False)
            self._enter(self._i + 1, now, now)
            self._advance(now)
        return self._flush()

    def abort(
        self, reason: str = "stopped by the user", *, interrupted: bool = False
    ) -> list[Event]:
        """Stop the run. `interrupted`: cut off from outside, not the user's choice."""
        now = self._catch_up()
        if self.state in (State.RUNNING, State.WAITING, State.PAUSED):
            if self.state is State.PAUSED:
                self._resume(now, announce=False)
            self._account_step(now)
            self._end = now
            self._set(State.ABORTED)
            self.record.interrupted = interrupted
            self._close_record(now)
            self._emit(EventKind.ABORTED, now, now, reason=reason, interrupted=interrupted)
        return self._flush()

    # ------------------------------------------------------------------ queries
    def next_deadline(self) -> float | None:
        """Absolute clock time of the next boundary, or None when nothing is timed."""
        if self.state is State.RUNNING and self._pending:
            return self._pending[0].deadline
        return None

    def forecast(self, until_t: float | None = None) -> list[Event]:
        """The events this engine will emit from now on if nothing changes (no control).

        Worked out by running a copy on a fake clock from deadline to deadline, so it is
        the engine's own arithmetic, to the bit, not a second model of it. It stops after
        an action step starts (it waits for the user) or a hold-only press starts (it
        waits for pressure): later times are unknown. Nothing while paused or waiting;
        `until_t` (seconds since the start) stops it after the last event at or before it.
        """
        if self.state is not State.RUNNING:
            return []
        now = self.clock.now()
        fake = FakeClock(now)
        twin = deepcopy(
            self,
            {id(self.clock): fake, id(self.routine): self.routine, id(self._steps): self._steps},
        )
        twin._last_mono, twin._last_boot = now, fake.boot()  # no false suspend
        twin._out = []
        out: list[Event] = []
        while twin.state is State.RUNNING and twin._pending:
            deadline = twin._pending[0].deadline
            if until_t is not None and deadline - twin._t0 > until_t:
                break
            fake.advance(max(0.0, deadline - fake.now()))
            out += twin.poll()
        return out

    def t(self) -> float:
        """Seconds since the start on the engine's clock."""
        return self.clock.now() - self._t0 if self.state is not State.READY else 0.0

    def view(self) -> View:
        now = self.clock.now()
        if self.state is State.PAUSED:
            now = self._paused_at
        if self.state in (State.FINISHED, State.ABORTED):
            now = self._end
        step = self._steps[self._i] if self.state is not State.FINISHED else None
        planned = step.planned_s if step else 0.0
        if self.state is State.READY:
            remaining = planned
        elif step is None or step.kind is StepKind.ACTION:
            remaining = 0.0
        else:
            remaining = max(0.0, self._anchor + planned - now)
        later = sum(s.estimate_s for s in self._steps[self._i + 1 :]) if step else 0.0
        phase_left = None
        if self._phase_deadline is not None and self.state is not State.READY:
            phase_left = max(0.0, self._phase_deadline - now)
        nxt = self._steps[self._i + 1] if step and self._i + 1 < len(self._steps) else None
        return View(
            state=self.state,
            step_index=self._i,
            step=step,
            next_step=nxt,
            step_planned_s=planned,
            step_remaining_s=remaining,
            rep=self._rep,
            reps=step.reps if step and step.kind in PHASES else None,
            phase=self._phase,
            phase_remaining_s=phase_left,
            total_planned_s=self.routine.total_s,
            total_remaining_s=remaining + later,
            pause_reason=self._pause_reason if self.state is State.PAUSED else "",
        )

    # ------------------------------------------------------------------ internals
    def _set(self, state: State) -> None:
        self.state = state
        self.record.state = state

    def _flush(self) -> list[Event]:
        out, self._out = self._out, []
        return out

    def _emit(self, kind: EventKind, now: float, planned: float, **kw: object) -> None:
        step = kw.pop("step", self._i)
        name = kw.pop("name", None)
        if name is None:
            name = self._steps[self._i].title() if 0 <= self._i < len(self._steps) else ""
        self._out.append(
            Event(kind, step, name, now - self._t0, planned - self._t0, **kw)  # type: ignore[arg-type]
        )

    def _catch_up(self) -> float:
        now = self.clock.now()
        if self.state in (State.RUNNING, State.WAITING, State.PAUSED):
            self._check_suspend(now)
            self._advance(now)
        return now

    def _active_or_paused(self, now: float) -> bool:
        if self.state is State.PAUSED:
            self._resume(now)
        return self.state in (State.RUNNING, State.WAITING)

    def _check_suspend(self, now: float) -> None:
        boot = self.clock.boot()
        gap = (boot - self._last_boot) - (now - self._last_mono)
        self._last_mono, self._last_boot = now, boot
        if gap > SUSPEND_THRESHOLD_S and self.state in (State.RUNNING, State.WAITING):
            self._advance(now)
            if self.state in (State.RUNNING, State.WAITING):
                self._pause(now, f"the computer was asleep for {gap:.0f} s; resume when ready")

    def _pause(self, now: float, reason: str) -> None:
        self._resume_to = self.state
        self._paused_at = now
        self._pause_reason = reason
        self._set(State.PAUSED)
        self.record.pauses.append(Pause(now - self._t0, None, reason))
        self._emit(EventKind.PAUSED, now, now, reason=reason)

    def _resume(self, now: float, announce: bool = True) -> None:
        self._hold_paused = False
        span = now - self._paused_at
        self._anchor += span
        self._paused_in_step += span
        self.record.paused_s += span
        for b in self._pending:
            b.deadline += span
        if self._phase_deadline is not None:
            self._phase_deadline += span
        self.record.pauses[-1].end_t = now - self._t0
        self._set(self._resume_to)
        if announce:
            self._emit(EventKind.RESUMED, now, now)

    def _enter(self, index: int, at: float, now: float) -> None:
        """Begin step `index` at logical time `at` (a deadline, or now after a control)."""
        if index >= len(self._steps):
            self._end = at
            self._set(State.FINISHED)
            self._close_record(at)
            self._emit(EventKind.FINISHED, now, at, step=-1, name=self.routine.title)
            return
        self._i = index
        step = self._steps[index]
        rec = self.record.steps[index]
        rec.visits += 1
        rec.active_s = rec.waited_s = 0.0  # the last attempt is the one that counts
        rec.reps_done = 0
        rec.skipped = False
        rec.completed = False
        self._anchor = self._entered = at
        self._paused_in_step = 0.0
        self._rep = self._phase = self._phase_deadline = None
        self._emit(EventKind.STEP_STARTED, now, at, planned_s=step.planned_s)
        self._pending = []
        if step.kind is StepKind.ACTION:
            self._set(State.WAITING)
            self._emit(EventKind.WAITING, now, at)
            return
        self._set(State.RUNNING)
        n = 0
        for offset, rep, phase in step.boundaries():
            self._pending.append(_Boundary(at + offset, n, "phase", rep=rep, phase=phase))
            n += 1
        if step.kind in (StepKind.PRESS, StepKind.TIMED):
            for count in range(COUNTDOWN_FROM, 0, -1):
                if step.seconds > count:
                    self._pending.append(
                        _Boundary(at + step.seconds - count, n, "countdown", count=count)
                    )
                    n += 1
        self._pending.append(_Boundary(at + step.planned_s, n, "end"))
        self._pending.sort()
        if self.hold_only and step.kind is StepKind.PRESS:
            self._pause(at, HOLD_REASON)
            self._hold_paused = True

    def _advance(self, now: float) -> None:
        while self.state is State.RUNNING and self._pending and self._pending[0].deadline <= now:
            b = self._pending.pop(0)
            step = self._steps[self._i]
            if b.what == "phase":
                first, _second = PHASES[step.kind]
                if b.phase != first:  # the push/up half is done: the rep counts
                    self.record.steps[self._i].reps_done = b.rep or 0
                self._rep, self._phase = b.rep, b.phase
                span = step.push_s if b.phase == first else step.relax_s
                self._phase_deadline = b.deadline + span
                self._emit(
                    EventKind.PHASE, now, b.deadline, rep=b.rep, reps=step.reps, phase=b.phase
                )
            elif b.what == "countdown":
                self._emit(EventKind.COUNTDOWN, now, b.deadline, count=b.count)
            else:
                self.record.steps[self._i].reps_done = step.reps
                self._finish_step(b.deadline, now, skipped=False)
                self._enter(self._i + 1, b.deadline, now)

    def _account_step(self, end: float) -> float:
        spent = end - self._entered - self._paused_in_step
        rec = self.record.steps[self._i]
        if rec.kind == StepKind.ACTION.value:  # waiting for the user is not exercise
            rec.waited_s += spent
            self.record.waiting_s += spent
        else:
            rec.active_s += spent
            self.record.active_s += spent
        return spent

    def _finish_step(self, end: float, now: float, *, skipped: bool, left: bool = False) -> None:
        active = self._account_step(end)
        rec = self.record.steps[self._i]
        rec.skipped = skipped
        rec.completed = not skipped and not left
        self._pending = []
        self._emit(
            EventKind.STEP_FINISHED,
            now,
            end,
            planned_s=rec.planned_s,
            actual_s=active,
            skipped=skipped,
            reason="back" if left else "",
        )

    def _close_record(self, end: float) -> None:
        self.record.elapsed_s = end - self._t0


def run_to_end(
    engine: Engine, advance: Callable[[float], None], limit: int = 100_000
) -> list[Event]:
    """Drive an engine on a fake clock from deadline to deadline (tests and `routine show`)."""
    events = engine.start()
    for _ in range(limit):
        if engine.state in (State.FINISHED, State.ABORTED):
            break
        if engine.state is State.WAITING:
            events += engine.complete_action()
            continue
        deadline = engine.next_deadline()
        if deadline is None:
            break
        advance(max(0.0, deadline - engine.clock.now()))
        events += engine.poll()
    return events

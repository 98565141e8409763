"""What the run tells a watcher besides its events: who it is, and its view right now.

The view carries the words a screen shows (titles, instruction, next step), so a watcher
needs no routine file, and the times left at the run's `t`, so it can count down between
events on its own: while `state` is running, each remaining time drops by the run's
seconds since `t` (the run's clock runs `time_scale` times real time).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from app.core.engine import State
from app.core.routine import StepKind

if TYPE_CHECKING:
    from app.runner import SessionRunner

PROTOCOL = 1


def hello_object(runner: SessionRunner, time_scale: float) -> dict[str, object]:
    routine = runner.routine
    return {
        "event": "hello",
        "protocol": PROTOCOL,
        "pid": os.getpid(),
        "time_scale": time_scale,
        "routine": routine.title,
        "side": runner.side,
        "steps": [
            {"name": s.title(), "kind": s.kind.value, "seconds": s.estimate_s}
            for s in routine.steps
        ],
        "total_s": routine.total_s,
    }


def view_object(runner: SessionRunner) -> dict[str, object]:
    """The engine's view now, as plain data (rounded to the millisecond)."""
    engine = runner.engine
    v = engine.view()
    step = v.step
    n = len(runner.routine.steps)

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    t, mono = engine.t(), time.monotonic()  # read together: the run's t at this instant
    return {
        "event": "view",
        "t": round(t, 4),
        "monotonic": round(mono, 6),
        "state": v.state.value,
        "step": v.step_index,
        "steps": n,
        "routine": runner.routine.title,
        "name": step.title() if step else None,
        "kind": step.kind.value if step else None,
        "instruction": step.instruction if step else "",
        "next": v.next_step.title() if v.next_step else None,
        "step_planned_s": r(v.step_planned_s),
        "step_remaining_s": r(v.step_remaining_s),
        "rep": v.rep,
        "reps": v.reps,
        "phase": v.phase,
        "phase_remaining_s": r(v.phase_remaining_s),
        "total_planned_s": r(v.total_planned_s),
        "total_remaining_s": r(v.total_remaining_s),
        "pause_reason": v.pause_reason,
        # What a watcher may ask for now (the run checks again when asked).
        "can": sorted(_allowed(v.state, step.kind if step else None)),
    }


def _allowed(state: State, kind: StepKind | None) -> set[str]:
    if state is State.RUNNING:
        return {"pause", "skip", "back"}
    if state is State.PAUSED:
        return {"resume", "skip", "back"}
    if state is State.WAITING:
        return {"confirm", "pause", "skip", "back"}
    return set()


def check_request(runner: SessionRunner, request: object) -> str | None:
    """Why a watcher's request cannot be done now, or None when it can."""
    if not isinstance(request, str) or request not in REQUESTS:
        return f"unknown request {request!r}; known: {', '.join(sorted(REQUESTS))}"
    step = runner.engine.view().step
    allowed = _allowed(runner.engine.state, step.kind if step else None)
    if request not in allowed:
        return f"cannot {request} while the run is {runner.engine.state.value}"
    return None


def do_request(runner: SessionRunner, request: str) -> None:
    """Carry out a checked request, with the same runner calls the faces make."""
    if request == "pause":
        runner.pause()
    elif request == "resume":
        runner.resume()
    elif request == "skip":
        runner.skip()
    elif request == "back":
        runner.back()
    elif request == "confirm":
        runner.complete_action()


REQUESTS = frozenset({"pause", "resume", "skip", "back", "confirm"})

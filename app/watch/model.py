"""What a second screen shows, worked out from the run's lines alone (no Textual, no I/O).

The terminal watcher and the browser page draw the same `Display`. Between the run's
lines the times count down by themselves: the view says what was left at the run's `t`,
read at the monotonic instant it carries, so the run's seconds since are (monotonic
now - that instant) × time scale (CLOCK_MONOTONIC is the same for every process on
the machine). Nothing is ever shown as later than the run itself says it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The run's words for a press that waits for the sensor (app.core.engine.HOLD_REASON).
HOLD_PREFIX = "waiting for pressure"


def clock_text(seconds: float | None) -> str:
    """m:ss, rounded up (0:01 until the boundary, never 0:00 early); -:-- for no time."""
    if seconds is None:
        return "-:--"
    s = max(0, math.ceil(seconds - 1e-9))
    return f"{s // 60}:{s % 60:02d}"


@dataclass(frozen=True)
class Display:
    """One picture of the run at an instant: every line a screen shows, in words."""

    status: str  # "none" (no run), "live", "ended"
    where: str
    title: str
    clock: str
    clock_s: float | None  # seconds left in the step (None: not timed)
    phase: str  # the phase in words, without its seconds
    phase_s: float | None  # seconds left in the phase, if it has any
    mood: str  # "effort", "paused", "waiting" or ""
    instruction: str
    next: str
    step_fraction: float
    routine_fraction: float
    routine_left: str
    running: bool  # the times count down (a page ticks them itself)
    time_scale: float

    @property
    def phase_line(self) -> str:
        if self.phase_s is None:
            return self.phase
        return f"{self.phase}  ({max(0, math.ceil(self.phase_s - 1e-9))} s)"


def phase_words(view: dict[str, object], *, control: bool) -> tuple[str, str]:
    """(the phase in words, its mood); what a key does is said only when it works."""
    state = view.get("state")
    reason = str(view.get("pause_reason") or "")
    if state == "paused":
        if reason.startswith(HOLD_PREFIX):
            return "WAITING FOR PRESSURE — the time runs while you press", "paused"
        return ("PAUSED — press Space to go on" if control else "PAUSED"), "paused"
    if state == "finished" or view.get("name") is None:
        return "Routine complete", ""
    if state == "aborted":
        return "Stopped", ""
    if state == "ready":
        return "Starting", ""
    if state == "waiting":
        return ("WAITING — press Enter when done" if control else "WAITING FOR YOU"), "waiting"
    kind, rep, reps, phase = view.get("kind"), view.get("rep"), view.get("reps"), view.get("phase")
    if kind in ("holds", "reps") and rep is not None:
        noun = "Hold" if kind == "holds" else "Raise"
        effort = phase in ("push", "up")
        word = str(phase or "").upper() if effort else str(phase or "")
        return f"{noun} {rep}/{reps} — {word}", "effort" if effort else ""
    if kind == "press":
        return "Press — keep the pressure on", ""
    return "Get set", ""


class WatchModel:
    """The run as one watcher knows it: fed the run's objects, asked for a `Display`."""

    def __init__(self, *, control: bool = False) -> None:
        self.control = control
        self.hello: dict[str, object] | None = None
        self.view: dict[str, object] | None = None
        self.view_at = 0.0
        self.t0_monotonic: float | None = None
        self.status = "none"
        self.last_event: dict[str, object] | None = None
        self.notice = ""  # the run refused a request, or dropped us

    @property
    def time_scale(self) -> float:
        scale = self.hello.get("time_scale", 1.0) if self.hello else 1.0
        return float(scale) if isinstance(scale, int | float) and scale > 0 else 1.0

    def reset(self) -> None:
        """The connection is gone: no run until the next hello."""
        self.hello = self.view = None
        self.t0_monotonic = None
        self.status = "none"

    def ended(self) -> None:
        """The run closed the connection: keep its last picture, marked as ended."""
        if self.status == "live":
            self.status = "ended"

    def feed(self, msg: dict[str, object], now: float) -> None:
        kind = msg.get("event")
        if kind == "hello":
            self.reset()
            self.hello = msg
            self.status = "live"
        elif kind == "view":
            self.view = msg
            self.view_at = now
        elif kind == "refused":
            self.notice = f"The run said no: {msg.get('reason')}"
        elif kind == "dropped":
            self.notice = f"The run let this watcher go: {msg.get('reason')}"
        else:
            if kind == "run_started" and isinstance(msg.get("t0_monotonic"), int | float):
                self.t0_monotonic = float(msg["t0_monotonic"])  # type: ignore[arg-type]
            self.last_event = msg

    def run_elapsed(self, now: float) -> float:
        """The run's seconds since the current view was taken (0 unless it is running)."""
        v = self.view
        if v is None or v.get("state") != "running":
            return 0.0
        taken = v.get("monotonic")  # when the run read its clock for this view
        if not isinstance(taken, int | float):
            taken = self.view_at
        return max(0.0, (now - float(taken)) * self.time_scale)

    def display(self, now: float) -> Display:
        v = self.view
        scale = self.time_scale
        if v is None or self.status == "none":
            return Display(
                status="none",
                where="",
                title="No run is going on",
                clock="-:--",
                clock_s=None,
                phase="Waiting for a run to start",
                phase_s=None,
                mood="",
                instruction="Start one with `hiphook run` (or from the coach's Home).",
                next="",
                step_fraction=0.0,
                routine_fraction=0.0,
                routine_left="",
                running=False,
                time_scale=scale,
            )
        dt = self.run_elapsed(now)
        running = v.get("state") == "running"

        def left(key: str) -> float | None:
            x = v.get(key)
            return max(0.0, float(x) - dt) if isinstance(x, int | float) else None

        n = int(v.get("steps") or 0)  # type: ignore[call-overload]
        index = int(v.get("step") or 0)  # type: ignore[call-overload]
        state = v.get("state")
        timed = v.get("kind") not in ("action", None)
        clock_s = left("step_remaining_s") if timed else None
        phase, mood = phase_words(v, control=self.control)
        planned = float(v.get("step_planned_s") or 0.0)  # type: ignore[arg-type]
        total = float(v.get("total_planned_s") or 0.0)  # type: ignore[arg-type]
        total_left = left("total_remaining_s") or 0.0
        name = v.get("name")
        if state == "aborted":
            title = "Stopped"
        elif name is None:
            title = "Well done"
        else:
            title = str(name)
        nxt = v.get("next")
        return Display(
            status=self.status,
            where=f"Step {min(index + 1, n)} of {n} · {v.get('routine', '')}",
            title=title,
            clock=clock_text(clock_s),
            clock_s=clock_s,
            phase=phase,
            phase_s=left("phase_remaining_s") if v.get("rep") is not None else None,
            mood=mood,
            instruction=str(v.get("instruction") or ""),
            next=f"Next: {nxt}" if nxt else ("Next: the summary" if name else ""),
            step_fraction=(1 - (clock_s or 0.0) / planned) if timed and planned else 0.0,
            routine_fraction=1 - total_left / total if total else 1.0,
            routine_left=f"{clock_text(total_left)} left",
            running=running and self.status == "live",
            time_scale=scale,
        )

    def display_dict(self, now: float) -> dict[str, object]:
        """The display as plain data, for a page that draws it (and ticks it itself)."""
        d = self.display(now)
        return {
            "event": "display",
            "status": d.status,
            "where": d.where,
            "title": d.title,
            "clock": d.clock,
            "clock_s": d.clock_s,
            "phase": d.phase,
            "phase_s": d.phase_s,
            "mood": d.mood,
            "instruction": d.instruction,
            "next": d.next,
            "step_fraction": round(d.step_fraction, 4),
            "routine_fraction": round(d.routine_fraction, 4),
            "routine_left": d.routine_left,
            "running": d.running,
            "time_scale": d.time_scale,
            "notice": self.notice,
        }

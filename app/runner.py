"""The session runner: owns one run's engine and clock, and wakes it on time.

Every face (the TUI, the plain runner) drives a run through this one class, and every
attachment (session log, cues, sensor) listens to its events, so no face keeps time of
its own. A *judge* (the sensor attachment) sees each event before any listener and may
return it enriched (a press's STEP_FINISHED gains its verdict and trace), so the
result travels in the event itself: listeners never ask one another for it.

Waking on time: asyncio's selector rounds its timeout up to whole milliseconds, so a
plain `call_at` lands 1-2 ms late. Instead one alarm thread waits on a condition with a
timeout (CPython waits with `sem_clockwait` on the monotonic clock, good to ~0.1 ms) and
hands the wake-up to the loop with `call_soon_threadsafe`. The thread sleeps in the
kernel between boundaries, so it costs no CPU while it waits.

Under load: a busy Python thread keeps the GIL for the switch interval (5 ms) whenever a
woken thread asks for it, and a wake-up asked for it three times (alarm thread, loop
thread, the task's next loop pass): boundaries came 5-20 ms late (bench/bench_timing.py
--stages). So while a run is live the interval is 0.25 ms, the alarm fires LEAD_S early,
and the loop sleeps the rest and polls at once: one hand-over after the deadline. The
interval matters only while two threads want the GIL at once; the runner's threads
sleep between boundaries.
"""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import threading
import time
from collections.abc import Callable

from app.core.clock import Clock
from app.core.engine import Engine, Event, EventKind, RunRecord, State
from app.core.routine import Routine

Listener = Callable[[Event], None]
Judge = Callable[[Event], Event]

# Wake at least this often (real seconds) to notice a system suspend promptly.
HEARTBEAT_S = 1.0
# While a run is live, a busy thread yields the GIL after this long (CPython: 5 ms).
SWITCH_INTERVAL_S = 0.00025
# The alarm fires this early (real seconds); the loop thread sleeps the rest itself.
LEAD_S = 0.002
# Why a run stopped when the user chose to stop it, in either face.
STOPPED = "stopped by the user"


class _Alarm(threading.Thread):
    """One thread that calls `wake` (on the loop) when the clock reaches a deadline."""

    def __init__(self, clock: Clock, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]):
        super().__init__(name="hiphook-alarm", daemon=True)
        self._clock = clock
        self._loop = loop
        self._wake = wake
        self._cv = threading.Condition()
        self._deadline: float | None = None
        self._heartbeat_at = 0.0
        self._armed = False
        self._stopped = False

    def arm(self, deadline: float | None) -> None:
        with self._cv:
            self._deadline = deadline
            self._heartbeat_at = time.monotonic() + HEARTBEAT_S
            self._armed = True
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def run(self) -> None:
        with self._cv:
            while not self._stopped:
                if not self._armed:
                    self._cv.wait()
                    continue
                delay = self._heartbeat_at - time.monotonic()
                if self._deadline is not None:
                    delay = min(delay, self._clock.real_delay(self._deadline) - LEAD_S)
                if delay > 0:
                    # Woken early by arm()/stop() or by the timeout; either way re-check.
                    self._cv.wait(delay)
                    continue
                self._armed = False
                try:
                    self._loop.call_soon_threadsafe(self._wake)
                except RuntimeError:  # the loop is closed: nothing left to wake
                    return


class SessionRunner:
    def __init__(self, routine: Routine, clock: Clock, *, side: str | None = None) -> None:
        self.routine = routine
        self.clock = clock
        self.side = side
        self.engine = Engine(routine, clock)
        self.on_listener_error: Callable[[str], None] | None = None
        self.listener_errors: list[str] = []
        self._judges: list[Judge] = []
        self._listeners: list[Listener] = []
        self._wake_event: asyncio.Event | None = None
        self._auto_action_s: float | None = None
        self._auto_deadline: float | None = None

    # -------------------------------------------------------------- attachments
    def subscribe(self, listener: Listener) -> None:
        """Hear every event, after the judges, in the order of subscription."""
        self._listeners.append(listener)

    def add_judge(self, judge: Judge) -> None:
        """See every event before any listener; what it returns is what they hear."""
        self._judges.append(judge)

    def _report(self, listener: object, exc: Exception) -> None:
        msg = f"{getattr(listener, '__qualname__', listener)}: {exc}"
        if msg not in self.listener_errors:
            self.listener_errors.append(msg)
            if self.on_listener_error is not None:
                self.on_listener_error(msg)  # e.g. the TUI's notification
            else:
                print(f"hiphook: {msg}", file=sys.stderr)

    def auto_confirm_actions(self, after_s: float | None) -> None:
        """With no way to confirm (stdin closed, no sensor), continue actions by themselves."""
        self._auto_action_s = after_s
        if after_s is not None and self.engine.state is State.WAITING:
            self._auto_deadline = self.clock.now() + after_s
            self._wake()

    def _dispatch(self, events: list[Event]) -> None:
        for ev in events:
            if ev.kind is EventKind.WAITING and self._auto_action_s is not None:
                step = self.routine.steps[ev.step]
                self._auto_deadline = self.clock.now() + (step.seconds or self._auto_action_s)
            elif ev.kind is EventKind.STEP_FINISHED:
                self._auto_deadline = None
            for judge in self._judges:
                try:
                    ev = judge(ev)
                except Exception as exc:  # a judge must never stop the routine either
                    self._report(judge, exc)
            for listener in self._listeners:
                try:
                    listener(ev)
                except Exception as exc:  # an attachment must never stop the routine
                    self._report(listener, exc)
        if events:
            self._wake()

    def _wake(self) -> None:
        if self._wake_event is not None:
            self._wake_event.set()

    def _on_alarm(self) -> None:
        """On the loop, up to LEAD_S early: sleep to the deadline, then poll right here."""
        deadline = self._next_wake()
        if deadline is not None:
            rest = self.clock.real_delay(deadline)
            if 0 < rest <= LEAD_S:
                time.sleep(rest)  # blocks the loop <= 2 ms, no CPU; one GIL hand-over
        try:
            self.poll()
        finally:
            self._wake()

    # -------------------------------------------------------------- controls
    def start(self) -> None:
        self._dispatch(self.engine.start())

    def poll(self) -> None:
        events = self.engine.poll()
        if (
            self._auto_deadline is not None
            and self.engine.state is State.WAITING
            and self.clock.now() >= self._auto_deadline
        ):
            events += self.engine.complete_action()
        self._dispatch(events)

    def pause(self, reason: str = "paused") -> None:
        self._dispatch(self.engine.pause(reason))

    def resume(self) -> None:
        self._dispatch(self.engine.resume())

    def toggle_pause(self) -> None:
        self._dispatch(self.engine.toggle_pause())

    def skip(self) -> None:
        self._dispatch(self.engine.skip())

    def back(self) -> None:
        self._dispatch(self.engine.back())

    def complete_action(self) -> None:
        self._dispatch(self.engine.complete_action())

    def set_held(self, held: bool) -> None:
        self._dispatch(self.engine.set_held(held))

    def abort(self, reason: str = STOPPED, *, interrupted: bool = False) -> None:
        """Stop the run: by the user's choice (logged "aborted"), or `interrupted` from
        outside, by a signal or the coach closing mid-run (logged "interrupted")."""
        self._dispatch(self.engine.abort(reason, interrupted=interrupted))

    @property
    def done(self) -> bool:
        return self.engine.state in (State.FINISHED, State.ABORTED)

    @property
    def record(self) -> RunRecord:
        return self.engine.record

    # -------------------------------------------------------------- the loop
    def _next_wake(self) -> float | None:
        if self.engine.state is State.WAITING:
            return self._auto_deadline
        return self.engine.next_deadline()

    async def run(self) -> RunRecord:
        """Run to the end (or abort) on the running loop; returns the record."""
        loop = asyncio.get_running_loop()
        self._wake_event = wake = asyncio.Event()
        subscribe = getattr(self.clock, "subscribe", None)
        alarm: _Alarm | None = None
        old_interval = sys.getswitchinterval()
        if subscribe is not None:
            subscribe(wake.set)  # a fake clock wakes us when a test moves it
        else:
            sys.setswitchinterval(min(old_interval, SWITCH_INTERVAL_S))
            # What start-up made (SQLAlchemy, Textual, the sounds) lives the whole run: a
            # full garbage collection scanning it cost a boundary 3-6 ms now and then
            # (bench_faults: boundary lateness p99 4.7-6.4 ms, 1.1-1.5 ms frozen). Freezing
            # it keeps the collector to what the run itself makes. No collection first:
            # over a big heap that takes a noticeable part of a second, and a cycle that is
            # already garbage only waits for the thaw at the end.
            gc.freeze()
            alarm = _Alarm(self.clock, loop, self._on_alarm)
            alarm.start()
        try:
            if self.engine.state is State.READY:
                self.start()
            while not self.done:
                wake.clear()
                deadline = self._next_wake()
                if alarm is not None:
                    alarm.arm(deadline)
                elif deadline is not None and self.clock.real_delay(deadline) <= 0:
                    self.poll()
                    continue
                await wake.wait()
                self.poll()
        finally:
            if alarm is not None:
                alarm.stop()
                sys.setswitchinterval(old_interval)
                gc.unfreeze()  # back to the collector: Home, a summary, the next run
            self._wake_event = None
        return self.engine.record


def format_clock(seconds: float) -> str:
    """m:ss, rounding up so a countdown shows 0:01 until the boundary, never 0:00 early."""
    s = max(0, math.ceil(seconds - 1e-9))
    return f"{s // 60}:{s % 60:02d}"


def format_duration(seconds: float) -> str:
    """m:ss to the nearest second, for elapsed and measured times."""
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"

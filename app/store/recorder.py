"""Writes a run to the log as it happens: a listener for the session runner's events.

The runner calls the recorder for every engine event, in order. Each STEP_FINISHED is
one small transaction (the step's record, plus the verdict and force trace the sensor's
judge put on the event), so after a crash every finished step is on disk. The recorder
never raises into the runner: a store failure is kept in `errors` (and passed to
`on_error`), and the run carries on, because losing a log line is better than losing
the routine.

The session assembly (`app/session.py`) subscribes the recorder before anything that
prints, sounds or displays the event, so a step reported as finished is already
committed.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.engine import Engine, Event, EventKind, Trace
from app.core.routine import Routine
from app.store.errors import StoreError
from app.store.store import Store
from app.store.trace import ForceTrace, TraceError


def force_trace(samples: Trace | None) -> ForceTrace | None:
    """The stored form of a press's samples: times from the press's first sample."""
    if not samples:
        return None
    t0 = samples[0][0]
    span = samples[-1][0] - t0
    rate = (len(samples) - 1) / span if span > 0 else 1.0
    return ForceTrace(
        values=tuple(f for _, f in samples),
        rate_hz=rate,
        t0_s=0.0,
        timestamps=tuple(t - t0 for t, _ in samples),
    )


class SessionRecorder:
    """Listener: `runner.subscribe(SessionRecorder(store, runner.engine, routine, ...))`."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        routine: Routine,
        side: str | None = None,
        sensor: str | None = None,
        pain_before: int | None = None,
        *,
        demo: bool = False,
        tz: str | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """`demo`: a time-scaled run, kept in the log but never counted as a day done."""
        self.store = store
        self.engine = engine
        self.routine = routine
        self.side = side
        self.sensor = sensor
        self.pain_before = pain_before
        self.demo = demo
        self.tz = tz
        self.on_error = on_error
        self.session_id: int | None = None
        self.status: str | None = None  # set once the session is closed
        self.errors: list[str] = []

    # ------------------------------------------------------------------ runner API

    def __call__(self, event: Event) -> None:
        self.on_event(event)

    def on_event(self, event: Event) -> None:
        """Handle one engine event; never raises."""
        try:
            if event.kind is EventKind.RUN_STARTED:
                self._begin()
            elif event.kind is EventKind.STEP_FINISHED:
                self._step(event)
            elif event.kind is EventKind.FINISHED:
                self._end("completed")
            elif event.kind is EventKind.ABORTED:
                # the step under way is kept as far as it went, as the summary shows it
                self._step(event)
                self._end("interrupted" if event.interrupted else "aborted")
        except (StoreError, TraceError) as err:
            self._fail(str(err))

    def finish(self, pain_after: int | None = None, notes: str | None = None) -> None:
        """Add what is asked after the run (pain after, notes); never raises."""
        if self.session_id is None:
            return
        try:
            self.store.update_session(self.session_id, pain_after=pain_after, notes=notes)
        except StoreError as err:
            self._fail(str(err))

    # ------------------------------------------------------------------ internals

    def _fail(self, message: str) -> None:
        self.errors.append(message)
        if self.on_error is not None:
            self.on_error(message)

    def _begin(self) -> None:
        if self.session_id is None:
            self.session_id = self.store.begin_session(
                self.routine.name,
                self.routine.version,
                self.side,
                self.sensor,
                self.pain_before,
                tz=self.tz,
                demo=self.demo,
            )

    def _step(self, event: Event) -> None:
        self._begin()
        assert self.session_id is not None
        steps = self.engine.record.steps
        if not 0 <= event.step < len(steps):
            return
        v = event.verdict
        self.store.record_step(
            self.session_id,
            steps[event.step],
            v.kind.value if v is not None else None,
            v.under_pressure_s if v is not None else None,
            force_trace(event.trace),
        )

    def _end(self, status: str) -> None:
        if self.session_id is None or self.status is not None:
            return
        self.status = status
        self.store.end_session(self.session_id, status, elapsed_s=self.engine.record.elapsed_s)

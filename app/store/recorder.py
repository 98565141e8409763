"""Writes a run to the log as it happens: a listener for the session runner's events.

The runner calls the recorder for every engine event, in order. Each STEP_FINISHED
becomes one small transaction (the step's record, plus the verdict and force trace the
sensor's judge put on the event). With a `LogWriter` (what the session assembly gives
it) the recorder only hands the step over, in memory, and the writer's thread commits
it: the runner never waits for the disk, and a failing write is retried and said by
the writer (app/store/writer.py). Without one it commits inline, as it did before the
writer existed (kept for the benchmark's comparison and store-level tests). Either way
the recorder never raises into the runner.

The session assembly (`app/session.py`) subscribes the recorder before anything that
prints, sounds or displays the event, so the log is handed a step before anyone hears
that it ended (docs/log.md says what a kill can still lose).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from app.core.engine import Engine, Event, EventKind, Trace
from app.core.routine import Routine
from app.store.errors import StoreError
from app.store.store import SessionStart, Store
from app.store.trace import ForceTrace, TraceError
from app.store.writer import LogWriter


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
        writer: LogWriter | None = None,
    ) -> None:
        """`demo`: a time-scaled run, kept in the log but never counted as a day done.
        `writer`: hand the run to it (never waits); None commits inline."""
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
        self.writer = writer
        self._key: int | None = None  # the writer's handle for this run
        self.sensor_notice: str | None = None  # why the sensor gave no readings

    @property
    def started(self) -> bool:
        """The run's start was handed to the log (or, inline, written)."""
        return self._key is not None or self.session_id is not None

    def flush(self, wait_s: float = 2.0) -> str | None:
        """Blocking, off the loop: wait until the writer has written what it was handed;
        None when it has, else why it has not (the pieces stay queued and are retried)."""
        if self.writer is None or self.writer.wait_idle(wait_s):
            return None
        return (
            f"the session log is waiting ({self.writer.reason or 'the disk is slow'}); "
            "it is kept and will be saved as soon as the log can take it"
        )

    @property
    def key(self) -> int | None:
        """This run's handle in the log's writer (None before it starts, or inline)."""
        return self._key

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
        if self.writer is not None:
            if self._key is not None:
                self.writer.update(self._key, pain_after=pain_after, notes=notes)
            return
        if self.session_id is None:
            return
        try:
            self.store.update_session(self.session_id, pain_after=pain_after, notes=notes)
        except StoreError as err:
            self._fail(str(err))

    def note_sensor(self, notice: str) -> None:
        """Keep with the run why its sensor gave no readings (it cannot be opened, it
        does not answer): written now if the run is in the log, else when it starts.
        A later notice (the sensor answered after all) is added to the first."""
        self.sensor_notice = (
            notice if self.sensor_notice is None else (f"{self.sensor_notice} / {notice}")
        )
        self._put_sensor_notice()

    def _put_sensor_notice(self) -> None:
        if self.sensor_notice is None:
            return
        if self.writer is not None:
            if self._key is not None:
                self.writer.update(self._key, sensor_notice=self.sensor_notice)
            return
        if self.session_id is None:
            return
        try:
            self.store.update_session(self.session_id, sensor_notice=self.sensor_notice)
        except StoreError as err:
            self._fail(str(err))

    # ------------------------------------------------------------------ internals

    def _fail(self, message: str) -> None:
        self.errors.append(message)
        if self.on_error is not None:
            self.on_error(message)

    def _start(self) -> SessionStart:
        return SessionStart(
            self.routine.name,
            self.routine.version,
            self.side,
            self.sensor,
            self.pain_before,
            tz=self.tz,
            demo=self.demo,
        )

    def _begin(self) -> None:
        if self.writer is not None:
            if self._key is None:
                self._key = self.writer.begin(self._start())
                self._put_sensor_notice()
            return
        if self.session_id is None:
            self.session_id = self.store.begin(self._start())
            self._put_sensor_notice()

    def _step(self, event: Event) -> None:
        self._begin()
        steps = self.engine.record.steps
        if not 0 <= event.step < len(steps):
            return
        v = event.verdict
        if self.writer is not None:
            assert self._key is not None
            self.writer.step(
                self._key,
                copy.copy(steps[event.step]),  # the engine's record changes after Back
                v.kind.value if v is not None else None,
                v.under_pressure_s if v is not None else None,
                force_trace(event.trace),
            )
            return
        assert self.session_id is not None
        self.store.record_step(
            self.session_id,
            steps[event.step],
            v.kind.value if v is not None else None,
            v.under_pressure_s if v is not None else None,
            force_trace(event.trace),
        )

    def _end(self, status: str) -> None:
        if self.writer is not None:
            if self._key is not None and self.status is None:
                self.status = status
                self.writer.end(self._key, status, self.engine.record.elapsed_s)
            return
        if self.session_id is None or self.status is not None:
            return
        self.status = status
        self.store.end_session(self.session_id, status, elapsed_s=self.engine.record.elapsed_s)

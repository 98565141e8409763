"""Writes a run to the log as it happens: a listener for the session runner's events.

The runner calls the recorder for every engine event, in order. Each STEP_FINISHED is
one small transaction (the step's record, plus its force trace when a sensor gave
one), so after a crash every finished step is on disk. The recorder never raises into
the runner: a store failure is kept in `errors` (and passed to `on_error`), and the
run carries on, because losing a log line is better than losing the routine.

Subscribe the recorder *before* anything that prints or displays the event, so a
step reported as finished is already committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.core.engine import Engine, Event, EventKind
from app.core.routine import Routine
from app.store.errors import StoreError
from app.store.store import Store
from app.store.trace import ForceTrace, TraceError

INTERRUPT_WORDS = ("interrupt", "signal", "sigterm", "sighup", "killed", "crash")


@dataclass
class PressResult:
    """What the pressure judge found for one step (given by the runner when a sensor is used)."""

    verdict: str | None = None
    under_pressure_s: float | None = None
    trace: ForceTrace | None = None


def status_for_abort(reason: str) -> str:
    """"interrupted" when the abort reason says the run was cut off, else "aborted"."""
    low = reason.lower()
    return "interrupted" if any(w in low for w in INTERRUPT_WORDS) else "aborted"


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
        tz: str | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.routine = routine
        self.side = side
        self.sensor = sensor
        self.pain_before = pain_before
        self.tz = tz
        self.on_error = on_error
        self.session_id: int | None = None
        self.status: str | None = None  # set once the session is closed
        self.errors: list[str] = []
        self._press: dict[int, PressResult] = {}

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
                self._end(status_for_abort(event.reason))
        except (StoreError, TraceError) as err:
            self._fail(str(err))

    def set_press(self, step: int, verdict: str | None = None,
                  under_pressure_s: float | None = None,
                  trace: ForceTrace | None = None) -> None:
        """The runner hands over a press's verdict and trace before its STEP_FINISHED."""
        self._press[step] = PressResult(verdict, under_pressure_s, trace)

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
                self.routine.name, self.routine.version, self.side, self.sensor,
                self.pain_before, tz=self.tz)

    def _step(self, event: Event) -> None:
        self._begin()
        assert self.session_id is not None
        steps = self.engine.record.steps
        if not 0 <= event.step < len(steps):
            return
        press = self._press.pop(event.step, PressResult())
        self.store.record_step(self.session_id, steps[event.step], press.verdict,
                               press.under_pressure_s, press.trace)

    def _end(self, status: str) -> None:
        if self.session_id is None or self.status is not None:
            return
        self.status = status
        self.store.end_session(self.session_id, status, elapsed_s=self.engine.record.elapsed_s)

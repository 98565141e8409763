"""Attach a force sensor to a session: the link's batches feed the pressure coach.

Everything here runs on the event loop: the reader thread hands whole batches over
with `call_soon_threadsafe`, never one message per sample. The coach decides; this
module carries its decisions out (hold-only countdown, lever completes the lever step,
verdicts to the session log) and passes its events on to the faces and cues.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.core.coach import CoachEvent, CoachKind, PressureCoach
from app.core.engine import Event, EventKind
from app.core.pressure import DEFAULT_BAND, Band
from app.core.protocol import MS_MOD
from app.core.routine import StepKind
from app.runner import SessionRunner

# What the simulated user does in each kind of step.
SIM_PHASE = {
    StepKind.TIMED: "position",
    StepKind.PRESS: "press",
    StepKind.ACTION: "lever",
    StepKind.HOLDS: "rest",
    StepKind.REPS: "rest",
}
TICK_S = 0.1  # real seconds between grace checks when no sample arrives


class SensorAttachment:
    def __init__(
        self,
        runner: SessionRunner,
        spec: str,
        *,
        band: Band = DEFAULT_BAND,
        hold_only: bool = False,
        scenario: str = "steady",
        time_scale: float = 1.0,
        recorder: Any = None,
    ) -> None:
        self.runner = runner
        self.spec = spec
        self.coach = PressureCoach(runner.routine, band=band)
        self.hold_only = hold_only
        runner.engine.hold_only = hold_only
        self.scenario = scenario
        self.time_scale = time_scale
        self.recorder = recorder
        self.session: Any = None
        self.status: Any = None
        self.listeners: list[Callable[[CoachEvent], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.TimerHandle | None = None
        runner.sensor = self
        runner.subscribe(self.on_event)

    # ------------------------------------------------------------------ lifecycle
    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        from app.sensor import open_sensor

        self._loop = loop or asyncio.get_running_loop()
        call = self._loop.call_soon_threadsafe
        self.session = open_sensor(
            self.spec,
            on_batch=lambda b: call(self._on_batch, b),
            on_status=lambda s: call(self._on_status, s),
            scenario=self.scenario,
            time_scale=self.time_scale,
        )
        self._ticker = self._loop.call_later(TICK_S, self._tick)

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self.session is not None:
            self.session.close()
            self.session = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": "sensor_summary"}
        status = self.session.status() if self.session is not None else self.status
        if status is not None:
            out.update(status.summary())
        out["last_force_n"] = round(self.coach.last_force, 1)
        out["band_n"] = [round(self.coach.band.low, 1), round(self.coach.band.high, 1)]
        out["calibrated"] = self.coach.band.calibrated
        return out

    # ------------------------------------------------------------------ inputs
    def on_event(self, ev: Event) -> None:
        """Subscribed before the session log, so a verdict is in before the step is saved."""
        if ev.kind is EventKind.STEP_STARTED and self.session is not None:
            self.session.set_phase(SIM_PHASE[self.runner.routine.steps[ev.step].kind])
        out = self.coach.on_event(ev)
        for c in out:
            if c.kind is CoachKind.VERDICT and c.verdict is not None and self.recorder:
                self.recorder.set_press(c.step, c.verdict.kind.value,
                                        c.verdict.under_pressure_s, self._trace(c.step))
        if (ev.kind in (EventKind.STEP_STARTED, EventKind.RESUMED) and self.hold_only
                and self._loop is not None):
            # after this dispatch is over, not inside it
            self._loop.call_soon(self._sync_hold)
        if ev.kind in (EventKind.FINISHED, EventKind.ABORTED) and self._loop is not None:
            self._loop.call_soon(self.close)
        self._publish(out)

    def _trace(self, step: int) -> Any:
        samples = self.coach.traces.get(step)
        if not samples:
            return None
        from app.store.trace import ForceTrace

        t0 = samples[0][0]
        rate = (len(samples) - 1) / (samples[-1][0] - t0) if samples[-1][0] > t0 else 1.0
        return ForceTrace(values=tuple(f for _, f in samples), rate_hz=rate, t0_s=0.0,
                          timestamps=tuple(t - t0 for t, _ in samples))

    def _on_batch(self, batch: Any) -> None:
        if self.runner.done:
            return
        now = self.runner.engine.t()
        out: list[CoachEvent] = []
        if batch.samples:
            last_ms = batch.samples[-1][1]
            k = self.time_scale / 1000.0
            out += self.coach.on_samples(
                (now - ((last_ms - ms) % MS_MOD) * k, cn / 100.0) for _, ms, cn in batch.samples
            )
        for lever in batch.lever:
            out += self.coach.on_lever(lever.engaged, now)
        self._apply(out)

    def _on_status(self, status: Any) -> None:
        self.status = status
        if not self.runner.done:
            self._apply(self.coach.on_connection(bool(status.connected), self.runner.engine.t()))

    def _tick(self) -> None:
        if not self.runner.done:
            self._apply(self.coach.tick(self.runner.engine.t()))
        if self._loop is not None and not self._loop.is_closed():
            self._ticker = self._loop.call_later(TICK_S, self._tick)

    # ------------------------------------------------------------------ outputs
    def _counts(self) -> bool:
        """Hold-only: the press counts while held, or as a plain timer without a sensor."""
        return self.coach.held or not self.coach.sensor_connected

    def _sync_hold(self) -> None:
        if not self.runner.done:
            self.runner.set_held(self._counts())

    def _apply(self, out: list[CoachEvent]) -> None:
        for c in out:
            if c.kind is CoachKind.LEVER:
                self.runner.complete_action()
            elif c.kind in (CoachKind.ZONE, CoachKind.SENSOR) and self.hold_only:
                self.runner.set_held(self._counts())
        self._publish(out)

    def _publish(self, out: list[CoachEvent]) -> None:
        for c in out:
            for listener in self.listeners:
                try:
                    listener(c)
                except Exception as exc:  # a face must not break the sensor path
                    self.runner.listener_errors.append(f"sensor listener: {exc}")

"""The pressure coach: ties the judge to the routine's steps.

It listens to the engine's events (which step is on) and to the sensor (forces, lever,
connection), and says what follows: the zero is re-taken while the tool is empty,
each press is judged, a slip and a recovery are announced (and a press that never
reaches the band gets "press harder"), the lever completes the
lever step. Pure: the session runner feeds it and carries out what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.engine import Event, EventKind
from app.core.pressure import DEFAULT_BAND, Band, PressJudge, SoftTare, Verdict, Zone
from app.core.routine import Routine, StepKind


class CoachKind(StrEnum):
    ZONE = "zone"  # the press is held / lost / too hard
    VERDICT = "verdict"  # a press ended: confirmed / partial / unverified
    LEVER = "lever"  # the lever engaged during a lever (action) step: complete it
    TARED = "tared"  # a new zero was taken while the tool was empty
    SENSOR = "sensor"  # connected / lost
    HARDER = "harder"  # a press has not reached the band a few seconds after it started


# A press not in the band this long after it began has not started: say so, once.
HARDER_AFTER_S = 5.0


@dataclass(frozen=True)
class CoachEvent:
    kind: CoachKind
    t: float
    step: int
    zone: Zone | None = None
    verdict: Verdict | None = None
    text: str = ""


@dataclass
class PressureCoach:
    routine: Routine
    band: Band = DEFAULT_BAND
    sensor_connected: bool = False
    verdicts: dict[int, Verdict] = field(default_factory=dict)
    last_force: float = 0.0
    _step: int = -1
    _kind: StepKind | None = None
    _judge: PressJudge | None = None
    _tare: SoftTare = field(default_factory=SoftTare)
    traces: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    # The lever repeats its state as a heartbeat; only a fresh engagement (after a
    # release) completes a lever step, so a lever left down cannot skip the next one.
    _lever_armed: bool = True
    _harder_said: bool = False

    @property
    def judge(self) -> PressJudge | None:
        return self._judge

    @property
    def held(self) -> bool:
        return self._judge is not None and self._judge.is_held

    def on_event(self, ev: Event) -> list[CoachEvent]:
        out: list[CoachEvent] = []
        if ev.kind is EventKind.STEP_STARTED:
            step = self.routine.steps[ev.step]
            self._step, self._kind = ev.step, step.kind
            self._judge = None
            self._harder_said = False
            if step.kind is StepKind.PRESS:
                self._judge = PressJudge(self.band, ev.planned_t, step.planned_s)
                self.traces[ev.step] = []
                if not self.sensor_connected:
                    self._judge.sensor_lost(ev.planned_t)
        elif ev.kind is EventKind.STEP_FINISHED:
            if self._kind is StepKind.TIMED and self._tare.settle():
                out.append(
                    CoachEvent(
                        CoachKind.TARED,
                        ev.t,
                        ev.step,
                        text=f"zero re-taken ({self._tare.offset:+.1f} N)",
                    )
                )
            if self._judge is not None and not ev.skipped and ev.reason != "back":
                verdict = self._judge.finish(ev.planned_t, sensor=self._had_sensor())
                self.verdicts[ev.step] = verdict
                out.append(
                    CoachEvent(
                        CoachKind.VERDICT, ev.t, ev.step, verdict=verdict, text=verdict.words()
                    )
                )
            self._judge = None
            self._kind = None
        elif ev.kind in (EventKind.FINISHED, EventKind.ABORTED):
            self._judge = None
        return out

    def _had_sensor(self) -> bool:
        return self._judge is not None and (self._judge.samples > 0 or self.sensor_connected)

    def on_samples(self, samples: Iterable[tuple[float, float]]) -> list[CoachEvent]:
        """Samples as (t, raw force in N) on the session's clock, in time order."""
        out: list[CoachEvent] = []
        judge = self._judge
        collecting = self._kind is StepKind.TIMED
        trace = self.traces.get(self._step) if judge is not None else None
        for t, raw in samples:
            if collecting:
                self._tare.feed(raw)
            force = self._tare.apply(raw)
            self.last_force = force
            if judge is not None:
                if trace is not None:
                    trace.append((t, force))
                for change in judge.feed(t, force):
                    out.append(
                        CoachEvent(
                            CoachKind.ZONE,
                            change.t,
                            self._step,
                            zone=change.zone,
                            text=_zone_words(change.zone),
                        )
                    )
                out += self._harder(t)
        return out

    def _harder(self, t: float) -> list[CoachEvent]:
        """ "Press harder", once, when a press with readings never reached the band."""
        judge = self._judge
        if (
            judge is None
            or self._harder_said
            or judge.is_held
            or judge.samples == 0
            or not self.sensor_connected
            or t - judge.start_t < HARDER_AFTER_S
            or judge.under_pressure_s(t) > 0
        ):
            return []
        self._harder_said = True
        return [
            CoachEvent(
                CoachKind.HARDER,
                t,
                self._step,
                zone=Zone.OUT,
                text="press harder — not in the band yet",
            )
        ]

    def tick(self, t: float) -> list[CoachEvent]:
        """Time passes without samples: a dip past its grace becomes a slip."""
        if self._judge is None:
            return []
        out = [
            CoachEvent(CoachKind.ZONE, c.t, self._step, zone=c.zone, text=_zone_words(c.zone))
            for c in self._judge.tick(t)
        ]
        return out + self._harder(t)

    def on_lever(self, engaged: bool, t: float) -> list[CoachEvent]:
        if not engaged:
            self._lever_armed = True
            return []
        if self._kind is StepKind.ACTION and self._lever_armed:
            self._lever_armed = False
            return [CoachEvent(CoachKind.LEVER, t, self._step, text="lever engaged")]
        return []

    def on_connection(self, connected: bool, t: float) -> list[CoachEvent]:
        if connected == self.sensor_connected:
            return []
        self.sensor_connected = connected
        if self._judge is not None:
            if connected:
                self._judge.sensor_back(t)
            else:
                self._judge.sensor_lost(t)
        text = "sensor connected" if connected else "sensor lost — reconnecting"
        return [CoachEvent(CoachKind.SENSOR, t, self._step, text=text)]


def _zone_words(zone: Zone) -> str:
    return {
        Zone.HELD: "pressure held",
        Zone.OUT: "pressure lost — press again",
        Zone.OVER: "easier — that is harder than needed",
    }[zone]

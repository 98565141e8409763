"""Attach a force sensor to a session: the link's batches feed the pressure coach.

Everything here runs on the event loop: the reader thread hands whole batches over
with `call_soon_threadsafe`, never one message per sample. The coach decides; this
module carries its decisions out (hold-only countdown, lever completes the lever step)
and is the runner's *judge*: a press's STEP_FINISHED leaves it carrying the verdict and
the force trace, so the log, the cues and the faces all read the result from the event.
The coach's live events (slipped, held again) go to `subscribe`d listeners, and a face
reads the gauge from `snapshot(now)`, an immutable value, never from the coach itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core import protocol as p
from app.core.coach import CoachEvent, CoachKind, PressureCoach
from app.core.engine import Event, EventKind
from app.core.pressure import DEFAULT_BAND, Band, Verdict, Zone
from app.core.protocol import MS_MOD
from app.core.routine import StepKind
from app.runner import SessionRunner
from app.sensor import open_sensor

CoachListener = Callable[[CoachEvent], None]
log = logging.getLogger(__name__)
SENSOR_ANSWERS = "The sensor answers now: presses are checked."

# What the simulated user does in each kind of step.
SIM_PHASE = {
    StepKind.TIMED: "position",
    StepKind.PRESS: "press",
    StepKind.ACTION: "lever",
    StepKind.HOLDS: "rest",
    StepKind.REPS: "rest",
}
TICK_S = 0.1  # real seconds between grace checks when no sample arrives
STATUS_EVERY_S = 0.5  # the link's counters move slowly: read them twice a second at most


@dataclass(frozen=True)
class PressureSnapshot:
    """What a face draws of the sensor at one instant; a value, safe to keep.

    `press_key` changes when a new press begins; `press_samples` and `press_sum_n`
    count the current press's samples and add up their forces, so a face that keeps
    the previous snapshot can take the mean of the samples since then.
    """

    connected: bool
    force_n: float
    band: Band
    zone: Zone | None  # None between presses: nothing is judged
    under_pressure_s: float | None
    planned_s: float | None
    last_verdict: Verdict | None
    press_key: int
    press_samples: int
    press_sum_n: float
    link: Any  # the link's LinkStatus, or None before its first report


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
        baud: int | None = p.DEFAULT_BAUD,
        diy_scale_cn: float = 100.0,
    ) -> None:
        """`baud` None finds the rate (`--baud auto`), on the reader thread."""
        self.runner = runner
        self.spec = spec
        self.coach = PressureCoach(runner.routine, band=band)
        self.hold_only = hold_only
        runner.engine.hold_only = hold_only
        self.scenario = scenario
        self.time_scale = time_scale
        self.baud = baud
        self.diy_scale_cn = diy_scale_cn
        # Told, once each, why the sensor is not giving readings (a port that will not
        # open, no answer): the run goes on timed, and the user hears why at the start.
        self.on_problem: Callable[[str], None] | None = None
        self.problems: list[str] = []
        self.session: Any = None
        self.status: Any = None
        self._listeners: list[CoachListener] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opened = False
        self._ticker: asyncio.TimerHandle | None = None
        self._step = -1
        self._press_key = 0
        self._press_trace: list[tuple[float, float]] | None = None
        self._press_n = 0
        self._press_sum = 0.0
        self._last_verdict: Verdict | None = None
        self._link: Any = None
        self._link_at = -1e9
        runner.add_judge(self.judge)

    def subscribe(self, listener: CoachListener) -> None:
        """Hear the coach's live events (zone changes, sensor lost, verdicts)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: CoachListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # ------------------------------------------------------------------ lifecycle
    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the reader (from any thread: what it reports reaches `loop` through
        `call_soon_threadsafe`); `start` does it when this was not called first."""
        self._loop = loop
        self._opened = True
        call = loop.call_soon_threadsafe
        self.session = open_sensor(
            self.spec,
            on_batch=lambda b: call(self._on_batch, b),
            on_status=lambda s: call(self._on_status, s),
            scenario=self.scenario,
            time_scale=self.time_scale,
            baud=self.baud if self.spec != "sim" else p.DEFAULT_BAUD,
            diy_scale_cn=self.diy_scale_cn,
        )

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """On the loop: the reader (unless `open` started it) and the grace-check ticker."""
        loop = loop or asyncio.get_running_loop()
        if not self._opened:
            self.open(loop)
        self._loop = loop
        self._ticker = loop.call_later(TICK_S, self._tick)

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

    def snapshot(self, now: float) -> PressureSnapshot:
        """The gauge's state at session time `now` (cheap: a face calls it at 10 Hz)."""
        coach = self.coach
        judge = coach.judge
        if self.session is None:
            link = self.status
        else:
            real = time.monotonic()
            if real - self._link_at >= STATUS_EVERY_S:
                self._link, self._link_at = self.session.status(), real
            link = self._link
        return PressureSnapshot(
            connected=coach.sensor_connected,
            force_n=coach.last_force,
            band=coach.band,
            zone=judge.zone if judge is not None else None,
            under_pressure_s=judge.under_pressure_s(now) if judge is not None else None,
            planned_s=judge.planned_s if judge is not None else None,
            last_verdict=self._last_verdict,
            press_key=self._press_key,
            press_samples=self._press_n,
            press_sum_n=self._press_sum,
            link=link,
        )

    # ------------------------------------------------------------------ inputs
    def judge(self, ev: Event) -> Event:
        """The runner's judge: sees each event before any listener; a press's finish
        leaves here carrying its verdict and trace."""
        if ev.kind is EventKind.STEP_STARTED and self.session is not None:
            self.session.set_phase(SIM_PHASE[self.runner.routine.steps[ev.step].kind])
        out = self.coach.on_event(ev)
        if ev.kind is EventKind.STEP_STARTED:
            self._step = ev.step
        if ev.kind is EventKind.STEP_STARTED and self.coach.judge is not None:
            self._press_key += 1
            self._press_trace, self._press_n, self._press_sum = None, 0, 0.0
        for c in out:
            if c.kind is CoachKind.VERDICT and c.verdict is not None and c.step == ev.step:
                self._last_verdict = c.verdict
                trace = tuple(self.coach.traces.get(ev.step) or ())
                ev = dataclasses.replace(ev, verdict=c.verdict, trace=trace or None)
        if (
            ev.kind in (EventKind.STEP_STARTED, EventKind.RESUMED)
            and self.hold_only
            and self._loop is not None
        ):
            # after this dispatch is over, not inside it
            self._loop.call_soon(self._sync_hold)
        if ev.kind in (EventKind.FINISHED, EventKind.ABORTED) and self._loop is not None:
            self._loop.call_soon(self.close)
        # The verdict is told by `announce`, which the assembly subscribes after the log.
        self._publish([c for c in out if c.kind is not CoachKind.VERDICT])
        return ev

    def announce(self, ev: Event) -> None:
        """A runner listener: tell the coach's listeners (cues, faces) a press's verdict,
        once the log has been handed the step."""
        if ev.kind is EventKind.STEP_FINISHED and ev.verdict is not None:
            self._publish(
                [
                    CoachEvent(
                        CoachKind.VERDICT,
                        ev.t,
                        ev.step,
                        verdict=ev.verdict,
                        text=ev.verdict.words(),
                    )
                ]
            )

    def _count_press(self) -> None:
        """Keep the running count and sum of the current press's samples."""
        trace = self.coach.traces.get(self._step) if self.coach.judge else None
        if trace is None:
            return
        if trace is not self._press_trace:
            self._press_trace, self._press_n, self._press_sum = trace, 0, 0.0
        fresh = trace[self._press_n :]
        self._press_n = len(trace)
        self._press_sum += sum(f for _, f in fresh)

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
        self._count_press()
        self._apply(out)

    def _on_status(self, status: Any) -> None:
        self.status = status
        self._tell_problem(status)
        if not self.runner.done:
            self._apply(self.coach.on_connection(bool(status.connected), self.runner.engine.t()))

    def _tick(self) -> None:
        if not self.runner.done:
            self._apply(self.coach.tick(self.runner.engine.t()))
        if self._loop is not None and not self._loop.is_closed():
            self._ticker = self._loop.call_later(TICK_S, self._tick)

    def _tell_problem(self, status: Any) -> None:
        """Say why the sensor gives nothing, once per reason, while it has never been
        connected (after that, a loss is the gauge's "sensor lost — reconnecting")."""
        if status.state == "connected":
            if self.problems and "" not in self.problems and self.on_problem is not None:
                self.on_problem(SENSOR_ANSWERS)
            self.problems.append("")  # connected once: later troubles are losses
            return
        if "" in self.problems or status.state not in ("connecting",):
            return
        message = str(status.message)
        if not message or message.startswith(("opened ", "looking for")):
            return
        if message in self.problems:
            return
        self.problems.append(message)
        log.info("sensor: %s", message)
        if self.on_problem is not None:
            said = message[0].upper() + message[1:]
            self.on_problem(f"{said}. Until it answers, the presses are timed as usual.")

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
            for listener in list(self._listeners):
                try:
                    listener(c)
                except Exception as exc:  # a face must not break the sensor path
                    self.runner.listener_errors.append(f"sensor listener: {exc}")

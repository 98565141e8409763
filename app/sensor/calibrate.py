"""`hiphook sensor calibrate`: fit the target band to this user and this tool.

Three readings: the tool empty, lying on it relaxed, and a comfortable press. Each
starts once the user says they are in place (Enter; at once with `--yes` or the
simulator), shows the live force, waits for it to hold still (`app/core/settle.py`) and
then takes its mean; a force that never settles ends the calibration with what to do.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from app.core import protocol as p

from .baud import add_port_options

if TYPE_CHECKING:
    from app.core.settle import ReadingState

    from .status import LinkStatus, SensorBatch

STAGES = (
    ("empty", "Take everything off the tool and leave it on the floor.", "rest", 0.0),
    ("relaxed", "Lie face down on the tool as in a press, and relax completely.", "press", 0.0),
    ("press", "Now press a little more, as firmly as is still comfortable.", "press", 5000.0),
)


LIVE_EVERY_S = 0.5  # how often the live force is shown while a reading is taken
MIN_STEP_N = 2.0  # readings closer than this (or 3 noise widths) are the same reading


class _Feed:
    """Samples from the reader thread, stamped on the host's monotonic clock.

    A batch arrives at once, but its samples were taken over the device's milliseconds:
    each is placed that far before the batch's arrival, so the settle window measures
    the device's time, not the reader's chunking.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[tuple[float, float]] = []

    def on_batch(self, batch: SensorBatch) -> None:
        if not batch.samples:
            return
        last_ms = batch.samples[-1].ms
        stamped = [
            (batch.received - ((last_ms - s.ms) % p.MS_MOD) / 1000.0, s.force_cn / 100.0)
            for s in batch.samples
        ]
        with self._cond:
            self._pending.extend(stamped)
            self._cond.notify()

    def take(self, until: float) -> list[tuple[float, float]]:
        """What arrived since the last call, waiting for something until `until`."""
        with self._cond:
            left = until - time.monotonic()
            if not self._pending and left > 0:
                self._cond.wait(left)
            got, self._pending = self._pending, []
        return got


def _live_line(state: ReadingState, measure_s: float) -> str:
    from app.core.settle import Stage  # lazy: the settle model waits for a calibration

    force = "   -  " if state.last is None else f"{state.last:7.1f} N"
    if state.stage is Stage.MEASURING:
        return f"    now {force}  steady: reading {state.measured_s:.1f} of {measure_s:.1f} s"
    if state.spread is None or state.allowed is None:
        return f"    now {force}  keep still..."
    return (
        f"    now {force}  settling (it moves by {state.spread:.1f} N; "
        f"still is under {state.allowed:.1f} N)"
    )


def take_reading(
    feed: _Feed, measure_s: float, timeout_s: float, out: TextIO = sys.stdout
) -> ReadingState:
    """One steady reading: the live force shown until it settles and is averaged, or
    until the deadline passes (the state then says TIMED_OUT)."""
    from app.core.settle import Stage, SteadyReading  # lazy: as in _live_line

    feed.take(time.monotonic())  # what came before the prompt is not this reading
    start = time.monotonic()
    reading = SteadyReading(start, measure_s=measure_s, timeout_s=timeout_s)
    tty = out.isatty()
    next_live = start + LIVE_EVERY_S
    while True:
        for t, force in feed.take(min(next_live, reading.deadline)):
            reading.add(t, force)
        now = time.monotonic()
        state = reading.poll(now)
        if state.stage in (Stage.DONE, Stage.TIMED_OUT):
            if tty:
                print(file=out)
            return state
        if now >= next_live:
            line = _live_line(state, measure_s)
            print("\r\033[K" + line if tty else line, end="" if tty else "\n", file=out, flush=True)
            next_live = now + LIVE_EVERY_S


def band_problem(readings: list[float], spreads: list[float]) -> str | None:
    """Why three readings (empty, relaxed, press) cannot make a band, with what to do;
    None when they can. The spread is the sensor's noise as measured here."""
    empty, relaxed, press = readings
    noise = max(spreads)
    step = max(MIN_STEP_N, 3 * noise)
    if abs(press - empty) < step:
        return (
            f"the empty tool and the press read the same ({empty:.1f} and {press:.1f} N, "
            f"noise {noise:.1f} N): check that nothing lies on the tool for the first "
            "reading and that you press on it for the last"
        )
    if relaxed - empty < step:
        return (
            f"lying relaxed ({relaxed:.1f} N) read no more than the empty tool "
            f"({empty:.1f} N): lie on the tool, over the sensor, for the second reading"
        )
    if press < relaxed:
        return (
            f"the press ({press:.1f} N) read less than lying relaxed ({relaxed:.1f} N): "
            "press a little more firmly for the last reading"
        )
    return None


def cmd_calibrate(args: argparse.Namespace) -> int:
    # lazy: settings, pyserial and the link load for a calibration, not for every command
    from app.core.pressure import band_from_calibration
    from app.settings import Settings

    from . import open_sensor
    from .baud import resolve_baud
    from .spec import parse_sensor_spec

    settings = Settings.load()
    if args.show:
        band = settings.pressure_band()
        state = "calibrated" if band.calibrated else "not calibrated (default band)"
        print(
            f"Target band: {band.low:.0f}–{band.high:.0f} N, hysteresis {band.hysteresis:.1f} N"
            f" — {state}."
        )
        return 0
    feed = _Feed()
    status: dict[str, Any] = {}

    def on_status(s: LinkStatus) -> None:
        status["state"], status["message"] = s.state, s.message

    try:
        args.port = parse_sensor_spec(args.port).value
    except ValueError as exc:
        print(f"hiphook: {exc}", file=sys.stderr)
        return 2
    baud = p.DEFAULT_BAUD
    if args.port not in ("sim", "none"):
        found = resolve_baud(args.port, args.baud, "sensor calibrate")
        if found is None:
            return 1
        baud = found
    session = open_sensor(
        args.port, feed.on_batch, on_status, baud=baud, diy_scale_cn=args.diy_scale * 100
    )
    if session is None:
        print(
            "hiphook: calibration needs a sensor: give --sensor sim|auto|PATH|URL", file=sys.stderr
        )
        return 2
    interactive = sys.stdin.isatty() and not args.yes
    try:
        readings: list[float] = []
        spreads: list[float] = []
        for name, prompt, sim_phase, sim_grams in STAGES:
            print(prompt)
            if session.sim is not None:
                session.set_phase(sim_phase)
                session.sim.place_weight(sim_grams)
            if interactive:
                input("Press Enter when you are in place, then keep still... ")
            got = take_reading(feed, args.seconds, args.timeout)
            if got.samples == 0:
                msg = status.get("message") or "no readings arrived"
                print(
                    f"hiphook: no force readings during the '{name}' reading ({msg}). "
                    "Check the cable and the port (`hiphook sensor scan`).",
                    file=sys.stderr,
                )
                return 1
            if got.mean is None or got.noise is None:
                moving = "" if got.spread is None else f" (it moved by {got.spread:.1f} N)"
                print(
                    f"hiphook: the force did not settle within {args.timeout:g} s during the "
                    f"'{name}' reading{moving}: keep still and try again. Nothing was changed.",
                    file=sys.stderr,
                )
                return 1
            print(f"  {name}: {got.mean:.1f} N (spread {got.noise:.1f} N)")
            readings.append(got.mean)
            spreads.append(got.noise)
    except (KeyboardInterrupt, EOFError):
        print("\nCalibration stopped; nothing was changed.")
        return 130
    finally:
        session.close()
    problem = band_problem(readings, spreads)
    if problem is not None:
        print(f"hiphook: no band saved: {problem}; then calibrate again.", file=sys.stderr)
        return 2
    try:
        band = band_from_calibration(*readings)
    except ValueError as exc:
        print(f"hiphook: {exc}. Nothing was changed; try again.", file=sys.stderr)
        return 2
    settings.band = f"{band.low:.2f},{band.high:.2f},{band.hysteresis:.2f}"
    problem = settings.save()
    if problem:
        print(f"hiphook: {problem}", file=sys.stderr)
        return 1
    print(
        f"Target band saved: {band.low:.0f}–{band.high:.0f} N (hysteresis {band.hysteresis:.1f} N)."
    )
    return 0


def register(sensor_sub: Any) -> None:
    cal = sensor_sub.add_parser("calibrate", help="fit the target pressure band to you")
    cal.add_argument("--sensor", dest="port", default="auto", metavar="sim|auto|PATH|URL")
    cal.add_argument("--show", action="store_true", help="print the current band and exit")
    cal.add_argument(
        "--yes", action="store_true", help="no prompts: take each reading once the force is still"
    )
    cal.add_argument("--seconds", type=float, default=3.0, help="length of each reading")
    cal.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="longest wait for each reading to settle and be taken (seconds)",
    )
    add_port_options(cal)
    cal.set_defaults(func=cmd_calibrate)

"""`hiphook sensor calibrate`: fit the target band to this user and this tool.

Three readings: the tool empty, lying on it relaxed, and a comfortable press. Each is
the mean force over a few seconds once the user says they are ready (Enter), or after a
short countdown when there is nobody to press Enter (`--yes`, or the simulator).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from typing import Any

from app.core import protocol as p
from app.core.pressure import band_from_calibration
from app.settings import Settings

from . import open_sensor
from .baud import add_port_options, resolve_baud
from .spec import parse_sensor_spec
from .status import LinkStatus, SensorBatch

STAGES = (
    ("empty", "Take everything off the tool and leave it on the floor.", "rest", 0.0),
    ("relaxed", "Lie face down on the tool as in a press, and relax completely.", "press", 0.0),
    ("press", "Now press a little more, as firmly as is still comfortable.", "press", 5000.0),
)


LIVE_EVERY_S = 0.5  # how often the live force is shown while a reading is taken
MIN_STEP_N = 2.0  # readings closer than this (or 3 noise widths) are the same reading


def _mean_force(
    samples: list[float], lock: threading.Lock, seconds: float, show: bool = True
) -> tuple[float, float] | None:
    """The mean and spread (standard deviation) of the force over `seconds`, showing
    the live force meanwhile; None when nothing arrived."""
    with lock:
        samples.clear()
    end = time.monotonic() + seconds  # a measuring window, not routine timing
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(LIVE_EVERY_S, left))
        with lock:
            last = samples[-1] if samples else None
        if show and last is not None:
            print(f"    now {last:7.1f} N", flush=True)
    with lock:
        got = list(samples)
    if not got:
        return None
    return statistics.fmean(got), statistics.pstdev(got)


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
    settings = Settings.load()
    if args.show:
        band = settings.pressure_band()
        state = "calibrated" if band.calibrated else "not calibrated (default band)"
        print(
            f"Target band: {band.low:.0f}–{band.high:.0f} N, hysteresis {band.hysteresis:.1f} N"
            f" — {state}."
        )
        return 0
    lock = threading.Lock()
    samples: list[float] = []
    status: dict[str, Any] = {}

    def on_batch(batch: SensorBatch) -> None:
        with lock:
            samples.extend(s.force_cn / 100.0 for s in batch.samples)

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
        args.port, on_batch, on_status, baud=baud, diy_scale_cn=args.diy_scale * 100
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
                input("Press Enter when you are in place... ")
            else:
                time.sleep(args.settle)
            measured = _mean_force(samples, lock, args.seconds)
            if measured is None:
                msg = status.get("message") or "no readings arrived"
                print(
                    f"hiphook: no force readings during the '{name}' reading ({msg}). "
                    "Check the cable and the port (`hiphook sensor scan`).",
                    file=sys.stderr,
                )
                return 1
            value, spread = measured
            print(f"  {name}: {value:.1f} N (spread {spread:.1f} N)")
            readings.append(value)
            spreads.append(spread)
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
        "--yes", action="store_true", help="no prompts: take each reading after a short pause"
    )
    cal.add_argument("--seconds", type=float, default=3.0, help="length of each reading")
    cal.add_argument(
        "--settle", type=float, default=5.0, help="pause before each reading with --yes"
    )
    add_port_options(cal)
    cal.set_defaults(func=cmd_calibrate)

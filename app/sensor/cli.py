"""`hiphook sensor scan|monitor` and `hiphook sim`, as argparse subcommands.

The lead's app/cli.py calls `register(subparsers)`; each handler returns an exit code.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from firmware_sim.__main__ import add_arguments

from .baud import add_port_options
from .calibrate import register as register_calibrate

if TYPE_CHECKING:
    from .status import SensorBatch

TARE_LOADED_N = 20.0  # above this, --tare would zero a sensor that is being pressed


def register(subparsers: Any) -> None:
    """Add `sensor` (with `scan` and `monitor`) and `sim` to an argparse subparsers."""
    sensor = subparsers.add_parser("sensor", help="find and watch the force sensor")
    sensor_sub = sensor.add_subparsers(dest="sensor_command", metavar="{scan,monitor,calibrate}")
    sensor_sub.required = True

    scan = sensor_sub.add_parser("scan", help="list serial ports that look like a sensor")
    scan.add_argument("--all", action="store_true", help="list every serial port")
    scan.set_defaults(func=cmd_scan)

    monitor = sensor_sub.add_parser("monitor", help="live readings from a sensor")
    monitor.add_argument("port", metavar="PORT|URL", help="device path, pyserial URL or auto")
    monitor.add_argument("--rate", type=int, help="ask the sensor for this rate (10-1000 Hz)")
    monitor.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    monitor.add_argument("--tare", action="store_true", help="zero the sensor first")
    add_port_options(monitor)
    monitor.set_defaults(func=cmd_monitor)

    register_calibrate(sensor_sub)
    _check_calibrate_arguments(sensor_sub.choices["calibrate"])

    sim = subparsers.add_parser("sim", help="run the simulated Hip Hook on a pseudo-terminal")

    add_arguments(sim)
    sim.set_defaults(func=cmd_sim)


def seconds_arg(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type for a length of time: a finite number from lo to hi."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            shown = text if len(text) <= 20 else text[:17] + "..."
            raise argparse.ArgumentTypeError(f"not a number of seconds: {shown!r}") from None
        if not (math.isfinite(v) and lo <= v <= hi):
            raise argparse.ArgumentTypeError(
                f"must be a number of seconds from {lo:g} to {hi:g}, not {text}"
            )
        return v

    return parse


def _check_calibrate_arguments(cal: argparse.ArgumentParser) -> None:
    """Give calibrate's time options a type that refuses -1 and nan as a usage error.

    Without it a negative or nan time raised mid-calibration (a traceback).
    """
    types = {"seconds": seconds_arg(0.5, 60), "timeout": seconds_arg(1, 600)}
    for action in cal._actions:
        if action.dest in types:
            action.type = types[action.dest]


def cmd_scan(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from .discovery import scan_ports  # lazy: pyserial's port list, for this command only

    try:
        ports = scan_ports()
    except Exception as exc:  # list_ports can trip over odd sysfs entries
        print(f"sensor scan: cannot list ports: {exc}", file=sys.stderr)
        return 1
    shown = ports if getattr(args, "all", False) else [p for p in ports if p.verdict]
    if not shown:
        extra = "" if getattr(args, "all", False) else " (--all lists every port)"
        print(f"no sensor found{extra}", file=out)
        return 1
    for port in shown:
        label = {"hiphook": "Hip Hook", "diy?": "DIY board?"}.get(port.verdict, "-")
        line = f"{port.by_id or port.device:<50} {label:<11} {port.usb_id:<10}"
        if port.serial_number:
            line += f" SN {port.serial_number}"
        print(f"{line}  {port.description}".rstrip(), file=out)
    return 0


def cmd_monitor(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    # lazy: pyserial and the reader thread, which parsing any other command never needs
    from .baud import resolve_baud
    from .link import SensorLink
    from .spec import EXPECTED, parse_sensor_spec

    try:
        spec = parse_sensor_spec(args.port)
    except ValueError as exc:
        print(f"sensor monitor: {exc}", file=sys.stderr)
        return 2
    url = spec.value
    if spec.kind in ("none", "sim"):
        print(f"sensor monitor: give the port to watch (not {url}): {EXPECTED}", file=sys.stderr)
        return 2
    if spec.kind == "path" and not os.path.exists(url):
        print(f"sensor monitor: no such port {url} (try: hiphook sensor scan)", file=sys.stderr)
        return 2
    if args.rate is not None and not 10 <= args.rate <= 1000:
        print("sensor monitor: --rate must be 10-1000 Hz", file=sys.stderr)
        return 2
    baud = resolve_baud(url, args.baud, "sensor monitor", out)
    if baud is None:
        return 1
    lock = threading.Lock()
    latest: dict[str, Any] = {"lever": None}

    def on_batch(batch: SensorBatch) -> None:
        with lock:
            for event in batch.lever:
                latest["lever"] = event.engaged

    def on_status(status: Any) -> None:
        print(f"# {status.state}: {status.message}", file=out, flush=True)

    link = SensorLink(
        url,
        on_batch,
        on_status,
        rate_hz=args.rate,
        baud=baud,
        diy_scale_cn=args.diy_scale * 100,
    )
    link.start()
    tared = not args.tare
    end = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        while end is None or time.monotonic() < end:
            time.sleep(0.5)
            st = link.status()
            if not tared and st.connected and st.last_force_cn is not None:
                if abs(st.last_force_cn) > TARE_LOADED_N * 100:
                    print(
                        f"# not zeroed: the sensor reads {st.last_force_cn / 100:.1f} N, so "
                        "something is on it; take the load off, then run --tare again",
                        file=out,
                        flush=True,
                    )
                    tared = True  # asked once: never zero a loaded sensor
                else:
                    tared = link.tare()
            if not st.connected:
                continue
            force = "-" if st.last_force_cn is None else f"{st.last_force_cn / 100:8.2f} N"
            lever = {None: "", True: "  lever on", False: "  lever off"}[latest["lever"]]
            bad = st.bad_lines + st.checksum_errors + st.overlong
            print(
                f"{force}  {st.rate_hz:7.1f} Hz  dropped {st.dropped}  bad {bad}{lever}",
                file=out,
                flush=True,
            )
    except KeyboardInterrupt:
        pass
    finally:
        link.stop()
    st = link.status()
    print(
        f"# {st.samples} samples, dropped {st.dropped}, bad lines {st.bad_lines}, "
        f"checksum errors {st.checksum_errors}, over-long {st.overlong}, "
        f"header lines {st.ignored}, gaps {len(st.gaps)}",
        file=out,
    )
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from firmware_sim.__main__ import serve  # lazy: only the names load first (see __main__)

    return serve(args)

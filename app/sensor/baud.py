"""`--baud N|auto` and `--diy-scale`: the options of every command that opens a port.

DIY sketches print at whatever `Serial.begin()` says, usually 9600, 38400, 57600 or
115200. At the wrong rate a UART reads framing garbage, so `auto` opens the port at each
usual rate in turn and keeps the first at which lines decode (readings or an identity).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

import serial

from app.core import protocol as p

# ValueError: a malformed URL; NotImplementedError: a setting the URL's handler lacks.
OPEN_ERRORS = (serial.SerialException, OSError, ValueError, NotImplementedError)
AUTO_BAUDS = (9600, 38400, 57600, 115200)
LISTEN_S = 1.2  # per rate: a 10 Hz sketch prints a dozen lines in that time
NEED_READINGS = 3  # readings that decode before a rate is believed


def baud_arg(text: str) -> int | None:
    """An argparse type: a baud rate from 300 to 4,000,000, or `auto` (None)."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        shown = text if len(text) <= 20 else text[:17] + "..."
        raise argparse.ArgumentTypeError(
            f"not a baud rate: {shown!r} (a number such as 115200, or auto)"
        ) from None
    if not 300 <= value <= 4_000_000:
        raise argparse.ArgumentTypeError(f"baud rate must be 300 to 4000000 (or auto), not {text}")
    return value


def diy_scale_arg(text: str) -> float:
    """An argparse type for newtons per unit a DIY sketch prints: finite and above zero.

    A nan scale used to be taken, and then every reading was dropped in silence.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        shown = text if len(text) <= 20 else text[:17] + "..."
        raise argparse.ArgumentTypeError(
            f"must be a positive number of newtons per unit (e.g. 9.81 for a sketch that "
            f"prints kilograms), not {shown!r}"
        )
    return value


def add_port_options(parser: argparse.ArgumentParser) -> None:
    """`--baud` and `--diy-scale`, the same on every command that opens a port."""
    parser.add_argument(
        "--baud",
        type=baud_arg,
        default=p.DEFAULT_BAUD,
        metavar="N|auto",
        help=f"serial speed (default {p.DEFAULT_BAUD}); auto tries "
        + ", ".join(map(str, AUTO_BAUDS)),
    )
    parser.add_argument(
        "--diy-scale",
        type=diy_scale_arg,
        default=1.0,
        help="newtons per unit a DIY sensor prints when it names no unit (default 1)",
    )


def _decodes(url: str, baud: int, listen_s: float) -> bool:
    """Open `url` at `baud` and listen: True once readings (or an identity) decode."""
    try:
        port = serial.serial_for_url(url, baudrate=baud, timeout=0.05)
    except OPEN_ERRORS:
        return False
    decoder = p.Decoder()
    readings = 0
    try:
        with contextlib.suppress(serial.SerialException, OSError):
            port.reset_input_buffer()
            port.write(p.encode_command("ID"))  # a protocol device answers at once
        end = time.monotonic() + listen_s
        while time.monotonic() < end:
            try:
                data = port.read(4096)
            except (serial.SerialException, OSError):
                return False
            for item in decoder.feed(data):
                if isinstance(item, p.Identity):
                    return True
                if isinstance(item, tuple | p.PlainForce):
                    readings += 1
            if readings >= NEED_READINGS:
                return True
    finally:
        with contextlib.suppress(Exception):
            port.close()
    return False


def detect_baud(
    url: str,
    rates: tuple[int, ...] = AUTO_BAUDS,
    listen_s: float = LISTEN_S,
    report: Callable[[str], None] | None = None,
) -> int | None:
    """The first of `rates` at which `url` speaks lines that decode, or None."""
    for baud in rates:
        if report is not None:
            report(f"trying {baud} baud")
        if _decodes(url, baud, listen_s):
            return baud
    return None


def resolve_baud(url: str, baud: int | None, command: str, out: TextIO = sys.stdout) -> int | None:
    """The baud rate to open `url` at: `baud`, or for auto (None) the first usual rate at
    which lines decode. None (with the reason on stderr) when none does."""
    from .discovery import find_auto  # lazy: pyserial's port list, only for `auto`

    if baud is not None:
        return baud
    target = find_auto() if url == "auto" else url
    if target is None:
        print(
            f"{command}: --baud auto needs a port, and none was found "
            "(try: hiphook sensor scan --all)",
            file=sys.stderr,
        )
        return None
    found = detect_baud(target, report=lambda msg: print(f"# {msg}", file=out, flush=True))
    if found is None:
        print(
            f"{command}: nothing on {target} decodes at 9600, 38400, 57600 or 115200 baud. "
            "Check the sketch's Serial.begin() rate and give it with --baud N, and that "
            "it prints one reading per line.",
            file=sys.stderr,
        )
        return None
    print(f"# {found} baud: lines decode", file=out, flush=True)
    return found

"""What the chosen sensor is doing right now, in words, before a run starts.

Home shows it beside the Sensor line: connected at N Hz, not found, cannot be opened (and
why), not calibrated. `probe_sensor` opens the port briefly, so it blocks for up to a few
seconds: call it on a thread, never on the event loop.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from app.core import protocol as p

from .baud import detect_baud
from .discovery import find_auto
from .link import SensorLink
from .spec import WHAT_TO_DO, parse_sensor_spec
from .status import CONNECTED, LinkStatus, SensorBatch

# Kinds of state, for a face that wants more than the words.
NONE = "none"
SIM = "sim"
READY = "connected"
NOT_FOUND = "not found"
CANNOT_OPEN = "cannot open"
INVALID = "invalid"

LISTEN_S = 1.0  # after connecting: long enough to count a 10 Hz sketch's readings


@dataclass(frozen=True)
class SensorState:
    """One probe's outcome: `kind` (the constants above), `port` it resolved to (auto
    gives a path), and `words` to show."""

    spec: str
    kind: str
    words: str
    port: str | None = None
    rate_hz: float = 0.0

    @property
    def usable(self) -> bool:
        return self.kind in (READY, SIM)


def _rate(ms: list[int]) -> float:
    """Samples a second from their stamps (the device's own clock: load on this machine
    does not change it); 0 with fewer than two."""
    if len(ms) < 2:
        return 0.0
    span = ((ms[-1] - ms[0]) % p.MS_MOD) / 1000
    return (len(ms) - 1) / span if span > 0 else 0.0


def calibration_words(calibrated: bool) -> str:
    return "" if calibrated else "; not calibrated (hiphook sensor calibrate)"


def probe_sensor(
    spec: str,
    *,
    calibrated: bool,
    baud: int | None = p.DEFAULT_BAUD,
    diy_scale_cn: float = 100.0,
    timeout: float = 4.0,
) -> SensorState:
    """Find out, within about `timeout` seconds, whether `spec` gives readings and how
    fast. Never raises for a bad value or a port that will not open: that is the state."""
    try:
        parsed = parse_sensor_spec(spec)
    except ValueError as exc:
        return SensorState(spec, INVALID, str(exc))
    value = parsed.value
    if parsed.kind == "none":
        return SensorState(value, NONE, "none: presses are timed, not checked")
    if parsed.kind == "sim":
        return SensorState(
            value, SIM, "the built-in simulator (for trying hiphook out)" + calibration_words(True)
        )
    port: str | None = value
    if parsed.kind == "auto":
        port = find_auto()
        if port is None:
            return SensorState(
                value,
                NOT_FOUND,
                "auto: no sensor found (plug it in; `hiphook sensor scan --all` lists the ports)",
            )
    assert port is not None
    if "://" not in port and not os.path.exists(port):
        return SensorState(
            value, NOT_FOUND, f"{port}: not found (unplugged, or another name); {WHAT_TO_DO}", port
        )
    return _listen(value, port, calibrated, baud, diy_scale_cn, timeout)


def _listen(
    spec: str, port: str, calibrated: bool, baud: int | None, scale_cn: float, timeout: float
) -> SensorState:
    """Open `port` once (no reconnecting), wait for the handshake, measure the rate."""
    end = time.monotonic() + timeout
    if baud is None:
        baud = detect_baud(port)
        if baud is None:
            return SensorState(
                spec,
                CANNOT_OPEN,
                f"{port}: nothing decodes at 9600, 38400, 57600 or 115200 baud "
                "(check the sketch's Serial.begin() rate)",
                port,
            )
        end = time.monotonic() + timeout
    last: list[LinkStatus] = []
    changed = threading.Event()

    def on_status(status: LinkStatus) -> None:
        last.append(status)
        changed.set()

    stamps: list[int] = []  # the samples' ms: the device's clock, or the host's for DIY

    def on_batch(batch: SensorBatch) -> None:
        stamps.extend(sample.ms for sample in batch.samples)

    link = SensorLink(port, on_batch, on_status, baud=baud, diy_scale_cn=scale_cn, reconnect=False)
    link.start()
    shown = port if port == spec else f"{spec} → {port}"
    try:
        connected_at: float | None = None
        while (now := time.monotonic()) < end:
            status = link.status()
            if status.state == CONNECTED:
                connected_at = connected_at or now
                if now - connected_at > LISTEN_S:
                    break
            elif not link.transport.running:
                break  # opened and refused, or never opened: the last status says why
            changed.wait(0.05)
            changed.clear()
        status = link.status()
    finally:
        link.stop()
    rate = _rate(list(stamps))
    if status.state == CONNECTED:
        what = "a DIY sensor" if status.kind == "diy" else "connected"
        if status.kind == "diy":
            what += f" at {baud} baud, {rate:.0f} readings a second"
        else:
            what += f" at {rate:.0f} Hz"
        return SensorState(
            spec,
            READY,
            f"{shown}: {what}{calibration_words(calibrated)}",
            port,
            rate,
        )
    why = status.message or "no answer"
    if not why.startswith(("cannot open", "permission denied")):
        why = f"{shown}: {why}; {WHAT_TO_DO}"
    return SensorState(spec, CANNOT_OPEN, why, port)

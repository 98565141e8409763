"""What `--sensor` may say, and what to tell the user when the port it names will not open.

`parse_sensor_spec` refuses a malformed value before anything runs (the CLI exits 2 with
its message); `open_error_message` turns an open failure into what was tried and what to
do. Both are pure of I/O but for a look at /dev, so the CLI and the TUI can call them.
"""

from __future__ import annotations

import errno
import importlib.util
import os
from dataclasses import dataclass

from .discovery import BY_ID_DIR, permission_hint

EXPECTED = (
    "none, sim, auto, a device path such as /dev/ttyACM0 or "
    f"{BY_ID_DIR}/…, or a URL such as socket://HOST:PORT or rfc2217://HOST:PORT"
)
WHAT_TO_DO = (
    f"run `hiphook sensor scan --all` to list the ports, prefer the {BY_ID_DIR} "
    "path, and check the cable"
)


@dataclass(frozen=True)
class SensorSpec:
    """A well-formed `--sensor` value: kind is none, sim, auto, path or url."""

    kind: str
    value: str


def parse_sensor_spec(text: str) -> SensorSpec:
    """Check the form of a `--sensor` value; ValueError says what was expected."""
    value = text.strip()
    if not value:
        raise ValueError(f"--sensor is empty: give {EXPECTED}")
    if value.lower() in ("none", "sim", "auto"):
        return SensorSpec(value.lower(), value.lower())
    if "://" in value:
        scheme, _, rest = value.partition("://")
        handler = f"serial.urlhandler.protocol_{scheme.lower()}"
        if not scheme.isidentifier() or importlib.util.find_spec(handler) is None:
            raise ValueError(f"--sensor {value!r}: unknown URL scheme {scheme!r}; give {EXPECTED}")
        if scheme.lower() in ("socket", "rfc2217"):
            host, _, port = rest.split("?")[0].rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(
                    f"--sensor {value!r}: a {scheme}:// URL needs HOST:PORT "
                    f"(a port 1-65535), e.g. {scheme}://127.0.0.1:7777"
                )
        return SensorSpec("url", value)
    if "/" not in value:
        guess = f"/dev/{value}"
        hint = f"did you mean {guess}?" if os.path.exists(guess) else f"give {EXPECTED}"
        raise ValueError(f"--sensor {value!r} is not a path: {hint}")
    return SensorSpec("path", value)


def open_error_message(url: str, exc: BaseException) -> str:
    """What was tried, why it failed, and what to do, for a port that will not open."""
    hint = permission_hint(url, exc)
    if hint is not None:
        return f"cannot open the sensor: {hint}"
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err == errno.ENOENT or "No such file" in text:
        why = "no such port (unplugged, or another name)"
    elif err == errno.ENOTTY or "Inappropriate ioctl" in text:
        why = "it is not a serial port"
    elif err == errno.EBUSY or "busy" in text.lower() or "exclusively lock" in text:
        why = "another program has it open (close it: a serial monitor, another hiphook)"
    elif err == errno.ECONNREFUSED or "refused" in text.lower():
        why = "nothing is listening there (is the simulator or bridge running?)"
    else:
        why = text or type(exc).__name__
    return f"cannot open the sensor at {url}: {why}; {WHAT_TO_DO}"

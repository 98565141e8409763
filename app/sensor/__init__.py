"""Sensor input: the transport (reader thread, reconnect), the protocol object, discovery.

The one call the runner needs is `open_sensor(spec, on_batch, on_status)`, where spec is
what `--sensor` took: "none", "sim", "auto", a device path or any pyserial URL.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .discovery import PortInfo, find_auto, permission_hint, scan_ports
    from .link import SensorLink
    from .status import (
        CLOSED,
        CONNECTED,
        CONNECTING,
        LOST,
        LOST_MESSAGE,
        RECONNECTING,
        BatchCallback,
        Gap,
        LinkStatus,
        Sample,
        SensorBatch,
        StatusCallback,
    )
    from .transport import SensorLost, SerialTransport

# Where each name of the package lives. They load on first use (PEP 562's __getattr__):
# `hiphook --version` and every Tab press import app.sensor.baud and app.sensor.cli, and
# an eager facade would make each of them pay for pyserial, the link and the simulator.
_LAZY = {
    "PortInfo": "app.sensor.discovery",
    "find_auto": "app.sensor.discovery",
    "permission_hint": "app.sensor.discovery",
    "scan_ports": "app.sensor.discovery",
    "SensorLink": "app.sensor.link",
    "SensorLost": "app.sensor.transport",
    "SerialTransport": "app.sensor.transport",
    **dict.fromkeys(
        (
            "CLOSED",
            "CONNECTED",
            "CONNECTING",
            "LOST",
            "LOST_MESSAGE",
            "RECONNECTING",
            "BatchCallback",
            "Gap",
            "LinkStatus",
            "Sample",
            "SensorBatch",
            "StatusCallback",
        ),
        "app.sensor.status",
    ),
}


def __getattr__(name: str) -> Any:
    """The package's names, each loaded from its module the first time it is asked for."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # lazy: the facade's parts load on first use, so the light submodules stay light
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


@dataclass
class SensorSession:
    """A running link, plus the in-process simulator behind it when spec was "sim"."""

    link: SensorLink
    sim: Any = None  # firmware_sim.Simulator; typed loosely so app/ does not need it

    def set_phase(self, phase: str) -> None:
        """Tell a simulated user which routine phase it is in (no-op for real sensors)."""
        if self.sim is not None:
            self.sim.set_phase(phase)

    def status(self) -> LinkStatus:
        return self.link.status()

    def close(self) -> None:
        self.link.stop()
        if self.sim is not None:
            self.sim.stop()


def open_sensor(
    spec: str,
    on_batch: BatchCallback,
    on_status: StatusCallback | None = None,
    *,
    scenario: str = "steady",
    rate_hz: int | None = None,
    time_scale: float = 1.0,
    **link_options: Any,
) -> SensorSession | None:
    """Start reading the sensor `spec` names; None for "none". Returns at once: the
    connection is made (and remade) on the reader thread, reported through on_status."""
    # lazy: pyserial, the reader thread and the simulator, for a command that opens a sensor
    from firmware_sim import start_simulator

    from .link import SensorLink

    if spec == "none":
        return None
    sim = None
    url = spec
    if spec == "sim":
        sim = start_simulator(scenario, rate=rate_hz or 100, time_scale=time_scale)
        url = sim.port
    link = SensorLink(url, on_batch, on_status, rate_hz=rate_hz, **link_options)
    return SensorSession(link.start(), sim)


__all__ = [
    "CLOSED",
    "CONNECTED",
    "CONNECTING",
    "LOST",
    "LOST_MESSAGE",
    "RECONNECTING",
    "Gap",
    "LinkStatus",
    "PortInfo",
    "Sample",
    "SensorBatch",
    "SensorLost",
    "SensorLink",
    "SensorSession",
    "SerialTransport",
    "find_auto",
    "open_sensor",
    "permission_hint",
    "scan_ports",
]

"""The simulated Hip Hook: a device model served on a pseudo-terminal.

Imports only the wire codec from the app (app.core.protocol), like real firmware would
share nothing else with the host.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .scenarios import PHASES, SCENARIO_NAMES, ProfileError, Scenario, make_scenario

if TYPE_CHECKING:
    from .device import DeviceModel
    from .server import Simulator, start_simulator

# The device model and the pty server load on first use (PEP 562): `hiphook` builds
# `hiphook sim`'s options from firmware_sim.__main__ on every start, Tab press included.
_LAZY = {
    "DeviceModel": "firmware_sim.device",
    "Simulator": "firmware_sim.server",
    "start_simulator": "firmware_sim.server",
}


def __getattr__(name: str) -> Any:
    """The package's heavier names, each loaded from its module when first asked for."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # lazy: the device model and the server wait until a simulator is started
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "PHASES",
    "SCENARIO_NAMES",
    "DeviceModel",
    "ProfileError",
    "Scenario",
    "Simulator",
    "make_scenario",
    "start_simulator",
]

"""The simulated Hip Hook: a device model served on a pseudo-terminal.

Imports only the wire codec from the app (app.core.protocol), like real firmware would
share nothing else with the host.
"""

from .device import DeviceModel
from .scenarios import PHASES, SCENARIO_NAMES, ProfileError, Scenario, make_scenario
from .server import Simulator, start_simulator

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

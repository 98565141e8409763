"""Home's Sensor line: which sensor a run will use, and what it is doing right now.

The choice cycles through none, auto, the serial ports last seen and the simulator. Each
choice is probed on a thread worker (opening a port takes up to a few seconds, and
pyserial is not imported on the event loop), so the line first says "checking…" and
Home's first paint never waits for a device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from app.sensor.probe import SensorState

Probe = Callable[[str], "SensorState"]
LABEL_W = 13  # as Home's other lines
FIXED = ("none", "auto")


def choices(ports: tuple[str, ...]) -> tuple[str, ...]:
    """The order `cycle` goes through: none, auto, each port seen, the simulator."""
    return (*FIXED, *(p for p in ports if p not in (*FIXED, "sim")), "sim")


def default_probe(calibrated: bool, baud: int | None, diy_scale_cn: float) -> Probe:
    def probe(spec: str) -> SensorState:
        # lazy: the sensor package and pyserial load on the probe's thread, never on
        # the event loop before Home paints
        from app.sensor.probe import probe_sensor

        return probe_sensor(spec, calibrated=calibrated, baud=baud, diy_scale_cn=diy_scale_cn)

    return probe


def list_ports() -> tuple[str, ...]:
    """The serial ports a user could pick (stable by-id paths where udev made them)."""
    from app.sensor.discovery import scan_ports  # lazy: as the probe's, on a thread

    try:
        return tuple(port.by_id or port.device for port in scan_ports())
    except Exception:  # noqa: BLE001 - list_ports can trip over odd sysfs entries
        return ()


class SensorChoice(Static):
    """`spec` is the choice (what a run is given); `state` the last probe's outcome."""

    DEFAULT_CSS = """
    SensorChoice {
        height: auto;
    }
    """

    spec: reactive[str] = reactive("none", init=False)
    state: reactive[SensorState | None] = reactive(None, init=False)

    class Changed(Message):
        """The user picked another sensor (Home remembers it)."""

        def __init__(self, choice: SensorChoice, spec: str) -> None:
            super().__init__()
            self.choice = choice
            self.spec = spec

        @property
        def control(self) -> SensorChoice:
            return self.choice

    class Probed(Message):
        """A probe finished: `state` says what the chosen sensor is doing."""

        def __init__(self, choice: SensorChoice, state: SensorState) -> None:
            super().__init__()
            self.choice = choice
            self.state = state

        @property
        def control(self) -> SensorChoice:
            return self.choice

    def __init__(
        self,
        spec: str = "none",
        *,
        probe: Probe | None = None,
        key: str = "c",
        ports: Callable[[], tuple[str, ...]] = list_ports,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._probe = probe or default_probe(False, 115200, 100.0)
        self._list_ports = ports
        self.key = key
        self.ports: tuple[str, ...] = ()
        self.set_reactive(SensorChoice.spec, spec.strip() or "none")

    def on_mount(self) -> None:
        self._paint()
        self.call_after_refresh(self.check)  # its thread after this frame: it slows it

    @property
    def run_spec(self) -> str:
        """What to hand a run: the port `auto` found when the probe found one (so the
        run does not scan again), else the choice as it is."""
        state = self.state
        if self.spec == "auto" and state is not None and state.port and state.usable:
            return state.port
        return self.spec

    def cycle(self) -> str:
        """Move to the next choice; returns it."""
        order = choices(self.ports)
        i = order.index(self.spec) + 1 if self.spec in order else 0
        self.spec = order[i % len(order)]
        self.post_message(self.Changed(self, self.spec))
        return self.spec

    def watch_spec(self) -> None:
        self.state = None
        self._paint()
        self.check()

    def watch_state(self) -> None:
        self._paint()

    def _paint(self) -> None:
        state = self.state
        words = "checking…" if state is None else state.words
        label = "Sensor"
        self.update(f"[b]{label:<{LABEL_W}}[/b]{escape(words)}   ({self.key} to change)")

    @work(thread=True, exclusive=True, group="sensor-probe")
    def check(self) -> None:
        """On a thread: probe the choice and list the ports for the next `cycle`."""
        spec = self.spec
        worker = get_current_worker()
        state = self._probe(spec)
        ports = self._list_ports()
        if not worker.is_cancelled:
            self.app.call_from_thread(self._probed, spec, state, ports)

    def _probed(self, spec: str, state: SensorState, ports: tuple[str, ...]) -> None:
        self.ports = ports
        if spec != self.spec:
            return  # the user moved on while this probe ran
        self.state = state
        self.post_message(self.Probed(self, state))

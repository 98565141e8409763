"""What the sensor link hands out: typed samples, batches, status snapshots and gaps.

Apart from the link so the screens, the session attachment and the tests can name them
without the link's machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from app.core import protocol as p

CONNECTING = "connecting"
CONNECTED = "connected"
LOST = "lost"
RECONNECTING = "reconnecting"
CLOSED = "closed"

LOST_MESSAGE = "sensor lost — reconnecting"


class Sample(NamedTuple):
    """One force reading. For a DIY sensor `seq` is the link's own count and `ms` the
    host's monotonic clock in ms; for a device both are the device's counters."""

    seq: int
    ms: int
    force_cn: int


@dataclass(frozen=True, slots=True)
class SensorBatch:
    """Samples that arrived together."""

    received: float  # time.monotonic() when the last bytes of the batch were read
    samples: list[Sample]
    lever: list[p.LeverEvent]
    kind: str  # "device" or "diy"


@dataclass(frozen=True, slots=True)
class Gap:
    """Host monotonic times the sensor was away; `end` is None while it still is."""

    start: float
    end: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True, slots=True)
class LinkStatus:
    state: str = CONNECTING
    message: str = ""
    port: str = ""
    kind: str | None = None  # "device" or "diy" once known
    identity: p.Identity | None = None
    rate_hz: float = 0.0  # measured
    last_force_cn: int | None = None
    lever: bool | None = None
    samples: int = 0
    dropped: int = 0
    bad_lines: int = 0
    checksum_errors: int = 0
    overlong: int = 0
    ignored: int = 0  # a DIY sketch's header and status lines
    gaps: tuple[Gap, ...] = ()
    clock_offset_ms: float | None = None  # host ms minus device ms, lowest seen

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED

    def summary(self) -> dict[str, Any]:
        """A small JSON-friendly dict for periodic reports."""
        return {
            "state": self.state,
            "rate_hz": round(self.rate_hz, 1),
            "last_force_n": None if self.last_force_cn is None else self.last_force_cn / 100,
            "dropped": self.dropped,
            "bad_lines": self.bad_lines + self.checksum_errors + self.overlong,
            "gaps": len(self.gaps),
        }


# What a callback returns is ignored (the attachment hands back call_soon's Handle).
BatchCallback = Callable[[SensorBatch], object]
StatusCallback = Callable[[LinkStatus], object]

"""Clocks the engine can run on.

The engine only ever asks "what time is it"; it never sleeps. So the same engine
runs on the real monotonic clock, on a scaled one for demos, and on a fake one that
tests move by hand, without any of them knowing the difference.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """What the engine asks of a clock (the bodies are `...`: a protocol, not a base)."""

    def now(self) -> float:
        """Monotonic seconds: never jumps with NTP or daylight saving."""
        ...

    def boot(self) -> float:
        """Seconds that also run while the system is suspended (Linux CLOCK_BOOTTIME)."""
        ...

    def real_delay(self, deadline: float) -> float:
        """Real seconds to wait until `deadline` on this clock."""
        ...


def _boottime() -> float:
    # CLOCK_BOOTTIME exists on Linux only; elsewhere suspend detection is unavailable
    # and the monotonic clock stands in (no false alarms, just no detection).
    cid = getattr(time, "CLOCK_BOOTTIME", None)
    if cid is None:
        return time.monotonic()
    return time.clock_gettime(cid)


class MonotonicClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    def boot(self) -> float:
        return _boottime()

    def real_delay(self, deadline: float) -> float:
        return deadline - time.monotonic()


class ScaledClock:
    """Runs `scale` times faster than real time, for demos and development."""

    def __init__(self, scale: float) -> None:
        if not scale > 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._mono0 = time.monotonic()

    def now(self) -> float:
        return self._mono0 + (time.monotonic() - self._mono0) * self.scale

    def boot(self) -> float:
        # Only a real suspend moves the boot clock past the monotonic one; that offset
        # is not scaled, or a few ms between two reads would look like seconds asleep.
        return self.now() + (_boottime() - time.monotonic())

    def real_delay(self, deadline: float) -> float:
        return (deadline - self.now()) / self.scale


class FakeClock:
    """A clock that moves only when told; `suspend` models a laptop lid being closed."""

    def __init__(self, start: float = 1000.0) -> None:
        self._mono = start
        self._boot = start
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return self._mono

    def boot(self) -> float:
        return self._boot

    def real_delay(self, deadline: float) -> float:
        # Fake time never passes by itself; a waiter must be woken by advance().
        return float("inf") if deadline > self._mono else 0.0

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._mono += seconds
        self._boot += seconds
        for wake in list(self._listeners):
            wake()

    def subscribe(self, wake: Callable[[], None]) -> None:
        """Called after every advance, so an async waiter can re-check its deadline."""
        self._listeners.append(wake)

    def suspend(self, seconds: float) -> None:
        """The boot-time clock runs on; the monotonic clock stands still (as on Linux)."""
        self._boot += seconds

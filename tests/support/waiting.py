"""Waiting for a state in tests: poll a predicate against a deadline, never sleep a guess."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot


def wait_for(pred: Callable[[], bool], timeout: float = 10.0) -> bool:
    """True as soon as `pred()` holds; `timeout` bounds a hung state, it is not a timing."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


async def until(pilot: Pilot[Any], pred: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let a Pilot-driven app run until `pred()` holds (a worker loading, a thread
    writing the log); `timeout` bounds a hung state only."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"the app never reached the state {pred.__name__}")
        await pilot.pause(0.01)

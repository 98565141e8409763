"""Waiting for a state in tests: poll a predicate against a deadline, never sleep a guess."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(pred: Callable[[], bool], timeout: float = 10.0) -> bool:
    """True as soon as `pred()` holds; `timeout` bounds a hung state, it is not a timing."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()

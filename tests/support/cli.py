"""Run the installed command as a user would: a real process, its output and exit code.

One way to start `hiphook` for every test, so each runs this checkout (PYTHONPATH), in
UTC unless told otherwise, with no terminal on stdin unless the test types into it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


def command(*args: str) -> list[str]:
    """`hiphook ARGS` as argv: this interpreter running this checkout's package."""
    return [sys.executable, "-m", "app", *args]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment (its isolated home from conftest.py), this checkout first."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "TZ": "UTC", **(extra or {})}


def hiphook(
    *args: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    input: str | None = None,  # noqa: A002 - subprocess.run's own name for it
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run to the end; stdin is empty (or `input`), as under cron or a pipe."""
    return subprocess.run(
        command(*args),
        capture_output=True,
        text=True,
        env=environment(env),
        timeout=timeout,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        cwd=cwd,
    )


def start(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[str]:
    """Start and leave running, every stream a pipe (a test types keys and reads lines)."""
    return subprocess.Popen(
        command(*args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(env),
        cwd=cwd,
    )


class JsonLines:
    """The `--json` lines of a started run, read on a thread of their own, so a test
    waits for a line (a state) with a bound even when the run says nothing at all."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[dict[str, Any]] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)  # the run closed its output

    def until(self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> int:
        """Read (each line must be JSON) up to the first line `wanted`: its index."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(json.loads(line))
            if wanted(self.seen[-1]):
                return len(self.seen) - 1
        raise AssertionError(f"not found within {timeout} s; the last lines: {self.seen[-5:]}")

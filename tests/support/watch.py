"""Shared steps of the watch and serve tests: a short routine, a real run in a subprocess,
and its published socket."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from app.publish import socket_path
from tests.support.cli import start
from tests.support.waiting import wait_for

# Three steps: a timed one, one with two push/relax reps, and a lever step that waits.
ROUTINE = """
name = "watchme"
title = "Watch me"
[[step]]
kind = "timed"
name = "Settle in"
instruction = "Lie face down."
seconds = 6
[[step]]
kind = "holds"
name = "Pulses"
instruction = "Push, then relax."
reps = 2
push_s = 2
relax_s = 2
[[step]]
kind = "action"
name = "Lever"
instruction = "Engage the lever."
seconds = 5
[[step]]
kind = "timed"
name = "Rest"
instruction = "Breathe."
seconds = 4
"""


def write_routine(folder: Path, text: str = ROUTINE) -> Path:
    path = folder / "watchme.toml"
    path.write_text(text)
    return path


class RunProcess:
    """`hiphook run --plain --json ...` as a user starts it, its lines read on a thread.

    stdin stays an open pipe, so a lever step waits until someone confirms it.
    """

    def __init__(self, *args: str) -> None:
        self.proc = start("run", "--plain", "--json", "--cues", "none", *args)
        self.lines: list[dict[str, object]] = []
        self.raw: list[str] = []
        self.err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass

    def events(self, kind: str | None = None) -> list[dict[str, object]]:
        return [x for x in self.lines if kind is None or x.get("event") == kind]

    def has(self, kind: str, **match: object) -> bool:
        return any(all(e.get(k) == v for k, v in match.items()) for e in self.events(kind))

    def wait_published(self, timeout: float = 60) -> None:
        """Until the run's socket accepts (the interpreter's start can take seconds)."""
        assert wait_for(lambda: socket_path().exists() or self.proc.poll() is not None, timeout)
        assert self.proc.poll() is None, self.stderr()

    def send(self, line: str) -> None:
        """A line on the run's stdin, as its plain face reads keys ("" is Enter)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        self._err_reader.join(5)
        return code

    def stderr(self) -> str:
        return "".join(self.err)

    def url(self, timeout: float = 60) -> str:
        """The URL `--serve` prints on a line of its own (on stderr under --json)."""

        def found() -> bool:
            return any(x.startswith("http://") for x in self.err) or self.proc.poll() is not None

        assert wait_for(found, timeout), self.stderr()
        return next(x.strip() for x in self.err if x.startswith("http://"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()

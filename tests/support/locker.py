"""Another program holding the session log's write lock: a real second process.

A backup tool or a second window does this; here it is a Python child with its own
sqlite3 connection inside `BEGIN EXCLUSIVE`, until the test lets go (or `hold_s` ends).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import TracebackType

_CHILD = textwrap.dedent(
    """
    import sqlite3, sys, select
    con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    hold = float(sys.argv[2])
    select.select([sys.stdin], [], [], hold if hold > 0 else None)  # a line, EOF or time
    con.execute("COMMIT")
    con.close()
    print("released", flush=True)
    """
)


class Locker:
    """`with Locker(db) as lock:` ... `lock.release()`; held until then (or `hold_s`)."""

    def __init__(self, db: Path, hold_s: float = 0.0) -> None:
        self.db = db
        self.hold_s = hold_s
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Locker:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(self.db), str(self.hold_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "locked", f"the locker could not lock {self.db}: {line!r}"
        return self

    def release(self) -> None:
        """Let go now and wait until the lock is really gone."""
        if self.proc is None:
            return
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("go\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        self.proc.stdout.read()
        self.proc.wait(timeout=30)
        assert self.proc.returncode == 0, self.proc.returncode
        self.proc = None

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None and self.proc.poll() is None and t is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
        self.release()

"""A program on a real pseudo-terminal: what it shows is what a user sees, and keys are typed.

For programs that behave differently on a terminal (a shell's line editor, a prompt that
waits for Enter); waits are deadlines on what appears, never guessed sleeps.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import time


class Terminal:
    """One child process whose stdin, stdout and stderr are a fresh pseudo-terminal."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the program
            os.execvpe(argv[0], argv, env)
        self.seen = b""
        self.status: int | None = None

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def _read(self, timeout: float) -> bool:
        """Take what is shown within `timeout`; False once the program has gone."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the other side closed: the program ended
            return False
        self.seen += chunk
        return bool(chunk)

    def wait_for(self, marker: str, timeout: float = 60.0) -> str:
        """Everything shown until `marker` appears (a deadline, not a count of sleeps)."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while marker.encode() not in self.seen[start:]:
            left = deadline - time.monotonic()
            assert left > 0, f"{marker!r} never shown; the screen had: {self.seen[start:]!r}"
            assert self._read(left), f"it ended before {marker!r}: {self.seen[start:]!r}"
        return self.seen[start:].decode(errors="replace")

    def wait_exit(self, timeout: float = 60.0) -> int:
        """The exit code, reading what it shows meanwhile (a full pty would block it)."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            left = deadline - time.monotonic()
            assert left > 0, f"still running; the screen had: {self.seen[-400:]!r}"
            self._read(min(left, 0.05))

    def text(self) -> str:
        return self.seen.decode(errors="replace")

    def close(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)

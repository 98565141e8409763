"""A DIY board on a real pseudo-terminal: it prints an HX711 sketch's lines, with header
lines and garbage, and only at its own baud rate (framing garbage at any other).

A pty carries bytes whatever its baud setting, but it shares one termios with its master
end: the board reads the speed the host set on the port and writes the sketch's text only
when it is the sketch's rate.
"""

from __future__ import annotations

import contextlib
import os
import pty
import random
import termios
import threading
import time
from collections.abc import Callable, Iterator

SPEEDS = {getattr(termios, f"B{b}"): b for b in (9600, 19200, 38400, 57600, 115200)}
HEADERS = (b"HX711 scale demo\r\n", b"Readings:\r\n", b"HX711 not found.\r\n")


class Sketch:
    """A DIY board on the master end of a pty, printing `line(i)` at 50 Hz, a header line
    now and then, and a garbage line now and then; at `baud` only (None: any rate)."""

    def __init__(self, line: Callable[[int], bytes], baud: int | None = None) -> None:
        self.master, slave = pty.openpty()
        tty_attrs = termios.tcgetattr(slave)
        tty_attrs[3] &= ~termios.ECHO  # the host's ID command must not come back to it
        termios.tcsetattr(slave, termios.TCSANOW, tty_attrs)
        self.path = os.ttyname(slave)
        self._slave = slave
        os.set_blocking(self.master, False)
        self.line, self.baud = line, baud
        self.rng = random.Random(13)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _speed(self) -> int | None:
        return SPEEDS.get(termios.tcgetattr(self.master)[4])

    def _run(self) -> None:
        i = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            if self.baud is not None and self._speed() != self.baud:
                data = bytes(self.rng.randrange(0x80, 0x100) for _ in range(12)) + b"\r\n"
            elif i % 10 == 3:
                data = HEADERS[i // 10 % len(HEADERS)]
            elif i % 10 == 7:
                data = b"\x00\xfe#@!\r\n"  # line noise: neither a reading nor a header
            else:
                data = self.line(i)
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self.master, data)
            with contextlib.suppress(BlockingIOError, OSError):
                os.read(self.master, 4096)  # the host's commands: a sketch ignores them
            i += 1
            next_at += 0.02
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        os.close(self.master)
        os.close(self._slave)


@contextlib.contextmanager
def sketch(line: Callable[[int], bytes], baud: int | None = None) -> Iterator[Sketch]:
    s = Sketch(line, baud)
    try:
        yield s
    finally:
        s.close()

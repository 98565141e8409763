"""Which files, devices and sockets are opened, and on which thread: an audit hook (PEP 578).

An audit hook cannot be removed, so one hook is installed on first use and records only
while a `watching()` block is open; outside one it returns at once.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath

# The audit events that touch a file, a folder, a device or a socket's name, and which of
# their arguments names it (socket.bind: the socket comes first, then the address).
EVENTS = {
    "open": 0,
    "os.listdir": 0,
    "os.scandir": 0,
    "os.mkdir": 0,
    "sqlite3.connect": 0,
    "socket.bind": 1,
}


@dataclass(frozen=True)
class Opened:
    event: str
    path: str
    on_main_thread: bool  # the event loop's, in a Pilot test


_recording: list[list[Opened]] = []
_hooked = False


def _hook(event: str, args: tuple[object, ...]) -> None:
    if not _recording or event not in EVENTS:
        return
    index = EVENTS[event]
    target = args[index] if len(args) > index else None
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    if not isinstance(target, str | PurePath):  # a descriptor, an abstract address
        return
    main = threading.current_thread() is threading.main_thread()
    _recording[-1].append(Opened(event, str(target), main))


@contextmanager
def watching() -> Iterator[list[Opened]]:
    """Every file, folder, device and socket name opened inside the block, by any thread."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_hook)
        _hooked = True
    seen: list[Opened] = []
    _recording.append(seen)
    try:
        yield seen
    finally:
        _recording.remove(seen)

"""Deliver a reminder: a desktop notification where there is one, else bell + a line.

Commands are argument lists run without a shell, so no title or text can ever be read
as shell syntax. On macOS the text reaches AppleScript as `argv` of a run handler rather
than spliced into the script, so quotes and backslashes in it need no escaping at all
(`applescript_string` is kept for callers that must build a literal). A missing or
failing notifier falls back to the terminal and never raises: a reminder that crashes
the reminder service reminds nobody.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import TextIO

log = logging.getLogger(__name__)

APP_NAME = "hiphook"
TITLE = "hiphook: time for your hips"
# The text names the routine and its length when it fires: app/remind/text.py.

Deliver = Callable[[str, str], None]
"""How a reminder reaches the runner: deliver(title, body). The TUI passes its own."""

Which = Callable[[str], str | None]
Runner = Callable[..., object]

_OSASCRIPT_LINES = (
    "on run argv",
    "display notification (item 2 of argv) with title (item 1 of argv)",
    "end run",
)


def applescript_string(text: str) -> str:
    """A double-quoted AppleScript literal: backslash and quote escaped, newlines as spaces."""
    flat = " ".join(text.splitlines())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def notify_command(
    title: str, body: str, *, platform: str | None = None, which: Which = shutil.which
) -> list[str] | None:
    """The notifier's argv for this platform, or None when there is none to use."""
    plat = sys.platform if platform is None else platform
    if plat.startswith("linux") or "bsd" in plat:
        exe = which("notify-send")
        if exe:
            # "--" ends options, so a text starting with "-" is still the text.
            return [exe, f"--app-name={APP_NAME}", "--urgency=normal", "--", title, body]
    elif plat == "darwin":
        exe = which("osascript")
        if exe:
            argv = [exe]
            for line in _OSASCRIPT_LINES:
                argv += ["-e", line]
            return [*argv, title, body]
    return None


def terminal_deliver(title: str, body: str, stream: TextIO | None = None) -> None:
    """The fallback: a bell and one line on the terminal (or the service's log)."""
    out = sys.stdout if stream is None else stream
    try:
        out.write(f"\a{title}: {body}\n")
        out.flush()
    except (OSError, ValueError):  # closed or broken stdout: nothing left to tell
        pass


def desktop_deliver(
    title: str,
    body: str,
    *,
    platform: str | None = None,
    which: Which = shutil.which,
    run: Runner = subprocess.run,
    stream: TextIO | None = None,
    timeout_s: float = 10.0,
) -> bool:
    """Show a desktop notification, falling back to the terminal; True if the desktop took it.

    `run` is subprocess.run by default; tests pass a recorder. Never raises.
    """
    argv = notify_command(title, body, platform=platform, which=which)
    if argv is not None:
        try:
            result = run(
                argv,
                shell=False,
                check=False,
                timeout=timeout_s,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
            )
            code = getattr(result, "returncode", 0)
            if code == 0:
                return True
            err = (getattr(result, "stderr", "") or "").strip()
            log.warning("%s exited %s: %s; using the terminal", argv[0], code, err[:200])
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("%s failed (%s); using the terminal", argv[0], exc)
    terminal_deliver(title, body, stream)
    return False


def default_deliver(title: str, body: str) -> None:
    """The Deliver used by `hiphook remind run` when nothing else is given."""
    desktop_deliver(title, body)


def describe_notifier(platform: str | None = None, which: Which = shutil.which) -> str:
    """Which way a reminder will reach the runner, for `remind status`."""
    argv = notify_command("t", "b", platform=platform, which=which)
    if argv is None:
        return "terminal bell and a line of text (no desktop notifier found)"
    return f"desktop notification ({argv[0]})"

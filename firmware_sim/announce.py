"""A running simulator says where it is, so `hiphook sensor scan` and `--sensor auto`
find it as they would a plugged-in Hip Hook.

One JSON file per simulator in the runtime folder, written when it starts serving and
removed when it stops: `$HIPHOOK_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/hiphook`, else
`hiphook-UID` in the temporary folder; then `sims/PID-SERIAL.json` holding `port`,
`tcp` (or null), `serial` and `pid`. The host reads it in app/sensor/discovery.py (the
simulator imports nothing from the app but the wire codec, so the rule is written twice
and a test holds the two together).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


def runtime_dir() -> Path:
    env = os.environ.get("HIPHOOK_RUNTIME_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "hiphook"
    return Path(tempfile.gettempdir()) / f"hiphook-{os.getuid()}"


def announce(port: str, tcp_url: str | None, serial: str) -> Path | None:
    """Write this simulator's file (atomically); None when the folder cannot be written
    (the simulator still serves, it just cannot be found by `auto`)."""
    folder = runtime_dir() / "sims"
    path = folder / f"{os.getpid()}-{serial}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        body = {"port": port, "tcp": tcp_url, "serial": serial, "pid": os.getpid()}
        tmp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def withdraw(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()

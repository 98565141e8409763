"""Where a run's socket lives: one private folder per user, one published run at a time."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SOCKET_NAME = "run.sock"
LOCK_NAME = "run.lock"
# sun_path is 108 bytes on Linux, with the terminating NUL.
MAX_SOCKET_PATH = 107


def runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR/hiphook (a per-user tmpfs), else a private folder in the temp dir."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isdir(base):
        return Path(base) / "hiphook"
    return Path(tempfile.gettempdir()) / f"hiphook-{os.getuid()}"


def socket_path() -> Path:
    return runtime_dir() / SOCKET_NAME


def ensure_private_dir(path: Path) -> None:
    """Create the folder 0700, or refuse one that someone else owns or can write.

    Raises OSError (with a message) for a folder that is not safe to put the socket in.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if not path.is_dir() or path.is_symlink():
        raise OSError(f"{path} is not a folder")
    if st.st_uid != os.getuid():
        raise OSError(f"{path} belongs to another user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)

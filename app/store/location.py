"""Where the database lives, and creating it privately.

Order: an explicit argument, then the HIPHOOK_DB environment variable, then
`platformdirs.user_data_dir("hiphook")/hiphook.db`. A plain path or any SQLAlchemy
URL is accepted. This module imports neither SQLAlchemy nor sqlmodel, so the TUI's
first screen can find the file cheaply.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from app.store.errors import EXIT_CANTCREAT, EXIT_NOPERM, StoreError

ENV_VAR = "HIPHOOK_DB"
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


@dataclass(frozen=True)
class Location:
    """A resolved database: the SQLAlchemy URL, and the file when it is SQLite on disk."""

    url: str
    path: Path | None  # None for a server database or an in-memory SQLite

    @property
    def is_sqlite(self) -> bool:
        return self.url.split(":", 1)[0].split("+", 1)[0] == "sqlite"


def default_path() -> Path:
    # lazy: platformdirs costs every command ~6 ms; only the default path needs it
    import platformdirs

    return Path(platformdirs.user_data_dir("hiphook", appauthor=False)) / "hiphook.db"


def resolve(target: str | os.PathLike[str] | None = None) -> Location:
    """Turn an argument (or the environment, or the default) into a Location."""
    raw: str | os.PathLike[str] | None = target
    if raw is None or str(raw) == "":
        raw = os.environ.get(ENV_VAR) or None
    if raw is None:
        path = default_path()
        return Location(f"sqlite:///{path}", path)
    text = os.fspath(raw)
    if _URL_RE.match(text) or text.startswith("sqlite:"):
        scheme = text.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme != "sqlite":
            return Location(text, None)
        rest = text.split(":", 1)[1]
        if not rest.startswith("///"):
            return Location(text, None)  # "sqlite://" is an in-memory database
        file_part = unquote(rest[3:].split("?", 1)[0])
        if file_part in ("", ":memory:") or file_part.startswith("file:"):
            return Location(text, None)
        return Location(text, Path(file_part).expanduser().absolute())
    path = Path(text).expanduser().absolute()
    return Location(f"sqlite:///{path}", path)


def ensure_private_file(path: Path) -> bool:
    """Create the database file 0600 (and missing folders 0700) before SQLite does.

    SQLite would create the file with the umask's permissions (often world-readable);
    a log of someone's pain scores is nobody else's business. Returns True if created.
    """
    try:
        if path.exists():  # raises PermissionError when a parent is not searchable
            return False
        missing: list[Path] = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
    except FileExistsError:
        return False
    except PermissionError as exc:
        raise StoreError(
            f"cannot create the database {path}: permission denied ({exc.strerror}); "
            f"choose another file with --db or {ENV_VAR}",
            EXIT_NOPERM,
        ) from None
    except OSError as exc:
        raise StoreError(
            f"cannot create the database {path}: {exc.strerror or exc}", EXIT_CANTCREAT
        ) from None
    return True

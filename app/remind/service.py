"""`hiphook remind install` / `uninstall`: run the reminder at login as a user service.

Linux: a systemd user unit ($XDG_CONFIG_HOME/systemd/user/hiphook-remind.service,
WantedBy=default.target). macOS: a launchd agent (~/Library/LaunchAgents/<label>.plist,
RunAtLoad, KeepAlive). Both start `<absolute hiphook> remind run`: services do not get
the login shell's PATH, so a bare "hiphook" would not be found. Nothing here starts or
stops a service; the caller prints the one command that does, so the runner sees it.
The home directory, environment and platform are arguments so tests write to tmp_path.
"""

from __future__ import annotations

import errno
import os
import plistlib
import shlex
import shutil
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.store.location import resolve

UNIT_NAME = "hiphook-remind.service"
LAUNCHD_LABEL = "org.hiphook.remind"


class ServiceError(Exception):
    """Install/uninstall cannot be done here; the message says why and what instead."""

    exit_code = 1


class UnsafeTextError(ServiceError):
    """A path or word that no service file can carry safely: bad input (exit 2)."""

    exit_code = 2


_CONTROL_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL"}


def _shown(text: str) -> str:
    """The text as the user typed it, with control characters and raw bytes escaped."""
    if not _has_surrogates(text):
        return repr(text)[1:-1]
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        raw = text.encode("utf-8", "backslashreplace")
    return repr(raw)[2:-1]


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def check_service_text(text: str, what: str = "the command") -> str:
    """Refuse what a unit or plist file cannot hold safely; return the text unchanged.

    A newline in --db once wrote an extra `ExecStartPre=` line into the unit: control
    characters (and the line and paragraph separators) are refused, not escaped, since
    systemd and launchd each unescape differently and a path with them is a mistake.
    Bytes that are not UTF-8 (surrogate escapes in a str) cannot go in either file.
    """
    if _has_surrogates(text):
        raise UnsafeTextError(
            f"{what} '{_shown(text)}' is not valid UTF-8, and service files are UTF-8 "
            "text; rename it (or choose another log with --db) and install again"
        )
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
    if bad is not None:
        name = _CONTROL_NAMES.get(bad) or unicodedata.name(bad, "a control character")
        raise UnsafeTextError(
            f"{what} '{_shown(text)}' holds {name} (U+{ord(bad):04X}), which a service "
            "file cannot carry safely; rename it (or choose another log with --db) and "
            "install again"
        )
    return text


@dataclass(frozen=True)
class ServiceResult:
    """What install/uninstall did, for the CLI to print."""

    path: Path
    content: str  # what was written (empty for uninstall)
    changed: bool  # False when nothing needed doing
    next_steps: tuple[str, ...]


def program_args(db: str | None = None) -> list[str]:
    """The absolute command that runs `hiphook remind run` with this interpreter.

    The `hiphook` script beside this Python (same virtualenv) first, then one on PATH,
    else `python -m app`. sys.executable is not resolved: a venv's python is a symlink
    and resolving it would lose the venv's packages.
    """
    here = Path(sys.executable).parent / "hiphook"
    found = shutil.which("hiphook")
    if here.is_file() and os.access(here, os.X_OK):
        base = [str(here.absolute())]
    elif found:
        base = [str(Path(found).absolute())]
    else:
        base = [str(Path(sys.executable).absolute()), "-m", "app"]
    args = [*base, "remind", "run"]
    if db:
        args += ["--db", check_service_text(db, "the log path")]
    return args


def service_db_arg(db: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The --db the service should get: the given one or HIPHOOK_DB, made absolute.

    A service does not inherit the shell's HIPHOOK_DB or working directory.
    """

    e = os.environ if env is None else env
    raw = db or e.get("HIPHOOK_DB") or None
    if raw is None:
        return None
    loc = resolve(raw)
    return str(loc.path) if loc.path is not None else loc.url


# --------------------------------------------------------------------------- systemd


def systemd_quote(arg: str) -> str:
    """One ExecStart word: % and $ doubled (specifiers, variables), quoted if needed.

    Inside double quotes systemd undoes C escapes, so backslash and quote are escaped;
    control characters are refused first (check_service_text), never passed through.
    """
    check_service_text(arg)
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not any(c.isspace() or c in "\"'\\;" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit(argv: Sequence[str]) -> str:
    """The unit file text for a command line (argv[0] must be absolute)."""
    if not argv or not Path(argv[0]).is_absolute():
        raise ServiceError(f"the reminder command must be an absolute path, not {argv[:1]}")
    exec_start = " ".join(systemd_quote(a) for a in argv)
    return (
        "# Written by `hiphook remind install`; removed by `hiphook remind uninstall`.\n"
        "[Unit]\n"
        "Description=hiphook daily reminder for the hip-flexor routine\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={exec_start}\n"
        "Environment=PYTHONUNBUFFERED=1\n"
        "Restart=on-failure\n"
        "RestartSec=60\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def systemd_unit_path(home: Path, env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/systemd/user/hiphook-remind.service (~/.config when unset)."""
    e = os.environ if env is None else env
    xdg = e.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "systemd" / "user" / UNIT_NAME


# --------------------------------------------------------------------------- launchd


def launchd_plist(argv: Sequence[str], home: Path) -> bytes:
    """The agent plist: runs at login, restarted if it stops, logs in ~/Library/Logs."""
    if not argv or not Path(argv[0]).is_absolute():
        raise ServiceError(f"the reminder command must be an absolute path, not {argv[:1]}")
    logfile = str(home / "Library" / "Logs" / "hiphook-remind.log")
    for word in argv:
        check_service_text(word)
    check_service_text(logfile, "the home folder")
    # plistlib escapes &, < and > as XML requires; what XML cannot hold is refused above.
    return plistlib.dumps(
        {
            "Label": LAUNCHD_LABEL,
            "ProgramArguments": list(argv),
            "RunAtLoad": True,
            "KeepAlive": True,
            "ThrottleInterval": 60,  # a broken setup retries once a minute, not in a loop
            "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
            "StandardOutPath": logfile,
            "StandardErrorPath": logfile,
        }
    )


def launchd_plist_path(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"


# --------------------------------------------------------------------------- install


def _kind(platform: str | None) -> str:
    plat = sys.platform if platform is None else platform
    if plat.startswith("linux"):
        return "systemd"
    if plat == "darwin":
        return "launchd"
    raise ServiceError(
        f"no user service to install on this platform ({plat}); start "
        "`hiphook remind run` at login with your system's own tools"
    )


def _write(path: Path, data: bytes) -> bool:
    """Write atomically; False when the file already holds exactly this."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # a full disk shows here, not after the rename
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)  # never leave half a unit file behind
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        why = (
            "the disk is full; free some space and install again"
            if full
            else (exc.strerror or str(exc))
        )
        raise ServiceError(f"cannot write {path}: {why}") from None
    return True


def install(
    home: Path | None = None,
    *,
    argv: Sequence[str] | None = None,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ServiceResult:
    """Write the user service for this platform; ServiceError if there is none."""
    kind = _kind(platform)
    h = Path.home() if home is None else home
    command = list(argv) if argv is not None else program_args()
    if kind == "systemd":
        path = systemd_unit_path(h, env)
        text = systemd_unit(command)
        changed = _write(path, text.encode("utf-8"))
        steps: tuple[str, ...] = (
            "systemctl --user daemon-reload",
            "systemctl --user enable --now hiphook-remind",
        )
        return ServiceResult(path, text, changed, steps)
    data = launchd_plist(command, h)
    path = launchd_plist_path(h)
    changed = _write(path, data)
    steps = (
        f"launchctl bootout gui/$(id -u)/{LAUNCHD_LABEL} 2>/dev/null; "
        f"launchctl bootstrap gui/$(id -u) {shlex.quote(str(path))}",
    )
    return ServiceResult(path, data.decode("utf-8"), changed, steps)


def uninstall(
    home: Path | None = None,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ServiceResult:
    """Remove the service file (and systemd's enable link); says how to stop a running one."""
    kind = _kind(platform)
    h = Path.home() if home is None else home
    if kind == "systemd":
        path = systemd_unit_path(h, env)
        wants = path.parent / "default.target.wants" / UNIT_NAME
        if wants.is_symlink():
            try:
                wants.unlink()
            except OSError as exc:
                raise ServiceError(f"cannot remove {wants}: {exc.strerror or exc}") from None
        steps: tuple[str, ...] = (
            "systemctl --user stop hiphook-remind",
            "systemctl --user daemon-reload",
        )
    else:
        path = launchd_plist_path(h)
        steps = (f"launchctl bootout gui/$(id -u)/{LAUNCHD_LABEL}",)
    try:
        path.unlink()
        changed = True
    except FileNotFoundError:
        changed = False
    except OSError as exc:
        raise ServiceError(f"cannot remove {path}: {exc.strerror or exc}") from None
    return ServiceResult(path, "", changed, steps if changed else ())


def installed_path(
    home: Path | None = None,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Path | None:
    """The service file if one is installed here, for `remind status`."""
    try:
        kind = _kind(platform)
    except ServiceError:
        return None
    h = Path.home() if home is None else home
    path = systemd_unit_path(h, env) if kind == "systemd" else launchd_plist_path(h)
    return path if path.exists() else None

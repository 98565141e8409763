"""`hiphook history`, `hiphook export` and `hiphook import`.

Registered by app.cli on every invocation, so this module imports nothing heavy: the
store (SQLAlchemy, alembic) is imported inside the handlers. Every failure prints one
line to stderr and returns an exit code (see app.store.errors); none shows a traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.report.sessiontext import press_plot, session_header, step_lines, thin
from app.store import stats
from app.store.errors import (
    EXIT_CANTCREAT,
    EXIT_DATAERR,
    EXIT_IOERR,
    EXIT_NOINPUT,
    StoreError,
)
from app.store.location import resolve

TEXT_LIMIT = 20


def _err(msg: str) -> None:
    print(f"hiphook: {msg}", file=sys.stderr)


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="PATH|URL",
        default=None,
        help="session log file or SQLAlchemy URL (default: $HIPHOOK_DB, then the user data folder)",
    )


def register(subparsers: Any) -> None:
    """Add history, export and import to the `hiphook` command's subparsers."""
    h = subparsers.add_parser("history", help="your sessions, streak and adherence")
    fmt = h.add_mutually_exclusive_group()
    fmt.add_argument(
        "--json", action="store_true", help='print {"sessions": [...]} with each session\'s steps'
    )
    fmt.add_argument("--csv", action="store_true", help="print one CSV row per session")
    h.add_argument(
        "--limit",
        type=parse_limit,
        default=None,
        metavar="N",
        help=f"only the N most recent sessions (text shows {TEXT_LIMIT} by default)",
    )
    _db_option(h)
    h.set_defaults(func=cmd_history)
    hsub = h.add_subparsers(dest="history_command", metavar="ACTION")
    n = hsub.add_parser("note", help="add a short note to a session (the ID history shows)")
    n.add_argument("id", type=parse_session_id, metavar="ID")
    n.add_argument(
        "text", metavar="TEXT", help=f"the note (up to {NOTE_LIMIT} characters; '' removes it)"
    )
    # SUPPRESS: `history --db X note ...` keeps X (a default here would overwrite it).
    n.add_argument(
        "--db",
        metavar="PATH|URL",
        default=argparse.SUPPRESS,
        help="session log file or SQLAlchemy URL (as for history)",
    )
    n.set_defaults(func=cmd_note)
    sh = hsub.add_parser(
        "show", help="one session: every step, and each press's force drawn in the terminal"
    )
    sh.add_argument("id", type=parse_session_id, metavar="ID")
    sh.add_argument(
        "--db",
        metavar="PATH|URL",
        default=argparse.SUPPRESS,
        help="session log file or SQLAlchemy URL (as for history)",
    )
    sh.set_defaults(func=cmd_show)

    e = subparsers.add_parser("export", help="export the whole log (JSON re-imports losslessly)")
    e.add_argument(
        "--format",
        choices=("json", "csv"),
        default="json",
        help="json: everything, force traces included; csv: one row per step",
    )
    e.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        default=None,
        type=parse_output,
        help="write to FILE (created readable by you only) instead of stdout",
    )
    _db_option(e)
    e.set_defaults(func=cmd_export)

    i = subparsers.add_parser("import", help="add sessions from a JSON export (no duplicates)")
    i.add_argument("file", metavar="FILE", help="a file written by `hiphook export` ('-': stdin)")
    _db_option(i)
    i.set_defaults(func=cmd_import)


NOTE_LIMIT = 500


def parse_session_id(text: str) -> int:
    """argparse type for a session ID: the number shown as #N by `hiphook history`."""
    digits = text.lstrip("#")
    if not digits.isdigit() or not 1 <= int(digits) < 2**63:
        raise argparse.ArgumentTypeError(
            f"not a session ID: {text[:40]!r}; `hiphook history` shows each session's #ID"
        )
    return int(digits)


MAX_LIMIT = 1_000_000  # a session a day for 2,700 years; SQLite's integers end at 2**63


def parse_limit(text: str) -> int:
    """argparse type for --limit: a whole number from 1 to MAX_LIMIT (usage error else)."""
    try:
        n = int(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(f"not a whole number: {shown!r}") from None
    if not 1 <= n <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_LIMIT:,} (the most recent N sessions)"
        )
    return n


def parse_output(text: str) -> str:
    """argparse type for -o: refuse, before any work, a name that cannot be a file."""
    if text == "-":
        return text
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the file name is empty; give a file name, or '-' for standard output"
        )
    path = Path(text).expanduser()
    if path.is_dir() or text.endswith(os.sep):
        raise argparse.ArgumentTypeError(
            f"{text} is a folder; give the name of a file to write, e.g. {path / 'hiphook.json'}"
        )
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(
            f"the folder {folder} does not exist; create it first or write somewhere else"
        )
    return text


def _guard(func: Any) -> Any:
    """Run a handler so that store and pipe problems become a message and an exit code."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except StoreError as err:
            _err(str(err))
            return err.exit_code
        except BrokenPipeError:
            # `hiphook history | head`: the reader left; that is not an error of ours.
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
            return 0

    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


def _open(args: argparse.Namespace) -> Any:
    # lazy: SQLAlchemy and the models take ~1 s; they wait for an open store
    from app.store.store import open_store

    return open_store(args.db)


def _pct(x: float) -> str:
    return f"{round(x * 100):d}%"


def _no_log_yet(args: argparse.Namespace) -> bool:
    """Reading commands never create a log: a missing file just means no sessions yet."""
    where = resolve(args.db)
    if where.path is None and not where.is_sqlite:
        from app.store.db import (  # lazy: SQLAlchemy is loaded only for a server log
            server_is_empty,
            shown_url,
        )

        shown = shown_url(where.url)
        if not server_is_empty(where.url, f"the database {shown}"):
            return False
        return _print_no_sessions(args, f"the server database {shown} is empty")
    if where.path is None or where.path.exists():
        return False
    return _print_no_sessions(args, f"no log at {where.path}")


def _print_no_sessions(args: argparse.Namespace, why: str) -> bool:
    """What history says of a log that holds nothing yet, the same for a file or a server."""
    if getattr(args, "json", False):
        print(json.dumps({"sessions": []}))
    elif getattr(args, "csv", False):
        # lazy: the export formats bring the models (SQLAlchemy, ~1 s); only this command needs them
        from app.store.transfer import sessions_csv

        sys.stdout.write(sessions_csv([]))
    else:
        print(f"No sessions yet ({why}).")
    return True


@_guard
def cmd_history(args: argparse.Namespace) -> int:
    """Print sessions (text, JSON or CSV); notes interrupted runs once, on stderr."""
    # lazy: the export formats bring the models (SQLAlchemy, ~1 s); only this command needs them
    from app.store.transfer import sessions_csv

    if _no_log_yet(args):
        return 0
    with _open(args) as store:
        recovered = store.recover_interrupted()
        machine = args.json or args.csv
        for r in recovered:
            msg = (
                f"note: the {r['routine']} run of {r['local_day']} was interrupted; "
                f"{r['steps_recorded']} finished step(s) were saved and it is logged "
                "as interrupted."
            )
            print(msg, file=sys.stderr if machine else sys.stdout)
        if args.json:
            # lazy: every command builds this parser; the figures (~18 ms) wait for 'history --json'
            from app.report.figures import summary

            sessions = store.sessions(limit=args.limit)
            total = len(sessions) if args.limit is None else len(store.sessions(steps=False))
            head = summary(store.done_days(), total, stats.today_in(stats.local_zone_name()))
            print(json.dumps({"summary": head, "sessions": sessions}, indent=2, ensure_ascii=False))
            return 0
        if args.csv:
            sys.stdout.write(sessions_csv(store.sessions(limit=args.limit)))
            return 0
        data = store.history(recent=args.limit or TEXT_LIMIT)
    home = data.home
    print(home.streak.text())
    print(f"  ({home.streak.rule})")
    span = "to yesterday, today still open" if not home.done_today else "to today"
    print(
        f"Done today: {'yes' if home.done_today else 'not yet'}.  Last 7 days ({span}): "
        f"{home.last7_marks}  (■ done, · missed; oldest first)"
    )
    print(
        f"Adherence: {_pct(home.adherence7)} of those 7 days, "
        f"{_pct(home.adherence30)} of the last 30."
    )
    if not data.sessions:
        print("No sessions yet. Start one with `hiphook run`.")
        return 0
    shown = len(data.sessions)
    print(f"\nLast {shown} of {data.total_sessions} session(s), newest first:")
    for s in data.sessions:
        pain = ""
        if s["pain_before"] is not None or s["pain_after"] is not None:
            pb = "–" if s["pain_before"] is None else s["pain_before"]
            pa = "–" if s["pain_after"] is None else s["pain_after"]
            pain = f"  pain {pb}→{pa}"
        mins = f"  {s['elapsed_s'] / 60:.1f} min" if s["elapsed_s"] is not None else ""
        side = f" ({s['side']} tight)" if s["side"] else ""
        status = s["status"].replace("_", " ")
        note = f"  “{s['notes']}”" if s.get("notes") else ""
        print(f"  #{s['id']:<4} {s['local_day']}  {s['routine']}{side}  {status}{mins}{pain}{note}")
    return 0


@_guard
def cmd_note(args: argparse.Namespace) -> int:
    """Set (or with '' remove) a session's note; the log must exist and hold that ID."""
    text = " ".join(args.text.split())
    if len(text) > NOTE_LIMIT:
        raise StoreError(
            f"the note is {len(text)} characters; keep it to {NOTE_LIMIT} (nothing was changed)",
            EXIT_DATAERR,
        )

    where = resolve(args.db)
    if where.path is not None and not where.path.exists():
        raise StoreError(f"no log at {where.path} yet, so no session #{args.id}", EXIT_NOINPUT)
    with _open(args) as store:
        found = store.sessions(ids=[args.id], steps=False)
        if not found:
            raise StoreError(
                f"no session #{args.id} in the log; `hiphook history` lists them with their #ID",
                EXIT_NOINPUT,
            )
        store.update_session(args.id, notes=text)
    day = found[0]["local_day"]
    print(f"Note {'removed from' if not text else 'saved on'} session #{args.id} ({day}).")
    return 0


@_guard
def cmd_show(args: argparse.Namespace) -> int:
    """Print one session's steps, then each press's force curve as a terminal plot."""
    where = resolve(args.db)
    if where.path is not None and not where.path.exists():
        raise StoreError(f"no log at {where.path} yet, so no session #{args.id}", EXIT_NOINPUT)
    with _open(args) as store:
        found = store.sessions(ids=[args.id])
        if not found:
            raise StoreError(
                f"no session #{args.id} in the log; `hiphook history` lists them with their #ID",
                EXIT_NOINPUT,
            )
        presses = store.session_traces(args.id)
    session = found[0]
    print(session_header(session))
    for line in step_lines(session):
        print(f"  {line}")
    if session.get("notes"):
        print(f"  Note: {session['notes']}")
    if session.get("sensor_notice"):
        print(f"  Sensor: {session['sensor_notice']}")
    if not presses:
        print("No force traces in this session (no sensor was used).")
        return 0
    width = max(40, min(120, shutil.get_terminal_size((100, 24)).columns))
    for info, trace in presses:
        ts = trace.times()
        xs, ys = thin([t - ts[0] for t in ts], list(trace.values), n=2 * width)
        print()
        print(press_plot(info, xs, ys, width))
    return 0


def _cannot_write(target: Path, err: OSError) -> StoreError:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(
            f"cannot write {target}: the disk is full; nothing was written. "
            "Free some space, or export somewhere else with -o",
            EXIT_IOERR,
        )
    return StoreError(f"cannot write {target}: {err.strerror or err}", EXIT_CANTCREAT)


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable by the owner only (an export holds health data)."""
    target = path.expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as err:
        raise _cannot_write(target, err) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise _cannot_write(target, err) from None


@_guard
def cmd_export(args: argparse.Namespace) -> int:
    """Export everything: JSON (lossless) or CSV (one row per step)."""
    # lazy: the export formats bring the models (SQLAlchemy, ~1 s); only this command needs them
    from app.store.transfer import steps_csv

    with _open(args) as store:
        if args.format == "json":
            data = store.export_data()
            text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
            count = len(data["sessions"])
        else:
            sessions = store.sessions(traces="summary")
            text = steps_csv(sessions)
            count = len(sessions)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        _write_private(Path(args.output), text)
        print(f"Exported {count} session(s) to {args.output}.", file=sys.stderr)
    return 0


@_guard
def cmd_import(args: argparse.Namespace) -> int:
    """Import a JSON export; sessions already in the log (same uuid) are skipped."""
    # lazy: the export formats bring the models (SQLAlchemy, ~1 s); only this command needs them
    from app.store.transfer import validate_export

    source = "stdin" if args.file == "-" else args.file
    try:
        if args.file == "-":
            raw = sys.stdin.read()
        else:
            raw = Path(args.file).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoreError(f"{source}: no such file", EXIT_NOINPUT) from None
    except IsADirectoryError:
        raise StoreError(f"{source}: is a folder, not an export file", EXIT_NOINPUT) from None
    except (OSError, UnicodeDecodeError) as err:
        raise StoreError(f"{source}: cannot be read: {err}", EXIT_NOINPUT) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        hint = (
            " (CSV exports are for spreadsheets; import a JSON export)"
            if raw[:5] == "uuid,"
            else ""
        )
        raise StoreError(
            f"{source}: not valid JSON at line {err.lineno}, column {err.colno}{hint}", EXIT_DATAERR
        ) from None
    except RecursionError:
        raise StoreError(
            f"{source}: nested too deeply to read; it is not a hiphook export "
            "(nothing was imported)",
            EXIT_DATAERR,
        ) from None
    except ValueError:  # an integer past Python's digit limit
        raise StoreError(
            f"{source}: holds a number of more than "
            f"{sys.get_int_max_str_digits()} digits; it is not a hiphook export "
            "(nothing was imported)",
            EXIT_DATAERR,
        ) from None
    # Checked before the log is opened, so a bad file does not even create the log.
    validate_export(data, source)
    with _open(args) as store:
        result = store.import_data(data, source)
    print(f"Imported {result.added} session(s); {result.skipped} were already in the log.")
    if result.merged:
        print(f"{result.merged} run completed from the recovery file (its start was logged).")
    # lazy: the export formats bring the models (SQLAlchemy, ~1 s); only this command needs them
    from app.store.transfer import RECOVERY_ROLE

    if data.get("format_role") == RECOVERY_ROLE and args.file != "-":
        try:  # taken back: the next start must not offer it again
            Path(args.file).expanduser().unlink()
        except OSError as err:
            print(
                f"hiphook: imported, but {args.file} could not be removed: {err}", file=sys.stderr
            )
    return 0

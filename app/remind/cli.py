"""`hiphook remind ...`: set, off, status, run, install, uninstall.

Each handler takes the parsed args and returns an exit code. Input is checked before
the database is opened, so a bad time changes nothing; problems are one line on stderr
(exit 2 for bad input, the store's sysexits code for database trouble), never a
traceback. Heavy imports (SQLAlchemy, apscheduler) wait until a handler needs them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.store.errors import StoreError

if TYPE_CHECKING:
    from app.remind.schedule import ReminderSettings

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_DATAERR = 65


def _err(msg: str) -> None:
    print(f"hiphook: {msg}", file=sys.stderr)


def _store_errors() -> tuple[type[BaseException], ...]:
    return (StoreError,)


def _zone_name(zone: Any) -> str:
    return str(getattr(zone, "key", zone))


# --------------------------------------------------------------------------- handlers


def cmd_set(args: argparse.Namespace) -> int:
    # lazy: zoneinfo and the schedule, for 'remind' only (every command builds this parser)
    from app.remind.schedule import (
        ReminderSettings,
        ScheduleError,
        format_fire,
        local_zone,
        next_fire,
    )

    try:
        settings = ReminderSettings.parse(args.time, args.days)
    except ScheduleError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    # lazy: every command builds this parser; the reminder's modules (~20 ms) wait for 'remind'
    from app.remind.service import installed_path
    from app.remind.store import open_settings_store

    try:
        store = open_settings_store(args.db)
        try:
            store.save(settings)
        finally:
            store.close()
    except _store_errors() as exc:
        _err(str(exc))
        return int(getattr(exc, "exit_code", EXIT_FAILED))
    zone = local_zone()
    now = datetime.now(UTC)
    when = next_fire(settings, zone, now)
    print(f"Reminder set: {settings.describe()} ({_zone_name(zone)}).")
    if when is not None:
        print(f"Next: {format_fire(when, now)}.")
    if installed_path() is None:
        print(
            "It sounds while `hiphook remind run` is running; "
            "`hiphook remind install` starts that at login."
        )
    return 0


def cmd_off(args: argparse.Namespace) -> int:
    # lazy: every command builds this parser; the reminder's modules (~20 ms) wait for 'remind'
    from app.remind.schedule import ReminderSettings, ScheduleError
    from app.remind.store import database_exists, open_settings_store

    if not database_exists(args.db):
        print("Reminder is already off.")
        return 0
    try:
        store = open_settings_store(args.db)
        try:
            current = store.load()
            if current is None or not current.enabled:
                print("Reminder is already off.")
                return 0
            store.save(ReminderSettings(current.hour, current.minute, current.days, False))
        finally:
            store.close()
    except ScheduleError as exc:  # a damaged row: turning it off is still possible
        _err(f"{exc}")
        return EXIT_DATAERR
    except _store_errors() as exc:
        _err(str(exc))
        return int(getattr(exc, "exit_code", EXIT_FAILED))
    print(f"Reminder off (it was {current.describe()}).")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    # lazy: every command builds this parser; the reminder's modules (~20 ms) wait for 'remind'
    from app.remind.notify import describe_notifier
    from app.remind.schedule import ScheduleError, format_fire, local_zone, next_fire
    from app.remind.service import installed_path
    from app.remind.store import database_exists, done_today_for, open_settings_store

    settings: ReminderSettings | None = None
    if database_exists(args.db):
        try:
            store = open_settings_store(args.db)
            try:
                settings = store.load()
            finally:
                store.close()
        except ScheduleError as exc:
            _err(str(exc))
            return EXIT_DATAERR
        except _store_errors() as exc:
            _err(str(exc))
            return int(getattr(exc, "exit_code", EXIT_FAILED))
    zone = local_zone()
    now = datetime.now(UTC)
    when = next_fire(settings, zone, now)
    if settings is None or when is None:
        print("Reminder: off")
    else:
        print(f"Reminder: {settings.describe()} ({_zone_name(zone)})")
        quiet = ""
        if when.date() == now.astimezone(zone).date() and done_today_for(args.db)():
            quiet = " (today's routine is done, so it will stay quiet)"
        print(f"Next: {format_fire(when, now)}{quiet}")
    print(f"Delivery: {describe_notifier()}")
    path = installed_path()
    print(
        f"Service: {path}"
        if path
        else "Service: not installed (`hiphook remind install` runs the reminder at login)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    # lazy: every command builds this parser; the reminder's modules (~20 ms) wait for 'remind'
    import logging

    from app.remind.daemon import run_forever
    from app.remind.inapp import coach_is_open
    from app.remind.store import done_today_for, open_settings_store

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        store = open_settings_store(args.db)
    except _store_errors() as exc:
        _err(str(exc))
        return int(getattr(exc, "exit_code", EXIT_FAILED))
    try:
        return run_forever(store, done_today_for(args.db), quiet=coach_is_open)
    finally:
        store.close()


def cmd_install(args: argparse.Namespace) -> int:
    # lazy: every command builds this parser; the reminder's modules (~20 ms) wait for 'remind'
    from app.remind.service import ServiceError, install, program_args, service_db_arg

    try:
        result = install(argv=program_args(service_db_arg(args.db)))
    except ServiceError as exc:
        _err(str(exc))
        return exc.exit_code  # 2 for a path no service file can hold, else 1
    if result.changed:
        print(f"Wrote {result.path}:\n")
        print(result.content.rstrip("\n"))
        print()
    else:
        print(f"{result.path} is already up to date.")
    print("To start it now and at every login, run:")
    for step in result.next_steps:
        print(f"  {step}")
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    # lazy: every command builds this parser; the reminder's modules (~20 ms) wait for 'remind'
    from app.remind.service import ServiceError, uninstall

    try:
        result = uninstall()
    except ServiceError as exc:
        _err(str(exc))
        return EXIT_FAILED
    if not result.changed:
        print(f"Nothing to remove: {result.path} is not there.")
        return 0
    print(f"Removed {result.path}.")
    print("To stop a reminder that is still running, run:")
    for step in result.next_steps:
        print(f"  {step}")
    return 0


# --------------------------------------------------------------------------- parser


def register(subparsers: Any) -> None:
    """Add `remind` and its actions to the `hiphook` parser (called by app.cli)."""
    remind = subparsers.add_parser("remind", help="the daily reminder")
    rsub = remind.add_subparsers(dest="remind_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = rsub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", metavar="PATH|URL", help="session log file (or SQLAlchemy URL)")
        p.set_defaults(func=func)
        return p

    s = action("set", "remind me every day (or on some days) at a local time", cmd_set)
    s.add_argument("time", metavar="HH:MM", help="24-hour local time, e.g. 07:30")
    s.add_argument(
        "--days",
        metavar="mon,tue,...",
        help="days to remind: mon,tue,... or daily, weekdays, weekends (default: daily)",
    )
    action("off", "stop reminding (the time is kept)", cmd_off)
    action("status", "the reminder and when it fires next", cmd_status)
    action("run", "run the reminder until stopped (what the login service runs)", cmd_run)
    action("install", "run the reminder at login (systemd user unit or launchd agent)", cmd_install)
    action("uninstall", "remove the login service written by install", cmd_uninstall)

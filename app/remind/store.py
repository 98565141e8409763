"""Reminder settings in the session log's database, and "is today's routine done?".

The scheduler and the CLI see only two small interfaces, so tests can stand in:

- `SettingsStore`: `load() -> ReminderSettings | None` and `save(settings)`;
- `DoneToday`: a `() -> bool` callable.

`open_settings_store(target)` builds the SQL one on app.store's `open_store(target)`
engine; done_today_for(target) reads the log through app.store.reader's `load_home`
(the reader Home uses).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from app.remind.schedule import ReminderSettings, ScheduleError, days_text, parse_days
from app.store.location import resolve
from app.store.reader import load_home

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

DoneToday = Callable[[], bool]
Target = str | os.PathLike[str] | None


class SettingsStore(Protocol):
    """Where reminder settings are kept."""

    def load(self) -> ReminderSettings | None: ...

    def save(self, settings: ReminderSettings) -> None: ...


class MemorySettingsStore:
    """Settings in memory: for tests and for running without a database."""

    def __init__(self, settings: ReminderSettings | None = None) -> None:
        self.settings = settings

    def load(self) -> ReminderSettings | None:
        return self.settings

    def save(self, settings: ReminderSettings) -> None:
        self.settings = settings


class SqlSettingsStore:
    """The `reminder` row through the log's engine; short transactions only."""

    def __init__(self, engine: Engine, where: str = "the database") -> None:
        self.engine = engine
        self.where = where

    def load(self) -> ReminderSettings | None:
        """The stored settings, None if never set; ScheduleError if the row is damaged."""
        # lazy: SQLAlchemy and the models take ~1 s; they wait for an open store
        from sqlalchemy import select

        from app.store.db import translated
        from app.store.models import REMINDER_ID, ReminderRow

        table = ReminderRow.__table__  # type: ignore[attr-defined]
        with translated(self.where), self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == REMINDER_ID)).first()
        if row is None:
            return None
        try:
            return ReminderSettings(
                int(row.hour), int(row.minute), parse_days(str(row.days)), bool(row.enabled)
            )
        except ScheduleError as exc:
            raise ScheduleError(f"the stored reminder is damaged ({exc}); set it again") from None

    def save(self, settings: ReminderSettings) -> None:
        """Insert or update the one row in a single write transaction."""
        # lazy: SQLAlchemy and the models take ~1 s; they wait for an open store
        from sqlalchemy import insert, select, update

        from app.store.db import translated, write_txn
        from app.store.models import REMINDER_ID, ReminderRow

        table = ReminderRow.__table__  # type: ignore[attr-defined]
        values = {
            "hour": settings.hour,
            "minute": settings.minute,
            "days": days_text(settings.days),
            "enabled": settings.enabled,
            "updated_utc": datetime.now(UTC),
        }
        with translated(self.where), write_txn(self.engine) as conn:
            exists = conn.execute(select(table.c.id).where(table.c.id == REMINDER_ID)).first()
            if exists:
                conn.execute(update(table).where(table.c.id == REMINDER_ID).values(**values))
            else:
                conn.execute(insert(table).values(id=REMINDER_ID, **values))

    def close(self) -> None:
        self.engine.dispose()


def open_settings_store(target: Target) -> SqlSettingsStore:
    """The settings store on the log's engine (None: HIPHOOK_DB, then the default file).

    Goes through app.store's `open_store`: the one engine factory, the pre-flight
    checks (never touch a file we cannot use) and migration to head, which creates the
    `reminder` table. Raises StoreError with plain words and an exit code.
    """
    # lazy: SQLAlchemy and the models take ~1 s; they wait for an open store
    from app.store.store import open_store

    store = open_store(None if target is None else os.fspath(target))
    return SqlSettingsStore(store.engine, store.where)


def database_exists(target: Target) -> bool:
    """False only for a SQLite file that is not there yet (so `status` creates nothing)."""
    loc = resolve(target)
    return loc.path is None or (loc.path.exists() and loc.path.stat().st_size > 0)


def done_today_for(target: Target) -> DoneToday:
    """A DoneToday reading the log (read-only, stdlib sqlite3 for files).

    Any trouble counts as "not done": a reminder too many beats a day missed in silence.
    """

    def done_today() -> bool:
        try:
            data = load_home(None if target is None else os.fspath(target))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.warning("could not read the session log (%s); reminding anyway", exc)
            return False
        if data.problem:
            log.warning("session log: %s; reminding anyway", data.problem)
        return bool(data.done_today)

    return done_today

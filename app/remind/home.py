"""The reminder line for the coach's Home screen, without the database layer.

Home paints before SQLAlchemy is imported, so this reads the one `reminder` row through
the log's read-only reader (app.store.reader: stdlib sqlite3), never migrating or
writing. A server URL, a missing file or table, or a damaged row give None ("none set").
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo

from app.remind.schedule import (
    ReminderSettings,
    ScheduleError,
    format_fire,
    local_zone,
    next_fire,
    parse_days,
)
from app.store.reader import query_one

SQL = "SELECT hour, minute, days, enabled FROM reminder WHERE id = 1"


def read_settings(target: str | None) -> ReminderSettings | None:
    """The stored reminder from a SQLite file (None: not set, or not readable cheaply)."""
    try:
        row = query_one(target, SQL)
    except sqlite3.Error:  # no table yet (older log), locked, damaged
        return None
    except Exception:  # noqa: BLE001 - a bad location: Home must always paint
        return None
    if row is None:
        return None
    try:
        return ReminderSettings(int(row[0]), int(row[1]), parse_days(str(row[2])), bool(row[3]))
    except (ScheduleError, TypeError, ValueError):
        return None


def next_reminder_text(
    target: str | None, now: datetime | None = None, zone: tzinfo | None = None
) -> str | None:
    """E.g. "tomorrow 07:30" for HomeData.next_reminder; None when off or unknown."""
    settings = read_settings(target)
    z = local_zone() if zone is None else zone
    when = next_fire(settings, z, now)
    return None if when is None else format_fire(when, now or datetime.now(z), zone_name=False)

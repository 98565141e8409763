"""The reminder line for the coach's Home screen, without the database layer.

Home paints before SQLAlchemy is imported (see app.store.home), so this reads the one
`reminder` row with the standard library's sqlite3, read-only, and never migrates or
writes. A server URL, a missing file or table, or a damaged row give None ("none set").
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo
from urllib.parse import quote

from app.remind.schedule import (
    ReminderSettings,
    ScheduleError,
    format_fire,
    local_zone,
    next_fire,
    parse_days,
)

SQL = "SELECT hour, minute, days, enabled FROM reminder WHERE id = 1"


def read_settings(target: str | None) -> ReminderSettings | None:
    """The stored reminder from a SQLite file (None: not set, or not readable cheaply)."""
    from app.store.location import resolve

    try:
        loc = resolve(target)
    except Exception:  # noqa: BLE001 - Home must always paint
        return None
    if loc.path is None or not loc.path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{quote(str(loc.path))}?mode=ro", uri=True, timeout=1.0)
        try:
            row = con.execute(SQL).fetchone()
        finally:
            con.close()
    except sqlite3.Error:  # no table yet (older log), locked, damaged
        return None
    if row is None:
        return None
    try:
        return ReminderSettings(int(row[0]), int(row[1]), parse_days(str(row[2])), bool(row[3]))
    except (ScheduleError, TypeError, ValueError):
        return None


def next_reminder_text(target: str | None, now: datetime | None = None,
                       zone: tzinfo | None = None) -> str | None:
    """E.g. "tomorrow 07:30" for HomeData.next_reminder; None when off or unknown."""
    settings = read_settings(target)
    z = local_zone() if zone is None else zone
    when = next_fire(settings, z, now)
    return None if when is None else format_fire(when, now or datetime.now(z), zone_name=False)

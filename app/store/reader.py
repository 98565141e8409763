"""The one read-only reader of the log, shared by Home and the reminder.

Why a separate path: importing sqlmodel/SQLAlchemy/alembic costs a large part of a
second, and the Home screen should paint before that. For a SQLite file this reads with
the standard library's sqlite3 (read-only, a few milliseconds even for ten years of
sessions) and never migrates or writes. Home calls `load_home()` before the first
paint, then `open_store()` (migrate, recover interrupted sessions) in a worker thread;
the reminder reads its row and "done today?" through the same connection helper.
Server URLs fall back to the full store, imported only then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app.store import stats
from app.store.errors import StoreError
from app.store.home import HomeData, LastSession, parse_days, parse_last, summarize
from app.store.location import resolve

# The days done by stats.DAY_RULE. A log not yet migrated to revision 0004 (Home reads
# before the store migrates) has no demo column, and no demo runs: the rest applies.
DONE_DAYS_SQL = f"SELECT DISTINCT local_day FROM session WHERE {stats.DONE_SQL}"
DONE_DAYS_SQL_0003 = DONE_DAYS_SQL.replace(" AND NOT session.demo", "")
LAST_SQL = (
    "SELECT started_utc, tz, status, elapsed_s, routine FROM session "
    "ORDER BY started_utc DESC LIMIT 1"
)


def log_file(target: str | None) -> Path | None:
    """The SQLite file `target` names (path, URL, HIPHOOK_DB or default), or None for a
    server URL. The file may not exist yet."""
    return resolve(target).path


@contextmanager
def read_only(path: Path, timeout_s: float = 1.0) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a SQLite file (never creates it, never writes)."""
    con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=timeout_s)
    try:
        yield con
    finally:
        con.close()


def query_one(target: str | None, sql: str) -> tuple[Any, ...] | None:
    """One row from the log file, read-only; None when there is no file (or a server
    URL). sqlite3.Error when the table is missing, locked or damaged."""
    path = log_file(target)
    if path is None or not path.exists() or path.stat().st_size == 0:
        return None
    with read_only(path) as con:
        row = con.execute(sql).fetchone()
    return None if row is None else tuple(row)


def read_home_rows(path: Path, timeout_s: float = 1.0) -> tuple[set[date], LastSession | None]:
    """Completed local days and the last run, straight from a SQLite file."""
    with read_only(path, timeout_s) as con:
        try:
            rows = con.execute(DONE_DAYS_SQL).fetchall()
        except sqlite3.OperationalError:
            rows = con.execute(DONE_DAYS_SQL_0003).fetchall()
        days = parse_days([r[0] for r in rows])
        return days, parse_last(con.execute(LAST_SQL).fetchone())


def load_home(
    target: str | None = None, today: date | None = None, tz: str | None = None
) -> HomeData:
    """Home data for a database (path, URL, HIPHOOK_DB or default); never raises.

    A missing database is an empty log; an unreadable one gives empty data with
    `problem` set, and `open_store()` will explain it properly.
    """
    if today is None:
        today = stats.today_in(tz or stats.local_zone_name())
    loc = resolve(target)
    if loc.path is not None:
        if not loc.path.exists() or loc.path.stat().st_size == 0:
            return summarize(set(), today)
        try:
            days, last = read_home_rows(loc.path)
            return summarize(days, today, last=last)
        except (sqlite3.Error, OSError) as err:
            return summarize(set(), today, problem=f"cannot read {loc.path}: {err}")
    # lazy: only a server needs the full store (SQLAlchemy, ~1 s); a file never does
    from app.store.store import open_store

    try:
        store = open_store(loc.url)
    except StoreError as err:
        return summarize(set(), today, problem=str(err))
    try:
        return store.home(today=today)
    finally:
        store.close()

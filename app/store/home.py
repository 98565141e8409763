"""Home-screen data without SQLAlchemy: done today, streak, last 7 days, adherence.

Why a separate path: importing sqlmodel/SQLAlchemy/alembic costs a large part of a
second, and the Home screen should paint before that. `load_home()` reads a SQLite
file with the standard library's sqlite3 (read-only, a few milliseconds even for ten
years of sessions) and never migrates or writes. The TUI can call it before the first
paint, then `open_store()` (migrate, recover interrupted sessions) in a worker thread.
Server URLs fall back to the full store, imported lazily.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app.store import stats
from app.store.location import resolve
from app.store.stats import Streak

DONE_DAYS_SQL = "SELECT DISTINCT local_day FROM session WHERE status = 'completed'"
LAST_SQL = ("SELECT started_utc, tz, status, elapsed_s, routine FROM session "
            "ORDER BY started_utc DESC LIMIT 1")


@dataclass(frozen=True)
class LastSession:
    """The most recent run, for a line like "yesterday 07:30: completed, 10:42"."""

    started_local: datetime  # aware, in the zone the run was done in
    status: str
    elapsed_s: float | None
    routine: str

    def text(self, today: date) -> str:
        d = self.started_local.date()
        ago = (today - d).days
        when = {0: "today", 1: "yesterday"}.get(ago, f"{d:%a %d %b}")
        took = ""
        if self.elapsed_s is not None:
            m, s = divmod(int(round(self.elapsed_s)), 60)
            took = f", {m}:{s:02d}"
        return f"{when} {self.started_local:%H:%M}: {self.status.replace('_', ' ')}{took}"


def parse_last(row: tuple[Any, ...] | None) -> LastSession | None:
    """A LastSession from (started_utc, tz, status, elapsed_s, routine), or None."""
    if row is None:
        return None
    started, tz, status, elapsed, routine = row
    if isinstance(started, str):
        try:
            started = datetime.fromisoformat(started)
        except ValueError:
            return None
    if not isinstance(started, datetime):
        return None
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return LastSession(started.astimezone(stats.zone(tz)), str(status),
                       None if elapsed is None else float(elapsed), str(routine))


@dataclass(frozen=True)
class HomeData:
    """What the Home screen shows about the log."""

    today: date
    done_today: bool
    streak: Streak
    last7: list[tuple[date, bool]]
    adherence7: float
    adherence30: float
    done_days: frozenset[date] = field(default_factory=frozenset, repr=False)
    last_session: LastSession | None = None
    problem: str = ""  # set when the log could not be read; the screen says so

    @property
    def last7_marks(self) -> str:
        return " ".join(stats.DONE_MARK if done else stats.MISSED_MARK for _, done in self.last7)


def summarize(done_days: set[date] | frozenset[date], today: date, problem: str = "",
              last: LastSession | None = None) -> HomeData:
    """HomeData from the set of completed local days (shared by both load paths)."""
    return HomeData(
        today=today,
        done_today=today in done_days,
        streak=stats.streak(done_days, today),
        last7=stats.last_days(done_days, today, 7),
        adherence7=stats.adherence(done_days, today, 7),
        adherence30=stats.adherence(done_days, today, 30),
        done_days=frozenset(done_days),
        last_session=last,
        problem=problem,
    )


def parse_days(values: list[object]) -> set[date]:
    out: set[date] = set()
    for v in values:
        if isinstance(v, date):
            out.add(v)
        elif isinstance(v, str):
            try:
                out.add(date.fromisoformat(v[:10]))
            except ValueError:
                continue
    return out


def read_home_rows(path: Path, timeout_s: float = 1.0) -> tuple[set[date], LastSession | None]:
    """Completed local days and the last run, straight from a SQLite file, read-only."""
    uri = f"file:{quote(str(path))}?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=timeout_s)
    try:
        days = parse_days([r[0] for r in con.execute(DONE_DAYS_SQL)])
        return days, parse_last(con.execute(LAST_SQL).fetchone())
    finally:
        con.close()


def load_home(target: str | None = None, today: date | None = None,
              tz: str | None = None) -> HomeData:
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
    from app.store.errors import StoreError
    from app.store.store import open_store

    try:
        store = open_store(loc.url)
    except StoreError as err:
        return summarize(set(), today, problem=str(err))
    try:
        return store.home(today=today)
    finally:
        store.close()

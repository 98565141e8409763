"""What Home, `hiphook history` and the reminder know about the log: one `HomeData`.

Pure: built from the set of completed local days and the last run by `summarize`, by
whichever reader got them (app.store.reader with stdlib sqlite3 before the first paint,
or the full store). Every field defaults to "not known", which Home shows as "no
history yet".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from app.store import stats
from app.store.stats import Streak


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
    return LastSession(
        started.astimezone(stats.zone(tz)),
        str(status),
        None if elapsed is None else float(elapsed),
        str(routine),
    )


@dataclass(frozen=True)
class HomeData:
    """What is known about the log; the defaults mean "not known yet"."""

    today: date | None = None
    done_today: bool | None = None
    streak: Streak | None = None
    # stats.window(): the last 7 days, oldest first, True done, False missed; they end
    # today once today is done, else yesterday (last7_end says which).
    last7: tuple[bool, ...] = ()
    last7_end: date | None = None
    adherence7: float = 0.0
    adherence30: float = 0.0
    done_days: frozenset[date] = field(default_factory=frozenset, repr=False)
    last_session: LastSession | None = None
    next_reminder: str | None = None  # a short line, e.g. "tomorrow 07:30"
    problem: str = ""  # set when the log could not be read; the screen says so

    @property
    def has_history(self) -> bool:
        return bool(self.done_days) or self.last_session is not None

    @property
    def streak_days(self) -> int | None:
        return None if self.streak is None else self.streak.days

    @property
    def last7_marks(self) -> str:
        return " ".join(stats.DONE_MARK if done else stats.MISSED_MARK for done in self.last7)

    def last_session_text(self) -> str | None:
        if self.last_session is None or self.today is None:
            return None
        return self.last_session.text(self.today)


def summarize(
    done_days: set[date] | frozenset[date],
    today: date,
    problem: str = "",
    last: LastSession | None = None,
) -> HomeData:
    """HomeData from the set of completed local days (whoever read them)."""
    week = stats.window(done_days, today, 7)
    return HomeData(
        today=today,
        done_today=today in done_days,
        streak=stats.streak(done_days, today),
        last7=tuple(done for _day, done in week.days),
        last7_end=week.end,
        adherence7=week.share,
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

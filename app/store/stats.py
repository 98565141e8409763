"""Streaks, adherence, the calendar and last-7-days flags: pure functions of local days.

No queries and no clock here: callers pass the set of local calendar days that are
done (by DAY_RULE, whose SQL form both readers use) and "today", so tests inject both
and nothing depends on the machine's time zone. A session belongs to the local day on
which it *started*, in the zone where it was done (stored with the session), so a
routine begun at 23:55 counts for that evening, and flying across zones never moves a
day that is already logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.routine import builtin_names

# Which runs make a day done, said the same in the help, the README and the SQL below.
MIN_DAY_S = 300
BUILTINS = tuple(builtin_names())
DAY_RULE = (
    "A day is done when you complete a built-in routine, or your own routine planned "
    "for at least 5 minutes, at real speed: a time-scaled demo run never counts."
)
# The same rule over the log's rows (SQLite and PostgreSQL alike): `session` is the
# session table; a run's planned total is the sum of its steps' planned seconds.
DONE_SQL = (
    "session.status = 'completed' AND NOT session.demo AND (session.routine IN ("
    + ", ".join(f"'{n}'" for n in BUILTINS)
    + ") OR (SELECT COALESCE(SUM(step.planned_s), 0) FROM step "
    f"WHERE step.session_id = session.id) >= {MIN_DAY_S})"
)
STREAK_RULE = (
    "Streak = days done in a row. One missed day bends it; "
    "two missed days in a row break it. Today counts once it is done. " + DAY_RULE
)


def counts_as_done(status: str, routine: str, planned_s: float, *, demo: bool) -> bool:
    """DONE_SQL for one run in hand: completed, at real speed, a built-in or >= 5 min."""
    return status == "completed" and not demo and (routine in BUILTINS or planned_s >= MIN_DAY_S)


DONE_MARK = "■"
MISSED_MARK = "·"
TODAY_OPEN_MARK = "□"  # today, not done yet: still open, not missed
FUTURE_MARK = " "


@dataclass(frozen=True)
class Streak:
    """The current streak (and the best one), by the one-missed-day-bends rule."""

    days: int  # completed days in the current streak
    bends: int  # single missed days inside it
    start: date | None  # first day of the current streak
    at_risk: bool  # yesterday was missed: missing today too would break it
    best: int
    rule: str = STREAK_RULE

    def text(self) -> str:
        if self.days == 0:
            return "No streak yet: complete today's routine to start one."
        plural = "" if self.days == 1 else "s"
        bent = f", bent {self.bends}×" if self.bends else ""
        risk = " Do it today to keep it." if self.at_risk else ""
        return f"Streak: {self.days} day{plural}{bent} (best {self.best}).{risk}"


def _chains(days_desc: Sequence[date]) -> list[tuple[int, int, int]]:
    """Split days (newest first) into streaks: (first index, count, bends) each."""
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < len(days_desc):
        count, bends, j = 1, 0, i
        while j + 1 < len(days_desc):
            gap = (days_desc[j] - days_desc[j + 1]).days
            if gap == 1:
                count += 1
            elif gap == 2:
                count += 1
                bends += 1
            else:
                break
            j += 1
        out.append((i, count, bends))
        i = j + 1
    return out


def streak(done_days: Iterable[date], today: date) -> Streak:
    """Current and best streak; today not yet done is open, not missed."""
    days = sorted(set(done_days), reverse=True)
    if not days:
        return Streak(0, 0, None, False, 0)
    chains = _chains(days)
    best = max(c[1] for c in chains)
    first_i, count, bends = chains[0]
    latest = days[0]
    if latest < today - timedelta(days=2):
        return Streak(0, 0, None, False, best)
    at_risk = latest == today - timedelta(days=2)
    if at_risk:
        bends += 1  # yesterday is already a missed day inside the streak
    start = days[first_i + count - 1]
    return Streak(count, bends, start, at_risk, best)


@dataclass(frozen=True)
class Window:
    """The last n days, the one window behind every "last 7 days" the app shows.

    It ends today once today is done, else yesterday: a day still open is neither done
    nor missed, so doing the routine at 20:00 never costs the morning's percentage, and
    the strip, "N% of the last 7 days", the report and `history --json` all count the
    same n days.
    """

    days: tuple[tuple[date, bool], ...]  # (day, done), oldest first
    today: date

    @property
    def end(self) -> date:
        return self.days[-1][0]

    @property
    def start(self) -> date:
        return self.days[0][0]

    @property
    def today_open(self) -> bool:
        """Today is not done yet, so the window stops at yesterday."""
        return self.end < self.today

    @property
    def done(self) -> int:
        return sum(1 for _d, ok in self.days if ok)

    @property
    def share(self) -> float:
        return self.done / len(self.days) if self.days else 0.0

    def marks(self) -> str:
        return " ".join(DONE_MARK if ok else MISSED_MARK for _d, ok in self.days)

    def span_text(self) -> str:
        """Which days these are, in words: "to today" or "to yesterday (today still open)"."""
        return "to yesterday; today is still open" if self.today_open else "to today"


def window(done_days: Iterable[date], today: date, n: int = 7) -> Window:
    """The last n days, ending today when today is done, else yesterday (see Window)."""
    days = set(done_days)
    end = today if today in days else today - timedelta(days=1)
    picked = tuple((d, d in days) for d in (end - timedelta(days=k) for k in range(n - 1, -1, -1)))
    return Window(picked if n > 0 else (), today)


def adherence(done_days: Iterable[date], today: date, n: int) -> float:
    """Share of the n days of window() with a completed routine (0..1)."""
    return window(done_days, today, n).share


def last_days(done_days: Iterable[date], today: date, n: int = 7) -> list[tuple[date, bool]]:
    """(day, done) for the n days of window(), oldest first: what the 7-day strip shows."""
    return list(window(done_days, today, n).days)


def calendar(done_days: Iterable[date], today: date, weeks: int = 12) -> list[list[date]]:
    """The last `weeks` weeks as rows of 7 dates, Monday first, the last row holding today."""
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    return [[first + timedelta(days=7 * w + d) for d in range(7)] for w in range(weeks)]


def mark(day: date, done: set[date], today: date) -> str:
    """One calendar cell as a mark, so the calendar reads without colour."""
    if day > today:
        return FUTURE_MARK
    if day in done:
        return DONE_MARK
    return TODAY_OPEN_MARK if day == today else MISSED_MARK


def calendar_text(done_days: Iterable[date], today: date, weeks: int = 12) -> str:
    """The 12-week calendar as text: one row per weekday, one column per week."""
    done = set(done_days)
    grid = calendar(done, today, weeks)
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    rows = []
    for d in range(7):
        rows.append(f"{names[d]} " + " ".join(mark(week[d], done, today) for week in grid))
    legend = f"{DONE_MARK} done  {MISSED_MARK} missed  {TODAY_OPEN_MARK} today, open"
    return "\n".join(rows + [legend])


# --------------------------------------------------------------------------- zones


def zone(name: str | None) -> tzinfo:
    """A tzinfo for an IANA name; unknown or missing names fall back to UTC."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def local_zone() -> ZoneInfo:
    """The machine's zone, from tzlocal (TZ, then /etc/localtime, ...); UTC if unknown.

    The one zone source for the log and the reminder alike (apscheduler uses tzlocal
    too), so the day a session counts for and the zone `remind set` names never differ.
    tzlocal caches its answer per process; a changed TZ needs a new process.
    """
    try:
        # lazy: tzlocal comes with apscheduler, not ours to require; failing, it means UTC
        import tzlocal

        found = tzlocal.get_localzone()
    except Exception:  # noqa: BLE001 - a broken zone setup must not stop a run or a reminder
        return ZoneInfo("UTC")
    if isinstance(found, ZoneInfo):
        return found
    key = getattr(found, "key", None) or getattr(found, "zone", None)
    try:
        return ZoneInfo(str(key)) if key else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_zone_name() -> str:
    """The machine's IANA zone name (the key of local_zone()), stored with each session."""
    return local_zone().key or "UTC"


def local_day(utc_moment: datetime, tz_name: str | None) -> date:
    """The calendar day in zone `tz_name` at a UTC moment (naive means UTC)."""
    if utc_moment.tzinfo is None:
        utc_moment = utc_moment.replace(tzinfo=UTC)
    return utc_moment.astimezone(zone(tz_name)).date()


def today_in(tz_name: str | None, now: datetime | None = None) -> date:
    """Today's date in a zone (now injectable for tests)."""
    return local_day(now or datetime.now(UTC), tz_name)

"""Reminder settings and when they fire: strict parsing, local zone, next fire time.

Parsing is strict on purpose: a reminder that silently fires at the wrong time is worse
than a refusal, so "25:00", "7pm-ish" and "7:5" are refused with a message that says
what is accepted. Times are wall-clock times in the machine's zone; the next fire time
comes from apscheduler's CronTrigger in a ZoneInfo, so 07:30 stays 07:30 across
daylight-saving changes (the UTC instant moves, the wall clock does not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from app.store.stats import local_zone as store_zone

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAYS: tuple[int, ...] = tuple(range(7))
WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)
WEEKENDS: tuple[int, ...] = (5, 6)
_ALIASES: dict[str, tuple[int, ...]] = {
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
    "weekdays": WEEKDAYS,
    "weekends": WEEKENDS,
}
# ASCII digits only: \d would also accept Arabic-Indic and other digits.
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")


class ScheduleError(ValueError):
    """Bad reminder input; the message is for the runner, never a traceback."""


def parse_time(text: str) -> tuple[int, int]:
    """ "HH:MM" (24-hour; "7:30" is fine) to (hour, minute), or ScheduleError."""
    raw = text.strip()
    m = _TIME_RE.fullmatch(raw)
    if m is None:
        raise ScheduleError(
            f"{text!r} is not a time: give it as HH:MM on the 24-hour clock, e.g. 07:30 or 19:05"
        )
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23:
        raise ScheduleError(f"{text!r}: the hour must be 00 to 23")
    if minute > 59:
        raise ScheduleError(f"{text!r}: the minutes must be 00 to 59")
    return hour, minute


def parse_days(text: str) -> tuple[int, ...]:
    """ "mon,wed,fri", "daily", "weekdays" or "weekends" to sorted weekday numbers (Mon=0)."""
    raw = text.strip().lower()
    if raw in _ALIASES:
        return _ALIASES[raw]
    parts = [p.strip() for p in raw.split(",")]
    if not raw or any(not p for p in parts):
        raise ScheduleError(
            f"{text!r} is not a list of days: use e.g. mon,wed,fri or daily, weekdays, weekends"
        )
    days: set[int] = set()
    for part in parts:
        if part in DAY_NAMES:
            days.add(DAY_NAMES.index(part))
        elif part in _FULL_NAMES:
            days.add(_FULL_NAMES.index(part))
        elif part in _ALIASES:
            days.update(_ALIASES[part])
        else:
            raise ScheduleError(
                f"{part!r} is not a day: use {', '.join(DAY_NAMES)} (or daily, weekdays, weekends)"
            )
    return tuple(sorted(days))


def days_text(days: tuple[int, ...]) -> str:
    """The canonical stored form: "mon,tue,..." (cron's day_of_week accepts it as is)."""
    return ",".join(DAY_NAMES[d] for d in sorted(set(days)))


def describe_days(days: tuple[int, ...]) -> str:
    """Days in words for messages: "every day", "on weekdays", "on Mon, Wed"."""
    d = tuple(sorted(set(days)))
    if d == ALL_DAYS:
        return "every day"
    if d == WEEKDAYS:
        return "on weekdays"
    if d == WEEKENDS:
        return "on weekends"
    return "on " + ", ".join(DAY_NAMES[i].capitalize() for i in d)


@dataclass(frozen=True)
class ReminderSettings:
    """What the runner chose; `enabled=False` keeps the time for the next `remind set`."""

    hour: int
    minute: int
    days: tuple[int, ...] = ALL_DAYS
    enabled: bool = True

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ScheduleError(f"no such time {self.hour:02d}:{self.minute:02d}")
        if not self.days or any(d not in ALL_DAYS for d in self.days):
            raise ScheduleError(f"bad days {self.days!r}")
        object.__setattr__(self, "days", tuple(sorted(set(self.days))))

    @classmethod
    def parse(cls, time: str, days: str | None = None) -> ReminderSettings:
        """From the command line's words; refuses anything unclear (ScheduleError)."""
        hour, minute = parse_time(time)
        return cls(hour, minute, parse_days(days) if days is not None else ALL_DAYS)

    @property
    def time_text(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def describe(self) -> str:
        return f"{self.time_text} {describe_days(self.days)}"


# --------------------------------------------------------------------------- zone and time


def local_zone() -> ZoneInfo:
    """The machine's zone as a ZoneInfo: the log's own source (app.store.stats), so a
    reminder and the session it asks for agree on the day.

    A ZoneInfo, not a fixed offset, is what makes the trigger follow DST changes.
    """
    return store_zone()


def cron_trigger(settings: ReminderSettings, zone: tzinfo) -> CronTrigger:
    """The apscheduler trigger for the settings, on the wall clock of `zone`."""
    # lazy: apscheduler takes ~0.1 s to import; only a running reminder needs it
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(
        hour=settings.hour,
        minute=settings.minute,
        second=0,
        day_of_week=days_text(settings.days),
        timezone=zone,
    )


def next_fire(
    settings: ReminderSettings | None, zone: tzinfo, now: datetime | None = None
) -> datetime | None:
    """The next time the reminder fires at or after `now`, in `zone`; None when off.

    apscheduler may hand back a wall time that does not exist (02:30 on the spring-forward
    night); normalising through UTC shows the instant it really fires (03:30).
    """
    if settings is None or not settings.enabled:
        return None
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    fire = cron_trigger(settings, zone).get_next_fire_time(None, now.astimezone(zone))
    return None if fire is None else fire.astimezone(UTC).astimezone(zone)


def format_fire(when: datetime, now: datetime | None = None, *, zone_name: bool = True) -> str:
    """ "Tue 25 Nov 07:30 CET", with "today"/"tomorrow" when that reads better."""
    label = when.strftime("%a %d %b")
    if now is not None:
        days = (when.date() - now.astimezone(when.tzinfo).date()).days
        if days == 0:
            label = "today"
        elif days == 1:
            label = "tomorrow"
    zone = (when.tzname() or "") if zone_name else ""
    return f"{label} {when:%H:%M} {zone}".rstrip()

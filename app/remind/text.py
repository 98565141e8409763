"""What the reminder says: the routine that Enter will start, and how long it takes today.

The remembered routine (a built-in or the user's file, from the settings) is read when
the reminder fires, not when the service started, so a routine picked on Home since
then is the one named. A beginner routine's length is the one of today's day in its
progression. Anything unreadable falls back to words without a length: a reminder is
never lost for want of a number.
"""

from __future__ import annotations

import datetime as dt
import logging

from app.core.routine import Routine
from app.session import remembered_routine
from app.settings import Settings

log = logging.getLogger(__name__)

PLAIN_BODY = "Today's hip-flexor release is waiting. Open it with: hiphook"


def minutes_words(seconds: float) -> str:
    """ "about 9 minutes" for a reminder: whole minutes, never "0 minutes"."""
    minutes = max(1, int(seconds / 60 + 0.5))  # half up: 2:30 is "about 3"
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


def todays_routine(settings: Settings, today: dt.date) -> Routine:
    """The remembered routine (or the built-in that stands in for it) as of `today`."""
    routine, _why = remembered_routine(settings.routine)  # the fallback Home starts too
    if routine.progression is not None:
        try:
            started = dt.date.fromisoformat(settings.beginner_started or "")
        except ValueError:  # not started yet: today is its first day
            started = today
        routine = routine.at_day(max(0, (today - started).days))
    return routine


def reminder_body(today: dt.date, settings: Settings | None = None) -> str:
    """The reminder's text, naming the routine and its real length today."""
    try:
        routine = todays_routine(settings or Settings.load(), today)
    except Exception as exc:  # noqa: BLE001 - the reminder goes out whatever went wrong
        log.warning("could not read the routine for the reminder's text: %s", exc)
        return PLAIN_BODY
    return (
        f"Your routine, {routine.title}, takes {minutes_words(routine.total_s)} today. "
        "Open it with: hiphook"
    )

"""What Home knows about the past, and the hook that fills it.

The session log lives behind the database layer, which costs ~0.8 s to import, so Home
paints first with `HomeData()` ("no history yet") and a loader fills it in a thread.
A loader is any `(today, store_url) -> HomeData`; pass one to `run_tui(home_loader=...)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HomeData:
    """Every field defaults to "not known", which Home shows as "no history yet"."""

    today_done: bool | None = None
    streak_days: int | None = None
    # The last 7 days, oldest first and ending today: True done, False missed, None unknown.
    last7: tuple[bool | None, ...] = ()
    last_session: str | None = None  # a short line, e.g. "yesterday, 9:52 of 10:00"
    next_reminder: str | None = None  # a short line, e.g. "tomorrow 07:30"
    note: str = ""  # e.g. why the log could not be read

    @property
    def has_history(self) -> bool:
        return self.today_done is not None or self.streak_days is not None or any(
            d is not None for d in self.last7
        )


HomeLoader = Callable[[dt.date, "str | None"], HomeData]


def no_history(today: dt.date, store_url: str | None) -> HomeData:
    """The loader until the session log is wired in: nothing is known yet."""
    return HomeData()


def session_log_loader(today: dt.date, store_url: str | None) -> HomeData:
    """Home data from the session log (stdlib sqlite3 read, no database layer import)."""
    from app.remind.home import next_reminder_text
    from app.store.home import load_home

    h = load_home(store_url, today=today)
    try:
        reminder = next_reminder_text(store_url)
    except Exception:  # noqa: BLE001 - a reminder line is not worth a broken Home
        reminder = None
    last = getattr(h, "last_session", None)
    last_text = last.text(today) if last is not None else None
    if not h.done_days and last_text is None:  # an empty or missing log: nothing yet
        return HomeData(note=h.problem, next_reminder=reminder)
    return HomeData(
        today_done=h.done_today,
        streak_days=h.streak.days,
        last7=tuple(done for _day, done in h.last7),
        last_session=last_text,
        next_reminder=reminder,
        note=h.problem,
    )


def safe_load(loader: HomeLoader, today: dt.date, store_url: str | None) -> HomeData:
    """A broken log must not stop anyone from doing the routine: report it and go on."""
    try:
        return loader(today, store_url)
    except Exception as exc:  # noqa: BLE001 - shown to the user, never fatal
        return HomeData(note=f"The session log could not be read: {exc}")

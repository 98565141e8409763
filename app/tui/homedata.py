"""What Home knows about the past, and the hook that fills it.

The session log lives behind the database layer, which costs ~0.8 s to import, so Home
paints first with `HomeData()` ("no history yet") and a loader fills it in a thread.
A loader is any `(today, store_url) -> HomeData`; pass one to `run_tui(home_loader=...)`.
`HomeData` is the store's own (app.store.home), one class for Home, `hiphook history`
and the reminder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from app.remind.home import next_reminder_text
from app.store import reader
from app.store.home import HomeData

HomeLoader = Callable[[dt.date, "str | None"], HomeData]

__all__ = ["HomeData", "HomeLoader", "no_history", "safe_load", "session_log_loader"]


def no_history(today: dt.date, store_url: str | None) -> HomeData:
    """The loader until the session log is wired in: nothing is known yet."""
    return HomeData()


def session_log_loader(today: dt.date, store_url: str | None) -> HomeData:
    """Home data from the session log (the read-only reader, no database layer import)."""
    h = reader.load_home(store_url, today=today)
    try:
        reminder = next_reminder_text(store_url)
    except Exception:  # noqa: BLE001 - a reminder line is not worth a broken Home
        reminder = None
    if not h.has_history:  # an empty or missing log: nothing known yet
        return HomeData(problem=h.problem, next_reminder=reminder)
    return dataclasses.replace(h, next_reminder=reminder)


def safe_load(loader: HomeLoader, today: dt.date, store_url: str | None) -> HomeData:
    """A broken log must not stop anyone from doing the routine: report it and go on."""
    try:
        return loader(today, store_url)
    except Exception as exc:  # noqa: BLE001 - shown to the user, never fatal
        return HomeData(problem=f"The session log could not be read: {exc}")

"""The TUI's hook: while the coach is open, it shows the reminder in-app instead.

How it works, in two small pieces:

1. The TUI runs its own copy of the reminder jobs in a background thread, with a
   `deliver` of its own (typically `app.notify`). That is all `InAppReminders` is:
   `ReminderDaemon` on a BackgroundScheduler with the TUI's deliver.
2. While it runs it keeps a presence file (its pid). The separate `hiphook remind run`
   service checks `coach_is_open()` when its reminder fires and stays quiet if the
   coach is open, so the runner sees one reminder, not two. A crashed TUI leaves a
   file whose pid is dead, which counts as closed.

In the TUI (a sketch for the lead; `notify` must be called on the UI thread):

    from app.remind.inapp import InAppReminders

    def on_mount(self) -> None:
        self.reminders = InAppReminders(
            lambda title, body: self.call_from_thread(self.notify, body, title=title,
                                                      timeout=30),
            db=self.db_target,
        )
        self.run_worker(self.reminders.start, thread=True)  # opens the database

    def on_unmount(self) -> None:
        self.reminders.stop()
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.remind.daemon import ReminderDaemon
from app.remind.notify import Deliver
from app.remind.schedule import local_zone
from app.remind.store import Target, done_today_for, open_settings_store

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from app.remind.daemon import ReminderDaemon
    from app.remind.store import SqlSettingsStore

log = logging.getLogger(__name__)

PRESENCE_ENV = "HIPHOOK_PRESENCE"


def presence_path() -> Path:
    """Where the open coach leaves its pid: HIPHOOK_PRESENCE, else the user state dir."""
    env = os.environ.get(PRESENCE_ENV)
    if env:
        return Path(env)
    # lazy: platformdirs adds ~20 ms to every command's start; only a path needs it
    import platformdirs

    return Path(platformdirs.user_state_dir("hiphook", appauthor=False)) / "coach.pid"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def coach_is_open(path: Path | None = None) -> bool:
    """True when a live coach process holds the presence file."""
    p = presence_path() if path is None else path
    try:
        pid = int(p.read_text(encoding="ascii").strip() or "0")
    except (OSError, ValueError):
        return False
    return _alive(pid)


def mark_open(path: Path | None = None) -> Path | None:
    """Write our pid to the presence file; None (and a log line) if it cannot be written."""
    p = presence_path() if path is None else path
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(str(os.getpid()), encoding="ascii")
        os.replace(tmp, p)
    except OSError as exc:
        log.warning("cannot write %s (%s); a running reminder service may also notify", p, exc)
        return None
    return p


def mark_closed(path: Path | None = None) -> None:
    """Remove the presence file if it is ours."""
    p = presence_path() if path is None else path
    with contextlib.suppress(OSError, ValueError):
        if int(p.read_text(encoding="ascii").strip()) == os.getpid():
            p.unlink()


class InAppReminders:
    """The reminder jobs inside the TUI process, delivering through the TUI."""

    def __init__(self, deliver: Deliver, db: Target = None, presence: Path | None = None) -> None:
        self.deliver = deliver
        self.db = db
        self.presence = presence
        self.scheduler: BackgroundScheduler | None = None
        self.daemon: ReminderDaemon | None = None
        self._store: SqlSettingsStore | None = None
        self._stopped = False

    def start(self) -> None:
        """Open the settings, start the jobs, mark the coach open; never raises."""
        try:
            # lazy: apscheduler takes ~0.1 s to import; only a running reminder needs it
            from apscheduler.schedulers.background import BackgroundScheduler

            self._store = open_settings_store(self.db)
            scheduler = BackgroundScheduler(timezone=local_zone())
            self.daemon = ReminderDaemon(
                scheduler, self._store, done_today_for(self.db), self.deliver
            )
            self.daemon.start_jobs()
            if self._stopped:  # the coach closed while the database was opening
                return
            scheduler.start()
            self.scheduler = scheduler
        except Exception as exc:  # noqa: BLE001 - the coach works without reminders
            log.warning("in-app reminders are off: %s", exc)
            return
        mark_open(self.presence)

    def stop(self) -> None:
        """Stop the jobs and unmark the coach, so the service reminds again."""
        self._stopped = True
        mark_closed(self.presence)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
        if self._store is not None:
            self._store.close()
            self._store = None

"""`hiphook remind run`: the long-running reminder on apscheduler 3.

One cron job (fixed id, replaced on every change) fires at the runner's local time in
a ZoneInfo, so it follows daylight-saving changes. `coalesce=True` with an explicit
`misfire_grace_time` means a laptop that slept through 07:30 reminds once on waking if
that is within the grace, and not at all after it: never once per missed day. A light
job re-reads the settings every minute and reschedules when they (or the machine's
zone) changed, so `hiphook remind set` applies without a restart.

The reminder job itself (`ReminderDaemon.fire`) is a plain method: it stays quiet when
today's routine is already logged, when the coach (TUI) is open and shows the reminder
itself, and when the same reminder was already given today (the wall time 02:30 happens
twice on the autumn-back night, and apscheduler fires both).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from types import FrameType
from typing import TYPE_CHECKING

from app.remind.notify import TITLE, Deliver, default_deliver
from app.remind.schedule import (
    ReminderSettings,
    cron_trigger,
    format_fire,
    local_zone,
    next_fire,
)
from app.remind.store import DoneToday, SettingsStore
from app.remind.text import reminder_body

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

JOB_ID = "hiphook-remind"
REFRESH_JOB_ID = "hiphook-remind-refresh"
MISFIRE_GRACE_S = 2 * 60 * 60  # slept through 07:30, woke by 09:30: still worth a nudge
REFRESH_S = 60

ZoneSource = Callable[[], tzinfo]
Clock = Callable[[], datetime]
Quiet = Callable[[], bool]
Body = Callable[[date], str]  # the reminder's text for that local day


def _never() -> bool:
    return False


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _say(text: str) -> None:
    print(text, flush=True)  # a service's stdout is a pipe: show lines as they come


class ReminderDaemon:
    """The reminder's jobs on a given apscheduler scheduler; every dependency injected.

    deliver: how a reminder reaches the runner (desktop, terminal, or the TUI's own).
    body: the text, read when it fires (the routine and its length today).
    done_today: True when today's routine is logged, so the reminder stays quiet.
    quiet: True when someone else shows the reminder (the open TUI; see app.remind.inapp).
    """

    def __init__(
        self,
        scheduler: BaseScheduler,
        store: SettingsStore,
        done_today: DoneToday,
        deliver: Deliver = default_deliver,
        *,
        zone: ZoneSource = local_zone,
        quiet: Quiet = _never,
        clock: Clock = _utcnow,
        misfire_grace_s: int = MISFIRE_GRACE_S,
        body: Body = reminder_body,
    ) -> None:
        self.scheduler = scheduler
        self.store = store
        self.done_today = done_today
        self.deliver = deliver
        self.zone = zone
        self.quiet = quiet
        self.clock = clock
        self.misfire_grace_s = misfire_grace_s
        self.body = body
        self._applied: tuple[ReminderSettings | None, str] | None = None
        self._given: set[tuple[date, int, int]] = set()
        self._lock = threading.Lock()
        self.current: ReminderSettings | None = None

    # ------------------------------------------------------------------ the reminder
    def fire(self) -> bool:
        """The cron job: remind unless done, shown elsewhere, or already given. True if sent."""
        settings = self.current
        zone = self.zone()
        local = self.clock().astimezone(zone)
        key = (local.date(), settings.hour, settings.minute) if settings else None
        with self._lock:
            if key is not None and key in self._given:
                log.info("already reminded today at %s; staying quiet", local.strftime("%H:%M"))
                return False
        try:
            done = self.done_today()
        except Exception as exc:  # noqa: BLE001 - unknown means remind
            log.warning("could not tell whether today is done (%s); reminding", exc)
            done = False
        if done:
            log.info("today's routine is already done; no reminder")
            return False
        try:
            shown_elsewhere = self.quiet()
        except Exception:  # noqa: BLE001
            shown_elsewhere = False
        if shown_elsewhere:
            log.info("the coach is open and shows the reminder itself")
            return False
        with self._lock:
            if key is not None:
                self._given = {k for k in self._given if k[0] == key[0]} | {key}
        try:
            self.deliver(TITLE, self.body(local.date()))
        except Exception as exc:  # noqa: BLE001 - a broken notifier must not stop the service
            log.error("could not deliver the reminder: %s", exc)
            return False
        log.info("reminded at %s", local.strftime("%Y-%m-%d %H:%M %Z"))
        return True

    # ------------------------------------------------------------------ scheduling
    def apply(self, settings: ReminderSettings | None) -> None:
        """Put the cron job in place for these settings (or remove it when off)."""
        zone = self.zone()
        self.current = settings if settings is not None and settings.enabled else None
        if self.current is None:
            if self.scheduler.get_job(JOB_ID) is not None:
                self.scheduler.remove_job(JOB_ID)
            log.info("reminder is off")
        else:
            self.scheduler.add_job(
                self.fire,
                trigger=cron_trigger(self.current, zone),
                id=JOB_ID,
                name="daily hip-flexor reminder",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=self.misfire_grace_s,
                max_instances=1,
            )
            log.info("reminder %s (%s)", self.current.describe(), getattr(zone, "key", zone))
        self._applied = (self.current, str(getattr(zone, "key", zone)))

    def refresh(self) -> bool:
        """Re-read the settings and reschedule if they or the zone changed; True if so.

        A failing read keeps the schedule that is running: a locked or briefly missing
        database must not switch the reminder off.
        """
        try:
            loaded = self.store.load()
        except Exception as exc:  # noqa: BLE001 - keep running (ScheduleError included)
            log.warning("could not read the reminder settings (%s); keeping the last ones", exc)
            return False
        settings = loaded if loaded is not None and loaded.enabled else None
        zone = self.zone()
        state = (settings, str(getattr(zone, "key", zone)))
        if state == self._applied:
            return False
        self.apply(settings)
        return True

    def start_jobs(self) -> None:
        """The cron job from the stored settings and the light refresh job."""
        self.refresh()
        if self._applied is None:  # the first read failed: start with nothing, retry soon
            self.apply(None)
        self.scheduler.add_job(
            self.refresh,
            trigger="interval",
            seconds=REFRESH_S,
            id=REFRESH_JOB_ID,
            name="re-read reminder settings",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=REFRESH_S,
            max_instances=1,
        )

    def next_fire_time(self) -> datetime | None:
        job = self.scheduler.get_job(JOB_ID)
        return None if job is None else job.next_run_time


def run_forever(
    store: SettingsStore,
    done_today: DoneToday,
    deliver: Deliver = default_deliver,
    *,
    quiet: Quiet = _never,
    say: Callable[[str], None] = _say,
) -> int:
    """Run the blocking scheduler until Ctrl-C or SIGTERM (systemd/launchd stop); exit 0."""
    # lazy: apscheduler takes ~0.1 s to import; only a running reminder needs it
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=local_zone())
    daemon = ReminderDaemon(scheduler, store, done_today, deliver, quiet=quiet)
    daemon.start_jobs()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)  # unwinds scheduler.start() like Ctrl-C does

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        if daemon.current is None:
            say(
                "hiphook reminder running; no reminder is set (hiphook remind set HH:MM). "
                "Changes apply within a minute. Ctrl-C to stop."
            )
        else:
            when = next_fire(daemon.current, local_zone())
            nxt = f", next {format_fire(when, datetime.now(UTC))}" if when else ""
            say(f"hiphook reminder running: {daemon.current.describe()}{nxt}. Ctrl-C to stop.")
        scheduler.start()  # blocks until Ctrl-C or SIGTERM
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        with contextlib.suppress(KeyboardInterrupt, SystemExit):  # a second Ctrl-C
            if scheduler.running:
                scheduler.shutdown(wait=False)
    say("hiphook reminder stopped.")
    return 0

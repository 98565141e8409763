"""The daily reminder: parsing, DST-proof fire times, the job, coalescing, delivery, services.

Time is injected everywhere (a `now`, a clock, a zone); the one real-time test runs a
real apscheduler BackgroundScheduler for well under two seconds.
"""

from __future__ import annotations

import configparser
import io
import json
import os
import plistlib
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.core.routine import load_routine
from app.remind import notify, service
from app.remind.daemon import JOB_ID, MISFIRE_GRACE_S, ReminderDaemon
from app.remind.schedule import (
    ReminderSettings,
    ScheduleError,
    days_text,
    next_fire,
    parse_days,
    parse_time,
)
from app.remind.store import MemorySettingsStore
from app.remind.text import minutes_words, reminder_body
from tests.support.cli import hiphook, start

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")


class Recorder:
    """A Deliver that remembers what it was asked to show."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.event = threading.Event()

    def __call__(self, title: str, body: str) -> None:
        self.calls.append((title, body))
        self.event.set()


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", (7, 30)),
        ("7:30", (7, 30)),
        ("00:00", (0, 0)),
        ("23:59", (23, 59)),
        (" 19:05 ", (19, 5)),
    ],
)
def test_good_times_parse(text: str, expected: tuple[int, int]) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "25:00",
        "24:00",
        "07:60",
        "7pm-ish",
        "7:5",
        "7",
        "0730",
        "07:30:00",
        "7:30pm",
        "",
        "-1:30",
        "٠٧:٣٠",
        "07:3O",
    ],
)
def test_bad_times_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_time(text)
    assert "HH:MM" in str(info.value) or "must be" in str(info.value)


def test_days_parse_names_lists_and_aliases() -> None:
    assert parse_days("daily") == (0, 1, 2, 3, 4, 5, 6)
    assert parse_days("weekdays") == (0, 1, 2, 3, 4)
    assert parse_days("Weekends") == (5, 6)
    assert parse_days("fri, mon,wed,mon") == (0, 2, 4)
    assert parse_days("monday,sun") == (0, 6)
    assert days_text(parse_days("sun,mon")) == "mon,sun"
    for bad in ["", "mon,,tue", "funday", "mon;tue", "1,2"]:
        with pytest.raises(ScheduleError):
            parse_days(bad)


# --------------------------------------------------------------------------- fire times


def fire_times(
    settings: ReminderSettings, zone: ZoneInfo, start: datetime, n: int
) -> list[datetime]:
    out, now = [], start
    for _ in range(n):
        when = next_fire(settings, zone, now)
        assert when is not None
        out.append(when)
        now = when + timedelta(seconds=1)
    return out


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        (BERLIN, datetime(2025, 3, 30), datetime(2025, 10, 26)),
        (NEW_YORK, datetime(2025, 3, 9), datetime(2025, 11, 2)),
    ],
)
def test_fires_at_the_same_local_time_across_dst_changes(
    zone: ZoneInfo, spring: datetime, autumn: datetime
) -> None:
    settings = ReminderSettings(7, 30)
    for change in (spring, autumn):
        start = (change - timedelta(days=2)).replace(hour=12, tzinfo=zone)
        times = fire_times(settings, zone, start, 4)
        assert [t.date() for t in times] == [
            (change + timedelta(days=k)).date() for k in range(-1, 3)
        ]
        assert all((t.hour, t.minute) == (7, 30) for t in times)
        # The UTC instant moves by an hour at the change: the wall clock does not.
        offsets = [t.utcoffset() for t in times]
        assert offsets[0] != offsets[1] and offsets[1] == offsets[2] == offsets[3]
        gap = times[1].astimezone(UTC) - times[0].astimezone(UTC)
        assert gap == timedelta(hours=23 if change is spring else 25)


def test_berlin_spring_forward_instants() -> None:
    settings = ReminderSettings(7, 30)
    when = next_fire(settings, BERLIN, datetime(2025, 3, 29, 8, 0, tzinfo=BERLIN))
    assert when == datetime(2025, 3, 30, 5, 30, tzinfo=UTC)  # 07:30 CEST
    before = next_fire(settings, BERLIN, datetime(2025, 3, 28, 8, 0, tzinfo=BERLIN))
    assert before == datetime(2025, 3, 29, 6, 30, tzinfo=UTC)  # 07:30 CET


def test_a_time_skipped_by_spring_forward_fires_an_hour_later_that_day() -> None:
    when = next_fire(ReminderSettings(2, 30), BERLIN, datetime(2025, 3, 29, 12, tzinfo=BERLIN))
    assert when is not None and when.date() == datetime(2025, 3, 30).date()
    assert (when.hour, when.minute) == (3, 30) and when.utcoffset() == timedelta(hours=2)


def test_honours_the_days_of_the_week() -> None:
    friday_after = datetime(2025, 11, 28, 8, 0, tzinfo=BERLIN)
    weekdays = ReminderSettings(7, 30, parse_days("weekdays"))
    assert next_fire(weekdays, BERLIN, friday_after) == datetime(2025, 12, 1, 7, 30, tzinfo=BERLIN)
    mwf = ReminderSettings(18, 0, parse_days("mon,wed,fri"))
    times = fire_times(mwf, BERLIN, friday_after, 9)
    assert {t.strftime("%a") for t in times} == {"Mon", "Wed", "Fri"}
    assert times[0] == datetime(2025, 11, 28, 18, 0, tzinfo=BERLIN)  # later the same Friday
    weekend = ReminderSettings(9, 0, parse_days("weekends"))
    assert {t.weekday() for t in fire_times(weekend, NEW_YORK, friday_after, 6)} == {5, 6}


def test_off_never_fires() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert next_fire(None, BERLIN, now) is None
    assert next_fire(ReminderSettings(7, 30, enabled=False), BERLIN, now) is None


# --------------------------------------------------------------------------- the job


def make_daemon(
    done: bool = False, quiet: bool = False, clock: datetime | None = None, scheduler: Any = None
) -> tuple[ReminderDaemon, Recorder]:
    rec = Recorder()
    daemon = ReminderDaemon(
        scheduler,
        MemorySettingsStore(ReminderSettings(7, 30)),
        lambda: done,
        rec,
        zone=lambda: BERLIN,
        quiet=lambda: quiet,
        clock=lambda: clock or datetime(2025, 6, 2, 7, 30, tzinfo=BERLIN),
    )
    daemon.current = ReminderSettings(7, 30)
    return daemon, rec


def test_job_reminds_when_the_routine_is_not_done() -> None:
    daemon, rec = make_daemon(done=False)
    assert daemon.fire() is True
    assert len(rec.calls) == 1 and "hip" in rec.calls[0][1]


def remember(**values: object) -> None:
    Path(os.environ["HIPHOOK_CONFIG"]).write_text(json.dumps(values))


MINE = """
name = "mine"
title = "My short release"
[[step]]
kind = "press"
name = "Press"
instruction = "Hold."
seconds = 150
"""


def test_the_reminder_names_the_remembered_routine_and_its_length(tmp_path: Path) -> None:
    """Read when it fires: a routine picked since the service started is the one named."""
    daemon, rec = make_daemon()
    assert daemon.fire() is True  # nothing remembered: the default, daily (9:10)
    daily = load_routine("daily")
    assert rec.calls[-1][1] == (
        f"Your routine, {daily.title}, takes about 9 minutes today. Open it with: hiphook"
    )
    mine = tmp_path / "mine.toml"
    mine.write_text(MINE)
    remember(routine=str(mine))
    daemon, rec = make_daemon(clock=datetime(2025, 6, 3, 7, 30, tzinfo=BERLIN))
    assert daemon.fire() is True
    assert "My short release, takes about 3 minutes today" in rec.calls[-1][1]
    assert "10 minutes" not in rec.calls[-1][1]


def test_a_beginner_reminder_says_todays_length_in_the_progression() -> None:
    today = date(2025, 6, 2)
    beginner = load_routine("beginner")
    first, later = beginner.at_day(0).total_s, beginner.at_day(42).total_s
    assert minutes_words(first) != minutes_words(later)  # the test can tell them apart
    remember(routine="beginner", beginner_started=(today - timedelta(days=42)).isoformat())
    assert f"takes {minutes_words(later)} today" in reminder_body(today)
    remember(routine="beginner")  # not started yet: today is day one
    assert f"takes {minutes_words(first)} today" in reminder_body(today)


def test_a_missing_remembered_file_reminds_with_the_built_ins_length(tmp_path: Path) -> None:
    remember(routine=str(tmp_path / "gone.toml"))
    body = reminder_body(date(2025, 6, 2))
    assert f"{load_routine('daily').title}, takes about 9 minutes" in body


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (20, "about 1 minute"),
        (89, "about 1 minute"),
        (90, "about 2 minutes"),
        (550, "about 9 minutes"),
    ],
)
def test_minutes_in_words(seconds: float, words: str) -> None:
    assert minutes_words(seconds) == words


def test_job_stays_quiet_when_the_routine_is_done() -> None:
    daemon, rec = make_daemon(done=True)
    assert daemon.fire() is False
    assert rec.calls == []


def test_job_stays_quiet_while_the_coach_shows_it() -> None:
    daemon, rec = make_daemon(quiet=True)
    assert daemon.fire() is False and rec.calls == []


def test_job_reminds_when_the_log_cannot_be_read() -> None:
    daemon, rec = make_daemon()

    def broken() -> bool:
        raise OSError("database is locked")

    daemon.done_today = broken
    assert daemon.fire() is True and len(rec.calls) == 1


def test_a_broken_notifier_does_not_stop_the_job() -> None:
    daemon, _ = make_daemon()

    def explode(title: str, body: str) -> None:
        raise RuntimeError("no display")

    daemon.deliver = explode
    assert daemon.fire() is False


def test_the_repeated_hour_of_autumn_reminds_once() -> None:
    """02:30 happens twice on the fall-back night and apscheduler fires both."""
    settings = ReminderSettings(2, 30)
    start = datetime(2025, 10, 25, 12, tzinfo=BERLIN)
    first, second = fire_times(settings, BERLIN, start, 2)
    assert first.date() == second.date() and second - first == timedelta(0)  # same wall time
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    moments = iter([first, second])
    rec = Recorder()
    daemon = ReminderDaemon(
        None,
        MemorySettingsStore(settings),
        lambda: False,
        rec,  # type: ignore[arg-type]
        zone=lambda: BERLIN,
        clock=lambda: next(moments),
    )
    daemon.current = settings
    assert [daemon.fire(), daemon.fire()] == [True, False]
    assert len(rec.calls) == 1


# --------------------------------------------------------------------------- real scheduler


@pytest.fixture
def scheduler() -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = BackgroundScheduler(timezone=UTC_ZONE)
    sched.start(paused=True)
    yield sched
    sched.shutdown(wait=False)


def _missed_days_setup(
    scheduler: Any, late_by: timedelta, grace_s: int = MISFIRE_GRACE_S
) -> tuple[Recorder, list[int]]:
    """A daily job whose due time is `late_by` ago, with three earlier days missed too.

    Returns the deliveries and the scheduler's event codes for the job's runs.
    """
    from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    due = (datetime.now(UTC) - late_by).replace(second=0, microsecond=0)
    settings = ReminderSettings(due.hour, due.minute)
    rec = Recorder()
    daemon = ReminderDaemon(
        scheduler,
        MemorySettingsStore(settings),
        lambda: False,
        rec,
        zone=lambda: UTC_ZONE,
        misfire_grace_s=grace_s,
    )
    daemon.apply(settings)  # the production job options: coalesce, grace, fixed id
    job = scheduler.get_job(JOB_ID)
    assert job.coalesce is True and job.misfire_grace_time == grace_s
    events: list[int] = []
    done = threading.Event()

    def listen(ev: Any) -> None:
        events.append(ev.code)
        done.set()

    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    # As if the laptop slept through the last four days' reminders.
    scheduler.modify_job(JOB_ID, next_run_time=due - timedelta(days=3))
    scheduler.resume()
    assert done.wait(2.0), "the scheduler never ran the overdue job"
    time.sleep(0.3)  # time for any (wrong) further runs to show up
    return rec, events


def test_missed_days_within_the_grace_remind_exactly_once(scheduler: Any) -> None:
    from apscheduler.events import EVENT_JOB_EXECUTED

    rec, events = _missed_days_setup(scheduler, timedelta(minutes=30))
    assert len(rec.calls) == 1 and events == [EVENT_JOB_EXECUTED]
    nxt = scheduler.get_job(JOB_ID).next_run_time
    assert nxt > datetime.now(UTC)  # and the next one is back on the daily schedule


def test_missed_days_all_within_a_long_grace_still_run_once(scheduler: Any) -> None:
    """Coalescing itself: four due runs, all inside the grace, make one run, not four."""
    from apscheduler.events import EVENT_JOB_EXECUTED

    rec, events = _missed_days_setup(scheduler, timedelta(minutes=30), grace_s=5 * 86400)
    assert events == [EVENT_JOB_EXECUTED] and len(rec.calls) == 1


def test_missed_days_beyond_the_grace_do_not_remind(scheduler: Any) -> None:
    from apscheduler.events import EVENT_JOB_MISSED

    rec, events = _missed_days_setup(scheduler, timedelta(seconds=MISFIRE_GRACE_S + 3600))
    assert rec.calls == [] and events == [EVENT_JOB_MISSED]


def test_settings_changes_are_picked_up_without_a_restart(scheduler: Any) -> None:
    store = MemorySettingsStore(ReminderSettings(7, 30))
    zone = [BERLIN]
    daemon = ReminderDaemon(scheduler, store, lambda: False, Recorder(), zone=lambda: zone[0])
    daemon.start_jobs()
    job = scheduler.get_job(JOB_ID)
    assert job.next_run_time.astimezone(BERLIN).strftime("%H:%M") == "07:30"
    assert daemon.refresh() is False  # nothing changed

    store.save(ReminderSettings(18, 15, parse_days("weekdays")))
    assert daemon.refresh() is True
    job = scheduler.get_job(JOB_ID)
    local = job.next_run_time.astimezone(BERLIN)
    assert local.strftime("%H:%M") == "18:15" and local.weekday() < 5
    assert len([j for j in scheduler.get_jobs() if j.id == JOB_ID]) == 1

    zone[0] = NEW_YORK  # travelled: 18:15 now means New York's 18:15
    assert daemon.refresh() is True
    assert scheduler.get_job(JOB_ID).next_run_time.astimezone(NEW_YORK).hour == 18

    def locked() -> None:
        raise OSError("database is locked")

    store.load = locked  # type: ignore[method-assign]
    assert daemon.refresh() is False and scheduler.get_job(JOB_ID) is not None

    store.load = lambda: ReminderSettings(18, 15, parse_days("weekdays"), enabled=False)  # type: ignore[method-assign]
    assert daemon.refresh() is True
    assert scheduler.get_job(JOB_ID) is None


# --------------------------------------------------------------------------- delivery

TRICKY_TITLE = "Say \"hips\" \\ o/ $(rm -rf ~); `id` 'now'"


def test_notify_send_argv_has_no_shell() -> None:
    argv = notify.notify_command(
        TRICKY_TITLE, "-body", platform="linux", which=lambda name: f"/usr/bin/{name}"
    )
    assert argv is not None
    assert argv[0] == "/usr/bin/notify-send"
    assert argv[-3:] == ["--", TRICKY_TITLE, "-body"]  # verbatim, after the end of options


def test_osascript_argv_passes_the_text_as_arguments() -> None:
    argv = notify.notify_command(
        TRICKY_TITLE, 'body "x"', platform="darwin", which=lambda name: f"/usr/bin/{name}"
    )
    assert argv is not None and argv[0] == "/usr/bin/osascript"
    assert argv[-2:] == [TRICKY_TITLE, 'body "x"']
    script = [argv[i + 1] for i, a in enumerate(argv) if a == "-e"]
    assert script[0] == "on run argv" and script[-1] == "end run"
    assert not any("hips" in line for line in script)  # text never spliced into the script


def test_applescript_string_escapes_quotes_and_backslashes() -> None:
    assert notify.applescript_string('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert notify.applescript_string("two\nlines") == '"two lines"'


def test_delivery_runs_the_argv_without_a_shell() -> None:
    seen: list[tuple[Any, dict[str, Any]]] = []

    def run(argv: Any, **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append((argv, kw))
        return subprocess.CompletedProcess(argv, 0, "", "")

    out = io.StringIO()
    ok = notify.desktop_deliver(
        TRICKY_TITLE, "b", platform="linux", which=lambda n: f"/usr/bin/{n}", run=run, stream=out
    )
    assert ok is True and out.getvalue() == ""
    [(argv, kw)] = seen
    assert isinstance(argv, list) and kw["shell"] is False and TRICKY_TITLE in argv


@pytest.mark.parametrize("failure", ["missing", "exit1", "timeout"])
def test_a_failing_notifier_falls_back_to_the_terminal(failure: str) -> None:
    def run(argv: Any, **kw: Any) -> subprocess.CompletedProcess[str]:
        if failure == "missing":
            raise FileNotFoundError(argv[0])
        if failure == "timeout":
            raise subprocess.TimeoutExpired(argv, 10)
        return subprocess.CompletedProcess(argv, 1, "", "Cannot autolaunch D-Bus")

    out = io.StringIO()
    ok = notify.desktop_deliver(
        "hiphook", "time", platform="linux", which=lambda n: f"/usr/bin/{n}", run=run, stream=out
    )
    assert ok is False and out.getvalue() == "\ahiphook: time\n"


def test_no_notifier_means_bell_and_a_line() -> None:
    def run(*a: Any, **kw: Any) -> None:
        raise AssertionError("nothing to run")

    for platform, which in [("win32", lambda n: None), ("linux", lambda n: None)]:
        out = io.StringIO()
        assert (
            notify.desktop_deliver("t", "b", platform=platform, which=which, run=run, stream=out)
            is False
        )
        assert out.getvalue() == "\at: b\n"


def test_presence_file_tells_the_service_the_coach_is_open(tmp_path: Path) -> None:
    from app.remind import inapp

    path = tmp_path / "state" / "coach.pid"
    assert inapp.coach_is_open(path) is False
    assert inapp.mark_open(path) == path
    assert inapp.coach_is_open(path) is True
    inapp.mark_closed(path)
    assert not path.exists() and inapp.coach_is_open(path) is False
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path.write_text(dead)
    assert inapp.coach_is_open(path) is False  # a crashed coach counts as closed


# --------------------------------------------------------------------------- services

ARGV = ["/opt/my apps/hiphook", "remind", "run", "--db", "/home/r/100%.db"]


def _unit(path: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys keep case
    cp.read_string(path.read_text(encoding="utf-8"))
    return cp


def test_systemd_unit_is_what_systemd_expects(tmp_path: Path) -> None:
    result = service.install(tmp_path, argv=ARGV, platform="linux", env={})
    path = tmp_path / ".config" / "systemd" / "user" / "hiphook-remind.service"
    assert result.path == path and result.changed
    cp = _unit(path)
    assert cp.sections() == ["Unit", "Service", "Install"]
    exec_start = cp["Service"]["ExecStart"]
    words = shlex.split(exec_start.replace("%%", "%"))
    assert words == ARGV and Path(words[0]).is_absolute()
    assert "100%%.db" in exec_start  # a bare % would be a systemd specifier
    assert cp["Install"]["WantedBy"] == "default.target"
    assert "systemctl --user enable --now hiphook-remind" in result.next_steps
    assert service.install(tmp_path, argv=ARGV, platform="linux", env={}).changed is False


def test_systemd_unit_follows_xdg_config_home_and_uninstall_removes_it(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    result = service.install(
        tmp_path, argv=ARGV, platform="linux", env={"XDG_CONFIG_HOME": str(cfg)}
    )
    assert result.path == cfg / "systemd" / "user" / "hiphook-remind.service"
    wants = result.path.parent / "default.target.wants" / "hiphook-remind.service"
    wants.parent.mkdir()
    wants.symlink_to(result.path)  # what `systemctl --user enable` leaves
    gone = service.uninstall(tmp_path, platform="linux", env={"XDG_CONFIG_HOME": str(cfg)})
    assert gone.changed and not result.path.exists() and not wants.is_symlink()
    again = service.uninstall(tmp_path, platform="linux", env={"XDG_CONFIG_HOME": str(cfg)})
    assert again.changed is False


def test_launchd_plist_is_what_launchd_expects(tmp_path: Path) -> None:
    result = service.install(tmp_path, argv=ARGV, platform="darwin")
    assert result.path == tmp_path / "Library" / "LaunchAgents" / "org.hiphook.remind.plist"
    data = plistlib.loads(result.path.read_bytes())
    assert data["Label"] == "org.hiphook.remind" == result.path.stem
    assert data["ProgramArguments"] == ARGV  # a list: launchd runs it without a shell
    assert data["RunAtLoad"] is True and data["KeepAlive"] is True
    assert service.uninstall(tmp_path, platform="darwin").changed
    assert not result.path.exists()


def test_no_service_on_other_platforms(tmp_path: Path) -> None:
    with pytest.raises(service.ServiceError, match="remind run"):
        service.install(tmp_path, argv=ARGV, platform="win32")
    assert list(tmp_path.iterdir()) == []


def test_the_service_command_is_absolute() -> None:
    argv = service.program_args("/data/h.db")
    assert Path(argv[0]).is_absolute() and argv[-4:] == ["remind", "run", "--db", "/data/h.db"]
    with pytest.raises(service.ServiceError):
        service.systemd_unit(["hiphook", "remind", "run"])


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["25:00"], "00 to 23"),
        (["7pm-ish"], "HH:MM"),
        (["7:5"], "HH:MM"),
        (["07:30", "--days", "mon,funday"], "funday"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(args: list[str], words: str) -> None:
    db = Path(os.environ["HIPHOOK_DB"])
    out = hiphook("remind", "set", *args)
    assert out.returncode == 2, out
    assert words in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == "" and not db.exists()


def _run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from app.cli import main

    code = main(["remind", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_set_status_off_through_the_database(capsys: pytest.CaptureFixture[str]) -> None:
    db = Path(os.environ["HIPHOOK_DB"])
    assert _run_cli(capsys, "status")[1].startswith("Reminder: off")
    assert not db.exists()  # status creates nothing

    code, out, _ = _run_cli(capsys, "set", "7:30", "--days", "weekdays")
    assert code == 0 and "07:30 on weekdays" in out and "Next:" in out
    row = sqlite3.connect(db).execute("SELECT hour, minute, days, enabled FROM reminder").fetchall()
    assert row == [(7, 30, "mon,tue,wed,thu,fri", 1)]

    code, _, err = _run_cli(capsys, "set", "25:00")
    assert code == 2 and "25:00" in err
    code, out, _ = _run_cli(capsys, "status")
    assert code == 0 and "Reminder: 07:30 on weekdays" in out and "Next:" in out

    code, out, _ = _run_cli(capsys, "off")
    assert code == 0 and "off" in out
    assert _run_cli(capsys, "status")[1].startswith("Reminder: off")
    assert _run_cli(capsys, "off")[1].startswith("Reminder is already off")


def test_the_store_keeps_settings_in_the_reminder_table(tmp_path: Path) -> None:
    from app.remind.store import open_settings_store

    store = open_settings_store(tmp_path / "log.db")
    try:
        assert store.load() is None
        store.save(ReminderSettings(6, 5, parse_days("sat,sun")))
        store.save(ReminderSettings(6, 45, parse_days("sat,sun"), enabled=False))
        assert store.load() == ReminderSettings(6, 45, (5, 6), enabled=False)
    finally:
        store.close()
    con = sqlite3.connect(tmp_path / "log.db")
    assert con.execute("SELECT COUNT(*) FROM reminder").fetchone() == (1,)
    con.execute("UPDATE reminder SET days = 'someday'")
    con.commit()
    con.close()
    store = open_settings_store(tmp_path / "log.db")
    try:
        with pytest.raises(ScheduleError, match="set it again"):
            store.load()
    finally:
        store.close()


def test_install_command_writes_the_unit_under_xdg_config_home(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the CLI installs the platform's own service; systemd is Linux")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code, out, _ = _run_cli(capsys, "install")
    unit = tmp_path / "config" / "systemd" / "user" / "hiphook-remind.service"
    assert code == 0 and str(unit) in out and "enable --now hiphook-remind" in out
    words = shlex.split(_unit(unit)["Service"]["ExecStart"])
    assert Path(words[0]).is_absolute() and "remind" in words and "run" in words
    assert words[-2:] == ["--db", os.environ["HIPHOOK_DB"]]  # the service gets our log
    code, out, _ = _run_cli(capsys, "uninstall")
    assert code == 0 and not unit.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_remind_run_ends_cleanly(sig: signal.Signals) -> None:
    hiphook("remind", "set", "07:30")
    proc = start("remind", "run")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "reminder running: 07:30 every day" in line
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


# --------------------------------------------------------------------------- TUI hooks


def test_home_line_reads_the_reminder_without_the_database_layer(tmp_path: Path) -> None:
    from app.remind.home import next_reminder_text
    from app.remind.store import open_settings_store

    db = tmp_path / "log.db"
    assert next_reminder_text(str(db)) is None  # no log yet
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE x (a)").connection.close()
    assert next_reminder_text(str(tmp_path / "other.db")) is None  # no reminder table
    store = open_settings_store(db)
    store.save(ReminderSettings(7, 30, parse_days("weekdays")))
    now = datetime(2025, 11, 28, 8, 0, tzinfo=BERLIN)  # a Friday, after 07:30
    assert next_reminder_text(str(db), now=now, zone=BERLIN) == "Mon 01 Dec 07:30"
    thursday = datetime(2025, 11, 27, 8, 0, tzinfo=BERLIN)
    assert next_reminder_text(str(db), now=thursday, zone=BERLIN) == "tomorrow 07:30"
    store.save(ReminderSettings(7, 30, enabled=False))
    store.close()
    assert next_reminder_text(str(db), now=now, zone=BERLIN) is None


def test_in_app_reminders_run_in_the_coach_and_quiet_the_service(tmp_path: Path) -> None:
    from app.remind.inapp import InAppReminders, coach_is_open
    from app.remind.store import open_settings_store

    db, presence = tmp_path / "log.db", tmp_path / "coach.pid"
    store = open_settings_store(db)
    store.save(ReminderSettings(7, 30))
    store.close()
    rec = Recorder()
    reminders = InAppReminders(rec, db=str(db), presence=presence)
    reminders.start()
    try:
        assert coach_is_open(presence)
        assert reminders.daemon is not None and reminders.scheduler is not None
        assert reminders.scheduler.get_job(JOB_ID) is not None
        assert reminders.daemon.deliver is rec  # the coach's deliver, not the desktop's
    finally:
        reminders.stop()
    assert not coach_is_open(presence) and reminders.scheduler is None

"""A run killed with SIGKILL keeps every finished step and is found interrupted."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.core.clock import FakeClock
from app.core.engine import Engine, EventKind, run_to_end
from app.core.pressure import Verdict, VerdictKind
from app.core.routine import load_routine
from app.store.recorder import SessionRecorder
from app.store.store import open_store
from tests.support.routines import timed_routine

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env["HIPHOOK_CONFIG"] = str(tmp_path / "settings.json")
    env.pop("HIPHOOK_DB", None)
    return env


def _read_until(proc: subprocess.Popen[str], want: int, match: str, timeout: float) -> list[str]:
    """Lines from the child's stdout until `want` of them contain `match`."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while sum(match in line for line in seen) < want:
        if time.monotonic() > deadline:
            raise AssertionError(f"child too slow; output so far: {seen}")
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"child ended early: {seen} {err}")
        seen.append(line)
    return seen


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)  # reaped, so its pid is really gone
    assert proc.returncode == -signal.SIGKILL


def test_store_level_child_killed_mid_run_keeps_finished_steps(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    child = textwrap.dedent(f"""
        import sys, time
        from app.core.engine import StepRecord
        from app.store.store import open_store
        from app.store.trace import ForceTrace
        store = open_store({str(db)!r})
        sid = store.begin_session("daily", 1, "left", None, 4)
        for i in range(1000):
            trace = ForceTrace(tuple(float(i + k % 7) for k in range(400)), 80.0)
            store.record_step(sid, StepRecord(i, "press", f"step {{i}}", "left", 90.0, 90.0,
                              completed=True), "steady", 88.0, trace)
            print(f"committed {{i}}", flush=True)
            time.sleep(0.01)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", child],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=ROOT,
    )
    try:
        seen = _read_until(proc, 5, "committed", timeout=20)
    finally:
        _kill(proc)
    committed = {int(line.split()[1]) for line in seen if line.startswith("committed")}

    store = open_store(db)
    recovered = store.recover_interrupted()
    assert [r["routine"] for r in recovered] == ["daily"]
    assert recovered[0]["steps_recorded"] >= len(committed)
    [session] = store.sessions()
    assert session["status"] == "interrupted"
    saved = {s["index"] for s in session["steps"]}
    assert committed <= saved
    assert all(s["trace"] and s["trace"]["n_samples"] == 400 for s in session["steps"])
    assert store.recover_interrupted() == []  # said once
    store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def test_cli_run_killed_mid_step_keeps_finished_steps(tmp_path: Path) -> None:
    """The product path: `hiphook run --plain --json --db` killed after a few steps."""
    db = tmp_path / "run.db"
    cmd = [
        sys.executable,
        "-m",
        "app",
        "run",
        "--plain",
        "--json",
        "--routine",
        str(timed_routine(tmp_path, 6, 20)),  # half a second each at x40
        "--side",
        "left",
        "--time-scale",
        "40",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=_env(tmp_path),
        cwd=ROOT,
    )
    try:
        # The kill comes at once after the third finished line is read: the worst moment,
        # had the face printed a step before its commit (it prints after: docs/log.md).
        lines = _read_until(proc, 3, '"step_finished"', timeout=30)
    finally:
        _kill(proc)
    finished = []
    for line in lines:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if obj.get("event") == "step_finished":
            finished.append(obj["step"])
    assert len(finished) >= 3

    assert db.exists(), "the run wrote no session log"
    store = open_store(db)
    recovered = store.recover_interrupted()
    assert len(recovered) == 1
    [session] = store.sessions()
    assert session["status"] == "interrupted"
    assert set(finished) <= {s["index"] for s in session["steps"]}
    store.close()


@pytest.mark.parametrize(
    ("reason", "interrupted", "status"),
    [
        ("stopped by the user", False, "aborted"),
        ("Ctrl-C", True, "interrupted"),
        # the flag decides, never the words of the reason
        ("interrupted, the user says", False, "aborted"),
    ],
)
def test_the_abort_event_sets_the_logged_status(
    tmp_path: Path, reason: str, interrupted: bool, status: str
) -> None:
    store = open_store(tmp_path / "a.db")
    routine = load_routine("ball")
    clock = FakeClock()
    engine = Engine(routine, clock)
    rec = SessionRecorder(store, engine, routine)
    for ev in engine.start():
        rec(ev)
    clock.advance(2)
    for ev in engine.abort(reason, interrupted=interrupted):
        rec(ev)
    [s] = store.sessions()
    assert s["status"] == status == rec.status
    store.close()


def test_recorder_writes_each_step_and_closes(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    routine = load_routine("daily").for_side("right")
    clock = FakeClock()
    engine = Engine(routine, clock)
    rec = SessionRecorder(store, engine, routine, "right", None, 3)
    engine_events = engine.start()
    for ev in engine_events:
        rec(ev)
    assert rec.session_id is not None
    # Finish two steps, checking the log after each.
    for n in (1, 2):
        while True:
            deadline = engine.next_deadline()
            if deadline is None:
                evs = engine.complete_action()
            else:
                clock.advance(deadline - clock.now())
                evs = engine.poll()
            for ev in evs:
                rec(ev)
            if any(e.kind is EventKind.STEP_FINISHED for e in evs):
                break
        [s] = store.sessions()
        assert len(s["steps"]) == n and s["status"] == "in_progress"
    for ev in engine.abort("SIGHUP", interrupted=True):
        rec(ev)
    [s] = store.sessions()
    assert s["status"] == "interrupted" and s["pain_before"] == 3
    assert rec.errors == []
    store.close()


def test_recorder_full_run_is_completed_and_never_raises(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(routine, clock)
    rec = SessionRecorder(store, engine, routine, "left", "loop://", 5)
    verdict = Verdict(VerdictKind.CONFIRMED, planned_s=90.0, under_pressure_s=80.0)
    trace = ((5.0, 150.0), (5.5, 152.0), (6.0, 149.0))
    for ev in run_to_end(engine, clock.advance):
        if ev.kind is EventKind.STEP_FINISHED and ev.step == 1:  # as the sensor's judge does
            ev = dataclasses.replace(ev, verdict=verdict, trace=trace)
        rec(ev)
    rec.finish(pain_after=2, notes="ok")
    [s] = store.sessions()
    assert (s["status"], s["pain_after"], s["notes"], s["sensor"]) == (
        "completed",
        2,
        "ok",
        "loop://",
    )
    assert len(s["steps"]) == len(routine.steps)
    assert s["steps"][1]["verdict"] == "confirmed"
    assert s["steps"][1]["under_pressure_s"] == 80.0
    assert s["steps"][1]["trace"]["n_samples"] == 3
    assert s["steps"][0]["verdict"] is None
    store.close()
    # A store that fails under a running recorder is reported, not raised.
    errors: list[str] = []
    store2 = open_store(tmp_path / "other.db")
    rec2 = SessionRecorder(store2, Engine(routine, clock), routine, on_error=errors.append)
    store2.engine.dispose()
    (tmp_path / "other.db").unlink()
    (tmp_path / "other.db").mkdir()  # the file is replaced by a folder: every write fails
    for ev in Engine(routine, clock).start():
        rec2(ev)
    assert errors and rec2.errors == errors

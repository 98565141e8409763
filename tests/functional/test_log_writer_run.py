"""`hiphook run --plain --json` while another process holds the log's write lock: the
run goes on, the user is told (a `log` line) and told again when the log has caught up;
a lock that outlasts the run ends in a recovery file, exit 3, a note at the next start,
and `hiphook import` completes the session. A SIGKILL while the log waits keeps what was
written and finds the session interrupted, never completed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.session import RunOptions, SessionLog
from app.store.errors import EXIT_LOG_INCOMPLETE
from app.store.store import open_store
from tests.support.cli import hiphook
from tests.support.locker import Locker
from tests.support.routines import timed_routine

ROOT = Path(__file__).resolve().parents[2]
# Eight steps of 20 s at x40: half a second each, four in all (the lock, its word and its
# release fit in mid-run), instead of the twenty seconds of a built-in routine.
STEPS = 8
STEP_S = 20
SCALE = "40"


class Run:
    """A real `hiphook run --plain --json` child; its JSON lines read one by one."""

    def __init__(self, tmp_path: Path, db: Path):
        routine = str(timed_routine(tmp_path, STEPS, STEP_S))
        scale = SCALE
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env["HIPHOOK_CONFIG"] = str(tmp_path / "settings.json")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "run", "--plain", "--json", "--routine", routine]
            + ["--side", "left", "--time-scale", scale, "--db", str(db)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.lines: list[dict[str, Any]] = []

    def until(self, pred: Any, what: str) -> dict[str, Any]:
        """Read lines until one satisfies `pred` (the child's own pace bounds this)."""
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"the run ended before {what}: {self.lines[-5:]} {err}")
            obj = json.loads(line)
            self.lines.append(obj)
            if pred(obj):
                return obj

    def finish(self) -> tuple[int, str]:
        out, err = self.proc.communicate(timeout=60)
        self.lines += [json.loads(x) for x in out.splitlines() if x.strip()]
        return self.proc.returncode, err

    def events(self, name: str) -> list[dict[str, Any]]:
        return [x for x in self.lines if x.get("event") == name]


def _finished(n: int) -> Any:
    return lambda o: o.get("event") == "step_finished" and o.get("step") == n


def _log(state: str) -> Any:
    return lambda o: o.get("event") == "log" and o.get("state") == state


def _sessions(db: Path) -> list[dict[str, Any]]:
    store = open_store(db)
    try:
        return store.sessions()
    finally:
        store.close()


def test_a_lock_in_mid_run_is_said_and_caught_up_and_nothing_is_lost(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    run = Run(tmp_path, db)
    run.until(_finished(0), "the first step's end")
    with Locker(db) as lock:
        waiting = run.until(_log("waiting"), "a word that the log waits")
        assert waiting["reason"] == "another program is holding the file"
        # the clock went on: steps ended while the log could not take them
        run.until(lambda o: o.get("event") == "step_started" and o.get("step", 0) >= 3, "step 4")
        lock.release()
        run.until(_log("caught_up"), "a word that the log caught up")
    code, err = run.finish()
    assert code == 0, err
    assert "Traceback" not in err
    finished = {x["step"] for x in run.events("step_finished")}
    [s] = _sessions(db)
    assert s["status"] == "completed"
    assert {st["index"] for st in s["steps"]} == finished == set(range(STEPS))
    # the summary is still the last line
    assert run.lines[-1]["event"] == "summary"


def test_a_lock_past_the_end_leaves_a_recovery_file_exit_3_and_a_note(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    run = Run(tmp_path, db)
    run.until(_finished(0), "the first step's end")
    with Locker(db) as lock:
        run.until(_log("waiting"), "a word that the log waits")
        code, err = run.finish()
        lock.release()
    assert code == EXIT_LOG_INCOMPLETE, err
    assert "Traceback" not in err
    [path] = sorted(tmp_path.glob("log.db.recovery-*.json"))
    assert f"hiphook import {path}" in err
    [s] = _sessions(db)
    assert s["status"] == "in_progress"  # never "completed" with steps missing
    # the steps in the log are those printed before the log said it waits (the lock came
    # once the first was out); the others were printed once their recovery file was said
    said = run.lines.index(next(o for o in run.lines if _log("waiting")(o)))
    before = {o["step"] for o in run.lines[:said] if o.get("event") == "step_finished"}
    assert {st["index"] for st in s["steps"]} == before and 1 <= len(before) < STEPS
    saved = run.lines.index(next(o for o in run.lines if _log("saved_to_file")(o)))
    after = {o["step"] for o in run.lines[saved:] if o.get("event") == "step_finished"}
    assert before | after == set(range(STEPS))

    notes: list[str] = []
    log = SessionLog(RunOptions(db=str(db)))
    log.open(notes.append)  # what `hiphook run` and Home do at start
    log.close()
    assert any(str(path) in n and "hiphook import" in n for n in notes), notes

    out = hiphook("import", str(path), "--db", str(db), timeout=60)
    assert out.returncode == 0, out.stderr
    [s] = _sessions(db)
    finished = {x["step"] for x in run.events("step_finished")}
    assert s["status"] == "completed" and {st["index"] for st in s["steps"]} == finished
    assert len(finished) == STEPS and not path.exists()


def test_a_kill_while_the_log_waits_keeps_what_was_written_and_is_interrupted(
    tmp_path: Path,
) -> None:
    db = tmp_path / "log.db"
    run = Run(tmp_path, db)
    run.until(_finished(1), "the second step's end")
    assert _on_disk(db) >= 2, "a printed finished step is on disk"
    with Locker(db) as lock:
        run.until(_log("waiting"), "a word that the log waits")
        os.kill(run.proc.pid, signal.SIGKILL)
        run.proc.wait(timeout=10)
        lock.release()
    assert run.proc.stdout is not None
    run.lines += [json.loads(x) for x in run.proc.stdout.read().splitlines() if x.strip()]
    assert run.proc.returncode == -signal.SIGKILL
    store = open_store(db)
    try:
        [rec] = store.recover_interrupted()
        [s] = store.sessions()
    finally:
        store.close()
    assert s["status"] == "interrupted"
    # what docs/log.md says a kill loses: the steps the log was still waiting to write,
    # none of which was printed; every printed one is there
    printed = {x["step"] for x in run.events("step_finished")}
    assert {st["index"] for st in s["steps"]} == printed and rec["steps_recorded"] == len(printed)
    assert printed >= {0, 1} and len(printed) < STEPS
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()


def _on_disk(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM step").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0

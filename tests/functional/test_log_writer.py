"""The log's one writer against real SQLite files and a real second process holding the
write lock: the run's side never waits, a failed write is said and retried, nothing is
marked completed before its steps, and what the log cannot take goes to a recovery file
that `hiphook import` completes in place."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

from app.core.engine import StepRecord
from app.store.store import SessionStart, Store, open_store
from app.store.trace import ForceTrace
from app.store.writer import LogNotice, LogWriter, find_recovery_files
from tests.support.cli import hiphook
from tests.support.locker import Locker
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _record(i: int) -> StepRecord:
    return StepRecord(i, "press", f"step {i}", "left", 30.0, 30.0, completed=True)


def _trace(i: int) -> ForceTrace:
    return ForceTrace(tuple(100.0 + (k + i) % 9 for k in range(300)), 80.0)


def _read(db: Path) -> list[tuple[Any, ...]]:
    """(status, number of steps) per session, read as another program would."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(
            "SELECT status, (SELECT count(*) FROM step WHERE step.session_id = session.id) "
            "FROM session ORDER BY id"
        ).fetchall()
    finally:
        con.close()


class Heard:
    """The notices a face would get (on the writer's thread)."""

    def __init__(self) -> None:
        self.notices: list[LogNotice] = []

    def __call__(self, notice: LogNotice) -> None:
        self.notices.append(notice)

    def states(self) -> list[str]:
        return [n.state for n in self.notices]


def _writer(store: Store, heard: Heard, tmp_path: Path) -> LogWriter:
    return LogWriter(store, on_notice=heard, recovery_dirs=[tmp_path / "rescue"])


def test_a_locked_log_is_said_retried_and_caught_up_in_order(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    store = open_store(db)
    heard = Heard()
    writer = _writer(store, heard, tmp_path)
    key = writer.begin(SessionStart("daily", 1, "left", pain_before=3))
    assert writer.wait_idle(10)
    with Locker(db) as lock:
        for i in range(3):  # handed over while the file is locked: none of these waits
            writer.step(key, _record(i), "confirmed", 29.0, _trace(i))
        writer.end(key, "completed", 90.0)
        assert writer.pending() == 4, "the lock holds: nothing could be written yet"
        assert wait_for(lambda: "waiting" in heard.states())
        [waiting] = heard.notices
        assert waiting.reason == "another program is holding the file"
        assert "The run goes on" in waiting.text
        assert waiting.to_dict()["event"] == "log"
        assert wait_for(lambda: len(writer.errors) >= 3), "retried while locked"
        assert "locked" in writer.errors[0]
        # the session is not "completed" while its steps wait
        assert _read(db) == [("in_progress", 0)]
        lock.release()
        assert wait_for(lambda: "caught_up" in heard.states())
    assert heard.states() == ["waiting", "caught_up"]
    assert _read(db) == [("completed", 3)]
    assert writer.close().complete
    [s] = store.sessions()
    assert [st["trace"]["n_samples"] for st in s["steps"]] == [300] * 3
    store.close()


def test_what_the_log_cannot_take_goes_to_a_recovery_file_that_import_completes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "log.db"
    store = open_store(db)
    heard = Heard()
    writer = _writer(store, heard, tmp_path)
    key = writer.begin(SessionStart("daily", 1, "left"))
    writer.step(key, _record(0), None, None, None)
    assert writer.wait_idle(10)  # the start and the first step are in the log
    with Locker(db) as lock:
        for i in (1, 2):
            writer.step(key, _record(i), "partial", 12.5, _trace(i))
        writer.end(key, "completed", 90.0)
        writer.update(key, pain_after=2)
        outcome = writer.close(wait_s=0.5)
        lock.release()
    assert not outcome.complete and outcome.pending == 4
    [path] = [Path(p) for p in outcome.recovery_files]
    assert path.parent == tmp_path / "rescue"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"hiphook import {path}" in outcome.message
    assert heard.states() == ["waiting", "saved_to_file"]
    assert _read(db) == [("in_progress", 1)], "never marked completed without its steps"

    data = json.loads(path.read_text(encoding="utf-8"))
    result = store.import_data(data, str(path))
    assert (result.added, result.merged, result.skipped) == (0, 1, 0)
    [s] = store.sessions()
    assert s["status"] == "completed" and s["pain_after"] == 2 and s["elapsed_s"] == 90.0
    assert [st["index"] for st in s["steps"]] == [0, 1, 2]
    assert s["steps"][2]["verdict"] == "partial" and s["steps"][2]["trace"]["n_samples"] == 300
    # taken back once: the same file again changes nothing
    again = store.import_data(data, str(path))
    assert (again.added, again.merged, again.skipped) == (0, 0, 1)
    store.close()


def test_a_recovery_file_of_a_run_the_log_never_saw_is_added_whole(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    store = open_store(db)
    heard = Heard()
    with Locker(db) as lock:
        writer = _writer(store, heard, tmp_path)
        key = writer.begin(SessionStart("ball", 1, "right", pain_before=5))
        writer.step(key, _record(0), None, None, None)
        writer.end(key, "aborted", 12.0)
        outcome = writer.close(wait_s=0.3)
        lock.release()
    [path] = outcome.recovery_files
    assert _read(db) == []
    result = store.import_data(json.loads(Path(path).read_text()), path)
    assert result.added == 1
    [s] = store.sessions()
    assert (s["routine"], s["status"], s["pain_before"], len(s["steps"])) == (
        "ball",
        "aborted",
        5,
        1,
    )
    store.close()


def test_import_on_the_command_line_takes_the_file_back_and_removes_it(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    store = open_store(db)
    with Locker(db) as lock:
        writer = LogWriter(store, recovery_dirs=[tmp_path])
        key = writer.begin(SessionStart("daily", 1, "left"))
        writer.step(key, _record(0), None, None, None)
        writer.end(key, "completed", 30.0)
        outcome = writer.close(wait_s=0.3)
        lock.release()
    store.close()
    [path] = outcome.recovery_files
    assert find_recovery_files(db) == [Path(path)], "the next start finds it"
    out = hiphook("import", path, "--db", str(db), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Imported 1 session(s)" in out.stdout  # its start never reached the log
    assert not Path(path).exists() and find_recovery_files(db) == []
    assert _read(db) == [("completed", 1)]

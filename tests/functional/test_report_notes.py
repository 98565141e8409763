"""`hiphook history note ID TEXT` on a real log: shown in history, the export and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.store import stats
from app.store.store import open_store
from tests.support.cli import hiphook
from tests.support.report_fixture import build_log


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    path = tmp_path / "log.db"
    build_log(path, stats.today_in("UTC"), days=10, seed=3)
    return path


def logged(log: Path) -> list[dict[str, Any]]:
    """The log as the store reads it, in this process: each command the tests run costs
    a second of start-up, so what is only looked up is read here."""
    with open_store(str(log)) as store:
        return store.sessions(traces="data")


def test_note_appears_in_history_export_and_report(log: Path, tmp_path: Path) -> None:
    sid = logged(log)[-1]["id"]
    res = hiphook("history", "--db", str(log), "note", str(sid), "hip  tight after a long run")
    assert res.returncode == 0, res.stderr
    assert f"session #{sid}" in res.stdout
    text = hiphook("history", "--db", str(log)).stdout
    assert f"#{sid}" in text and "“hip tight after a long run”" in text
    export = json.loads(hiphook("export", "--db", str(log)).stdout)
    assert export["sessions"][-1]["notes"] == "hip tight after a long run"
    out = tmp_path / "r.html"
    assert hiphook("report", "-o", str(out), "--db", str(log)).returncode == 0
    assert "hip tight after a long run" in out.read_text(encoding="utf-8")
    # '' removes it
    assert hiphook("history", "note", str(sid), "", "--db", str(log)).returncode == 0
    assert logged(log)[-1]["notes"] == ""


def test_note_on_a_missing_session_changes_nothing(log: Path) -> None:
    before = logged(log)
    res = hiphook("history", "note", "9999", "x", "--db", str(log))
    assert res.returncode == 66
    assert "no session #9999" in res.stderr and "Traceback" not in res.stderr
    res = hiphook("history", "note", "1", "x" * 501, "--db", str(log))
    assert res.returncode == 65 and "keep it to 500" in res.stderr
    res = hiphook("history", "note", "one", "x", "--db", str(log))
    assert res.returncode == 2 and "not a session ID" in res.stderr
    assert logged(log) == before


def test_note_never_creates_a_log(tmp_path: Path) -> None:
    res = hiphook("history", "note", "1", "x", "--db", str(tmp_path / "none.db"))
    assert res.returncode == 66 and "no log at" in res.stderr
    assert not (tmp_path / "none.db").exists()

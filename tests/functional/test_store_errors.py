"""Unusable databases: a clear StoreError and exit code, and the file left byte-for-byte."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.engine import StepRecord
from app.store.errors import (
    EXIT_CONFIG,
    EXIT_DATAERR,
    EXIT_NOPERM,
    EXIT_TEMPFAIL,
    StoreError,
)
from app.store.store import open_store
from tests.support.cli import hiphook

ROOT = Path(__file__).resolve().parents[2]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _good_db(path: Path) -> Path:
    store = open_store(path)
    sid = store.begin_session("daily", 1, "left", None, 2)
    store.record_step(sid, StepRecord(0, "timed", "Get into position", "left", 30.0, 30.0))
    store.end_session(sid, "completed", 1)
    store.close()
    return path


def _expect(path: Path, code: int, words: str, **kw: int) -> StoreError:
    before = _digest(path)
    with pytest.raises(StoreError) as info:
        open_store(path, **kw)
    assert info.value.exit_code == code
    assert words in str(info.value).lower()
    assert str(path) in str(info.value) or str(path.parent) in str(info.value)
    assert _digest(path) == before
    return info.value


def _newer(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    con.commit()
    con.close()


def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    db = _good_db(tmp_path / "n.db")
    _newer(db)
    err = _expect(db, EXIT_CONFIG, "newer hiphook")
    assert "0099_from_the_future" in str(err)


def test_read_only_file_is_refused_untouched(tmp_path: Path) -> None:
    db = _good_db(tmp_path / "ro.db")
    db.chmod(0o400)
    _expect(db, EXIT_NOPERM, "read-only")


def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locked-folder"
    folder.mkdir()
    db = _good_db(folder / "x.db")
    folder.chmod(0o500)
    try:
        _expect(db, EXIT_NOPERM, "read-only")
    finally:
        folder.chmod(0o700)


def test_locked_database_is_refused_untouched(tmp_path: Path) -> None:
    db = _good_db(tmp_path / "l.db")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        _expect(db, EXIT_TEMPFAIL, "locked", busy_timeout_ms=100)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    open_store(db).close()  # fine once the other program is done


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is a shopping list, not a database\n" * 40),
        lambda p: p.write_bytes(p.read_bytes()[:100] + b"\x00garbage" * 300),
        lambda p: p.write_bytes(p.read_bytes()[:1500]),
    ],
    ids=["not-sqlite", "garbled-pages", "truncated"],
)
def test_corrupt_database_is_refused_untouched(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    db = _good_db(tmp_path / "c.db")
    damage(db)
    _expect(db, EXIT_DATAERR, "damaged")


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE recipes (name TEXT)")
    con.commit()
    con.close()
    _expect(db, EXIT_CONFIG, "not a hiphook database")


def test_bad_values_are_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "v.db")
    with pytest.raises(StoreError, match="pain_before"):
        store.begin_session("daily", 1, pain_before=11)
    sid = store.begin_session("daily", 1)
    with pytest.raises(StoreError, match="cannot end"):
        store.end_session(sid, "in_progress")
    store.close()


def _cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return hiphook(*args, env={"HIPHOOK_CONFIG": str(tmp_path / "s.json")}, cwd=ROOT, timeout=60)


def test_cli_reports_without_traceback(tmp_path: Path) -> None:
    db = _good_db(tmp_path / "n.db")
    _newer(db)
    garbage = tmp_path / "g.db"
    garbage.write_bytes(b"nope" * 100)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"format": "hiphook-export", "version": 1, "sessions": [{"uuid": 3}]}')
    cases = [
        (["history", "--db", str(db)], EXIT_CONFIG, "newer hiphook"),
        (["export", "--format", "json", "--db", str(garbage)], EXIT_DATAERR, "damaged"),
        (["import", str(bad_json), "--db", str(tmp_path / "i.db")], EXIT_DATAERR, "'uuid'"),
        (
            ["import", str(tmp_path / "missing.json"), "--db", str(tmp_path / "i.db")],
            66,
            "no such file",
        ),
    ]
    for args, code, words in cases:
        res = _cli(args, tmp_path)
        assert res.returncode == code, (args, res.stderr)
        assert words in res.stderr
        assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_history_of_a_missing_log_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "not" / "there.db"
    out = hiphook("history", "--json", "--db", str(db), timeout=60)
    assert out.returncode == 0 and json.loads(out.stdout) == {"sessions": []}
    assert not db.parent.exists()

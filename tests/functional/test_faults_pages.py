"""A damaged page is found at start-up, before a run, on real SQLite files.

Pages are damaged in place, as a failing disk or a stray tool would: the file keeps its
size and header, and one page in the middle of a table or an index is overwritten.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.engine import StepRecord
from app.store.errors import EXIT_DATAERR, StoreError
from app.store.store import open_store

MARK = "Psoas-press-marker"
ROUTINE = """
name = "tiny"
[[step]]
kind = "timed"
name = "First"
instruction = "Lie still."
seconds = 2
[[step]]
kind = "timed"
name = "Second"
instruction = "Lie still."
seconds = 2
"""


def _log(path: Path, sessions: int = 60, steps: int = 10) -> Path:
    """A real log with enough sessions that each table spans several pages."""
    store = open_store(path)
    for _ in range(sessions):
        sid = store.begin_session("daily", 1, "left", None, 2)
        for i in range(steps):
            store.record_step(sid, StepRecord(i, "timed", f"{MARK} {i}", "left", 30.0, 30.0))
        store.end_session(sid, "completed", 10)
    store.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 60-session log for the module (building it is most of each test's time)."""
    return _log(tmp_path_factory.mktemp("built") / "log.db")


@pytest.fixture
def log(built: Path, tmp_path: Path) -> Path:
    """A copy of the built log for one test to damage."""
    return Path(shutil.copy(built, tmp_path / "log.db"))


def _page_size(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:18], "big")


def _pages_holding(path: Path, needle: bytes) -> list[int]:
    data = path.read_bytes()
    size = _page_size(path)
    return [n for n in range(1, len(data) // size + 1) if needle in data[(n - 1) * size : n * size]]


def _root_pages(path: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT name, rootpage FROM sqlite_master"))
    finally:
        con.close()


def _damage(path: Path, page: int, how: str) -> None:
    size = _page_size(path)
    junk = bytes(size) if how == "zeroed" else (b"\xa5\x3c\x99" * size)[:size]
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(junk)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["zeroed", "garbage"])
@pytest.mark.parametrize("where", ["first step leaf", "last step leaf"])
def test_a_damaged_step_page_is_refused_at_open(log: Path, how: str, where: str) -> None:
    db = log
    leaves = [p for p in _pages_holding(db, MARK.encode()) if p != _root_pages(db)["step"]]
    assert len(leaves) >= 3, "the step table should span several leaf pages"
    _damage(db, leaves[0] if where.startswith("first") else leaves[-1], how)
    before = _digest(db)
    with pytest.raises(StoreError) as info:
        open_store(db)
    assert info.value.exit_code == EXIT_DATAERR
    msg = str(info.value)
    assert f"the database {db} is damaged: the pages of its 'step' table" in msg
    assert "left untouched" in msg and "--db" in msg
    assert _digest(db) == before


def test_a_damaged_index_page_is_refused_at_open(tmp_path: Path) -> None:
    """The uuid index takes each new session at a random place: its pages matter too
    (one step each: the steps play no part here)."""
    db = _log(tmp_path / "log.db", sessions=400, steps=1)
    roots = _root_pages(db)
    con = sqlite3.connect(db)
    uuid = con.execute("SELECT uuid FROM session ORDER BY id LIMIT 1 OFFSET 200").fetchone()[0]
    con.close()
    # A page holding a uuid but no other session column is an index page.
    index_pages = [
        p
        for p in _pages_holding(db, uuid.encode())
        if p not in (roots["session"], roots["sqlite_autoindex_session_1"])
        and not _pages_holding_also(db, p, b"completed")
    ]
    assert index_pages, "expected the uuid index to span more than its root page"
    _damage(db, index_pages[0], "garbage")
    with pytest.raises(StoreError) as info:
        open_store(db)
    assert info.value.exit_code == EXIT_DATAERR
    assert "'sqlite_autoindex_session_1' index" in str(info.value)


def _pages_holding_also(db: Path, page: int, needle: bytes) -> bool:
    size = _page_size(db)
    return needle in db.read_bytes()[(page - 1) * size : page * size]


def test_an_undamaged_log_passes_the_check_and_takes_a_run(log: Path) -> None:
    db = log
    open_store(db).close()  # the check itself writes nothing and finds nothing


def test_a_run_on_a_damaged_log_exits_65_before_its_first_step(log: Path, tmp_path: Path) -> None:
    db = log
    leaves = [p for p in _pages_holding(db, MARK.encode()) if p != _root_pages(db)["step"]]
    _damage(db, leaves[-1], "garbage")
    before = _digest(db)
    routine = tmp_path / "tiny.toml"
    routine.write_text(ROUTINE)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "run",
            "--plain",
            "--routine",
            str(routine),
            "--time-scale",
            "20",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == EXIT_DATAERR, out
    assert "Traceback" not in out.stderr
    assert f"the database {db} is damaged" in out.stderr
    assert "First" not in out.stdout and "Second" not in out.stdout  # no step was run
    assert _digest(db) == before

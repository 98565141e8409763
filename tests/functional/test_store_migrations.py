"""Migrations: earlier databases upgrade with nothing lost; scripts match the models."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import app
from app.store import db as store_db
from app.store.reader import load_home
from app.store.schema import known_revisions, schema_head
from app.store.store import open_store

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_schema_constants_match_the_scripts() -> None:
    script = ScriptDirectory.from_config(store_db.alembic_config())
    assert script.get_current_head() == schema_head()
    revs = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert tuple(revs) == known_revisions()
    assert revs[:2] == ["0001", "0002"]


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    store = open_store(tmp_path / "m.db")
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []
    store.close()


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("store_*.db")))
def test_earlier_revision_upgrades_with_nothing_lost(tmp_path: Path, fixture: str) -> None:
    db = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, db)
    old_rev = _rows(db, "SELECT version_num FROM alembic_version")[0][0]
    # A fixture at head (until a newer revision lands) still must open without loss.
    assert old_rev in known_revisions()
    columns = ", ".join(r[1] for r in _rows(db, "PRAGMA table_info(session)"))
    sessions_before = _rows(db, f"SELECT {columns} FROM session ORDER BY id")
    steps_before = _rows(db, "SELECT * FROM step ORDER BY id")
    assert sessions_before and steps_before
    tables = {r[0] for r in _rows(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    traces_before = _rows(db, "SELECT * FROM trace ORDER BY id") if "trace" in tables else []
    # Home reads before the store migrates: a log from before the demo flag still reads.
    home = load_home(str(db), today=dt.date(2025, 4, 1))
    assert not home.problem and dt.date(2025, 3, 29) in home.done_days

    store = open_store(db)
    assert _rows(db, "SELECT version_num FROM alembic_version") == [(schema_head(),)]
    assert _rows(db, f"SELECT {columns} FROM session ORDER BY id") == sessions_before
    assert {r[0] for r in _rows(db, "SELECT demo FROM session")} == {0}  # none was a demo
    assert load_home(str(db), today=dt.date(2025, 4, 1)).done_days == home.done_days
    assert _rows(db, "SELECT * FROM step ORDER BY id") == steps_before
    if traces_before:
        assert _rows(db, "SELECT * FROM trace ORDER BY id") == traces_before
        [(info, trace)] = store.session_traces(1)
        assert info["name"] == "Psoas press" and len(trace.values) == 800
    # ...and the API reads them as before, and can write traces now.
    out = store.sessions()
    assert [s["uuid"][-4:] for s in out] == ["0001", "0002", "0003"]
    assert out[0]["local_day"] == "2025-03-29" and out[0]["pain_after"] == 4
    assert [st["name"] for st in out[0]["steps"]] == ["Get into position", "Psoas press", "Lever"]
    assert _rows(db, "PRAGMA foreign_key_check") == []
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    store.close()


def test_upgrade_is_atomic_when_a_revision_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing migration leaves the old schema and data as they were."""
    db = tmp_path / "a.db"
    shutil.copy(FIXTURES / "store_0001.db", db)
    before = _rows(db, "SELECT * FROM session ORDER BY id")
    from alembic import op

    real = op.create_table

    def boom(*a: object, **k: object) -> None:
        real(*a, **k)  # type: ignore[arg-type]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(op, "create_table", boom)
    with pytest.raises(RuntimeError):
        open_store(db)
    assert _rows(db, "SELECT version_num FROM alembic_version") == [("0001",)]
    tables = {r[0] for r in _rows(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "trace" not in tables
    assert _rows(db, "SELECT * FROM session ORDER BY id") == before


def test_migrations_found_in_an_installed_wheel_layout_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "site" / "app"
    shutil.copytree(Path(store_db.migrations_dir()), pkg / "_migrations")
    (pkg / "__init__.py").write_text("")
    monkeypatch.setattr(app, "__file__", str(pkg / "__init__.py"))
    assert store_db.migrations_dir() == (pkg / "_migrations").resolve()
    store = open_store(tmp_path / "w.db")  # and it migrates from there
    assert _rows(tmp_path / "w.db", "SELECT version_num FROM alembic_version") == [(schema_head(),)]
    store.close()


def test_new_database_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "new" / "deeper" / "log.db"
    open_store(db).close()
    assert db.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    assert _rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_pragmas_on_every_connection(tmp_path: Path) -> None:
    store = open_store(tmp_path / "p.db", busy_timeout_ms=1234)
    with store.engine.connect() as conn:
        got = {
            p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
            for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert got == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 1234}
    store.close()

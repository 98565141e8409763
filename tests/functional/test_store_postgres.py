"""The session log on a real PostgreSQL server: the same commands and guarantees as SQLite.

Each test gets its own empty database on the server that `.ci/run` starts
(HIPHOOK_TEST_POSTGRES_URL), so no test sees another's rows. Without a server the tests
skip saying why; with CI=true they fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Boolean, DateTime, MetaData, create_engine, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.core.engine import StepRecord
from app.store.db import server_url, upgrade
from app.store.errors import (
    EXIT_CANTCREAT,
    EXIT_CONFIG,
    EXIT_NOPERM,
    EXIT_TEMPFAIL,
    StoreError,
)
from app.store.schema import schema_head
from app.store.store import open_store
from app.store.trace import ForceTrace
from tests.support import postgres
from tests.support.cli import hiphook

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty database of its own on the test server, dropped afterwards."""
    yield from postgres.fresh_database()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return hiphook(*args, env=env, cwd=ROOT, timeout=120)


def _tables(url: str) -> set[str]:
    engine = create_engine(server_url(url))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _one_line_error(res: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert res.returncode == code, (res.returncode, res.stderr)
    assert words in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1, res.stderr


# --------------------------------------------------------------------------- schema


def test_an_empty_server_database_is_migrated_on_first_use(pg_url: str) -> None:
    with open_store(pg_url) as store:
        assert store.engine.dialect.driver == "psycopg"
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (schema_head(),)
            ]
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, SQLModel.metadata) == []
    with open_store(pg_url) as again:  # a second open finds it at head, changes nothing
        assert again.sessions() == []


def _copy_rows(sqlite_file: Path, url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the fixture's tables, written into the server database as they are."""
    src = create_engine(f"sqlite:///{sqlite_file}")
    dst = create_engine(server_url(url))
    copied: dict[str, list[dict[str, Any]]] = {}
    try:
        smeta, dmeta = MetaData(), MetaData()
        smeta.reflect(src)
        dmeta.reflect(dst)
        with src.connect() as s, dst.begin() as d:
            for name in ("session", "step", "trace", "reminder"):
                if name not in smeta.tables:
                    continue
                table = dmeta.tables[name]
                rows = [dict(r._mapping) for r in s.execute(select(smeta.tables[name]))]
                for row in rows:  # SQLite keeps booleans as 0/1 and moments as UTC text
                    for col in table.columns:
                        value = row.get(col.name)
                        if isinstance(col.type, Boolean) and value is not None:
                            row[col.name] = bool(value)
                        elif isinstance(col.type, DateTime) and isinstance(value, str):
                            row[col.name] = datetime.fromisoformat(value).replace(tzinfo=UTC)
                if rows:
                    d.execute(insert(table), rows)
                    d.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :n)"),
                        {"n": max(r["id"] for r in rows)},
                    )
                copied[name] = rows
    finally:
        src.dispose()
        dst.dispose()
    return copied


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("store_*.db")))
def test_an_earlier_revision_upgrades_on_the_server_with_nothing_lost(
    pg_url: str, fixture: str
) -> None:
    rev = fixture.removeprefix("store_").removesuffix(".db")
    engine = create_engine(server_url(pg_url))
    upgrade(engine, "the test database", revision=rev)
    engine.dispose()
    before = _copy_rows(FIXTURES / fixture, pg_url)
    assert before["session"] and before["step"]

    with open_store(pg_url) as store:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                schema_head()
            )
            for name, rows in before.items():
                cols = ", ".join(f'"{c}"' for c in rows[0]) if rows else "id"
                after = [
                    dict(r._mapping)
                    for r in conn.execute(text(f'SELECT {cols} FROM "{name}" ORDER BY id'))
                ]
                assert [_plain(r) for r in after] == [_plain(r) for r in rows], name
        sessions = store.sessions()
        assert len(sessions) == len(before["session"])
        # The sequences still hand out new ids after the upgrade.
        sid = store.begin_session("daily", 1, "left", None, 4)
        assert sid > max(r["id"] for r in before["session"])


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its moments as naive UTC datetimes, so both engines' rows compare."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            value = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        elif isinstance(value, memoryview):
            value = bytes(value)
        out[key] = value
    return out


# --------------------------------------------------------------------------- commands


def test_history_leaves_an_empty_server_database_as_it_finds_a_missing_file(
    pg_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "none" / "log.db"
    # The test server trusts local logins, so a password in the URL is only to be hidden.
    user = make_url(pg_url).username or "hiphook"
    with_password = postgres.with_login(pg_url, user, "s3cret-word")
    for args in (["--json"], ["--csv"], []):
        on_server = _cli("history", *args, "--db", with_password)
        on_file = _cli("history", *args, "--db", str(missing))
        assert on_server.returncode == on_file.returncode == 0, on_server.stderr
        if args:
            assert on_server.stdout == on_file.stdout
        else:
            assert on_server.stdout.startswith("No sessions yet (the server database ")
            assert "***@" in on_server.stdout and "s3cret-word" not in on_server.stdout
    assert _tables(pg_url) == set(), "a reading command created tables"
    assert not missing.parent.exists()


def test_a_run_history_export_import_and_report_on_the_server(pg_url: str, tmp_path: Path) -> None:
    # A server set to a far zone (UTC+14) must not move the moments or the day logged.
    with postgres.admin(pg_url) as con:
        con.execute(f"ALTER DATABASE \"{make_url(pg_url).database}\" SET timezone = 'Etc/GMT-14'")
    before = datetime.now(UTC)
    run = _cli(
        "run",
        "--plain",
        "--json",
        "--routine",
        "beginner",
        "--side",
        "left",
        "--time-scale",
        "400",
        "--cues",
        "none",
        "--db",
        pg_url,
    )
    assert run.returncode == 0, run.stderr
    finished = [
        json.loads(line)["step"]
        for line in run.stdout.splitlines()
        if line.startswith("{") and json.loads(line).get("event") == "step_finished"
    ]
    assert finished

    # The environment variable names the log as --db does.
    hist = _cli("history", "--json", env={"HIPHOOK_DB": pg_url})
    assert hist.returncode == 0, hist.stderr
    [session] = json.loads(hist.stdout)["sessions"]
    assert (session["routine"], session["status"], session["side"]) == (
        "beginner",
        "completed",
        "left",
    )
    assert session["demo"] is True
    started = datetime.fromisoformat(session["started_utc"])
    assert before - timedelta(seconds=1) <= started <= datetime.now(UTC)
    assert session["local_day"] == started.date().isoformat()  # TZ=UTC for the commands
    assert [s["index"] for s in session["steps"]] == finished
    text_hist = _cli("history", "--db", pg_url)
    assert text_hist.returncode == 0 and "beginner (left tight)  completed" in text_hist.stdout

    exported = tmp_path / "export.json"
    res = _cli("export", "--db", pg_url, "-o", str(exported))
    assert res.returncode == 0, res.stderr
    # Into SQLite and back onto a second server database: nothing lost either way.
    to_file = tmp_path / "copy.db"
    assert _cli("import", "--db", str(to_file), str(exported)).returncode == 0
    again = tmp_path / "again.json"
    assert _cli("export", "--db", str(to_file), "-o", str(again)).returncode == 0
    assert json.loads(again.read_text()) == json.loads(exported.read_text())
    res = _cli("import", "--db", pg_url, str(again))
    assert res.returncode == 0 and "Imported 0 session(s); 1 were already" in res.stdout

    report = tmp_path / "report.html"
    res = _cli("report", "--db", pg_url, "-o", str(report))
    assert res.returncode == 0, res.stderr
    assert "1 session(s) in the log" in res.stderr and report.read_text().startswith("<!")


def test_a_recorded_session_round_trips_between_two_servers_databases(pg_url: str) -> None:
    from tests.support.postgres import fresh_database

    second = fresh_database()
    other = next(second)
    try:
        a = open_store(pg_url)
        sid = a.begin_session("daily", 3, "right", "socket://localhost:7777", 6)
        trace = ForceTrace(tuple(100 + (i % 37) * 0.5 for i in range(7200)), 80.0)
        a.record_step(
            sid,
            StepRecord(1, "press", "Psoas press", "right", 90, 89.5, 0, False, True),
            "steady",
            84.25,
            trace,
        )
        a.end_session(sid, "completed", 3, "felt good")
        exported = a.export_data()
        b = open_store(other)
        assert b.import_data(json.loads(json.dumps(exported))).added == 1
        assert b.export_data() == exported
        [(info, back)] = b.session_traces(b.sessions()[0]["id"])
        assert info["verdict"] == "steady" and back.values == trace.quantized().values
        a.close()
        b.close()
    finally:
        second.close()


# --------------------------------------------------------------------------- faults


def test_a_run_killed_mid_way_keeps_its_finished_steps_on_the_server(pg_url: str) -> None:
    child = textwrap.dedent(f"""
        import time
        from app.core.engine import StepRecord
        from app.store.store import open_store
        store = open_store({pg_url!r})
        sid = store.begin_session("daily", 1, "left", None, 4)
        for i in range(1000):
            store.record_step(sid, StepRecord(i, "press", f"step {{i}}", "left", 90.0, 90.0,
                              completed=True), "steady", 88.0, None)
            print(f"committed {{i}}", flush=True)
            time.sleep(0.01)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", child],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    committed: set[int] = set()
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while len(committed) < 5:
            assert time.monotonic() < deadline, "the child wrote too slowly"
            line = proc.stdout.readline()
            assert line, f"the child ended early: {proc.stderr.read() if proc.stderr else ''}"
            if line.startswith("committed"):
                committed.add(int(line.split()[1]))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    with open_store(pg_url) as store:
        [recovered] = store.recover_interrupted()
        assert recovered["routine"] == "daily" and recovered["steps_recorded"] >= len(committed)
        [session] = store.sessions()
        assert session["status"] == "interrupted"
        assert committed <= {s["index"] for s in session["steps"]}
        assert store.recover_interrupted() == []  # said once


def test_a_table_locked_by_another_client_is_reported_not_waited_on(pg_url: str) -> None:
    with open_store(pg_url) as store:
        sid = store.begin_session("daily", 1, "left", None, 4)
    holder = postgres.admin(pg_url)
    try:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE session IN ACCESS EXCLUSIVE MODE")
        store = open_store(pg_url, busy_timeout_ms=200)
        try:
            started = time.monotonic()
            with pytest.raises(StoreError) as err:
                store.sessions()
            assert time.monotonic() - started < 30  # bounded by the timeout, not a hang
            assert err.value.exit_code == EXIT_TEMPFAIL
            assert "locked by another client" in str(err.value)
            with pytest.raises(StoreError) as err:
                store.end_session(sid, "completed", None, None)
            assert err.value.exit_code == EXIT_TEMPFAIL
        finally:
            store.close()
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    with open_store(pg_url) as store:  # nothing was lost or half-written
        [session] = store.sessions()
        assert session["status"] == "in_progress"


def test_a_server_that_is_down_is_a_message(tmp_path: Path) -> None:
    import socket

    postgres.server_url()  # the same skip (or failure in CI) as the other tests
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://hiphook:secret@127.0.0.1:{port}/hiphook"
    for args in (["history"], ["export"], ["run", "--plain", "--cues", "none", "--side", "left"]):
        res = _cli(*args, "--db", url)
        _one_line_error(res, EXIT_TEMPFAIL, "cannot reach the database server")
        assert "secret" not in res.stderr and "hiphook:***@" in res.stderr


def test_a_missing_database_is_a_message(pg_url: str) -> None:
    url = postgres.url_for(pg_url, f"hiphook_absent_{uuid.uuid4().hex[:8]}")
    _one_line_error(_cli("history", "--db", url), EXIT_CANTCREAT, "createdb")


def test_a_wrong_password_is_a_message(pg_url: str) -> None:
    with postgres.password_role(pg_url) as (user, password):
        good = postgres.with_login(pg_url, user, password)
        assert _cli("history", "--json", "--db", good).returncode == 0
        bad = postgres.with_login(pg_url, user, password + "-wrong")
        res = _cli("history", "--db", bad)
        _one_line_error(res, EXIT_NOPERM, "the server refused the login")
        assert "password authentication failed" in res.stderr
        assert password not in res.stderr


def test_without_the_driver_the_message_names_the_extra(pg_url: str) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; from app.cli import main; "
        f"sys.exit(main(['history', '--db', {pg_url!r}]))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    _one_line_error(res, EXIT_CONFIG, "pip install 'hiphook[postgres]'")

"""A sensor that cannot be opened is kept with the run in the log, not only said on screen.

Real runs (`hiphook run --plain`) against a port nothing listens on, logged to a real
SQLite file and to a real PostgreSQL server; then `history --json`, `history show` and
an export/import round trip read it back.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.transfer import validate_export
from tests.support import postgres
from tests.support.cli import hiphook

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return hiphook(*args, timeout=120)


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgres.fresh_database()


def _run_with_unopenable_sensor(db: str) -> str:
    """A whole run whose sensor is a port nobody listens on; returns that port's URL."""
    url = f"socket://127.0.0.1:{_closed_port()}"
    run = _cli(
        "run", "--plain", "--routine", "beginner", "--side", "left", "--time-scale", "300",
        "--cues", "none", "--sensor", url, "--db", db,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Cannot open the sensor at {url}" in run.stdout + run.stderr  # said, as before
    return url


def _check_logged(db: str, url: str, *, show: bool = True) -> dict[str, object]:
    hist = _cli("history", "--json", "--db", db)
    assert hist.returncode == 0, hist.stderr
    [session] = json.loads(hist.stdout)["sessions"]
    assert session["sensor"] == url and session["status"] == "completed"
    notice = str(session["sensor_notice"])
    assert f"Cannot open the sensor at {url}: nothing is listening" in notice
    if not show:
        return session
    shown = _cli("history", "show", str(session["id"]), "--db", db)
    assert shown.returncode == 0, shown.stderr
    assert f"  Sensor: Cannot open the sensor at {url}: nothing is listening" in shown.stdout
    return session


def test_an_unopenable_sensor_is_in_the_sqlite_log_and_survives_export(tmp_path: Path) -> None:
    db = str(tmp_path / "log.db")
    url = _run_with_unopenable_sensor(db)
    session = _check_logged(db, url)
    exported = tmp_path / "export.json"
    assert _cli("export", "--db", db, "-o", str(exported)).returncode == 0
    [again] = validate_export(json.loads(exported.read_text()), "export.json")  # as import reads
    assert again["sensor_notice"] == session["sensor_notice"]


def test_an_unopenable_sensor_is_in_the_log_on_a_postgresql_server(pg_url: str) -> None:
    url = _run_with_unopenable_sensor(pg_url)
    _check_logged(pg_url, url, show=False)  # `history show` reads the same dict (SQLite above)

"""`hiphook run --sensor VALUE`: a malformed value is refused before the run starts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("ttyACM0", "is not a path"),
        ("", "--sensor is empty"),
        ("socket://nohost", "needs HOST:PORT"),
        ("kazoo://x", "unknown URL scheme"),
    ],
)
def test_a_malformed_sensor_is_refused_with_what_was_expected(
    value: str, said: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "run",
            "--plain",
            "--side",
            "left",
            "--cues",
            "none",
            "--sensor",
            value,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # no step ran
    log = tmp_path / "hiphook.db"  # the test's HIPHOOK_DB (tests/conftest.py)
    if log.exists():  # the log may be opened first, but no session may begin
        with sqlite3.connect(log) as db:
            assert db.execute("SELECT count(*) FROM session").fetchone() == (0,)

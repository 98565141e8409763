"""One zone source: the session log and `remind set` read the machine's zone the same way.

Each case runs in its own process with TZ set, since tzlocal caches its answer per process.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.cli import hiphook

CASES = [
    ("Japan", "Japan"),
    ("CET", "CET"),
    ("EST5EDT", "EST5EDT"),
    ("/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo"),
    (":/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo"),
]


def _hiphook(tz: str, *args: str) -> subprocess.CompletedProcess[str]:
    return hiphook(*args, timeout=60, env={"TZ": tz})


@pytest.mark.parametrize(("tz", "name"), CASES, ids=[c[0] for c in CASES])
def test_a_session_is_logged_in_the_zone_remind_names(tz: str, name: str) -> None:
    if tz.lstrip(":").startswith("/") and not Path(tz.lstrip(":")).exists():
        pytest.skip("this machine has no zoneinfo database at /usr/share/zoneinfo")
    db = Path(os.environ["HIPHOOK_DB"])
    run = _hiphook(
        tz,
        "run",
        "--plain",
        "--json",
        "--routine",
        "daily",
        "--side",
        "right",
        "--time-scale",
        "10000",
        "--db",
        str(db),
    )
    assert run.returncode == 0, run.stderr
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT tz, utc_offset_min, started_utc, local_day FROM session"
        ).fetchall()
    assert len(rows) == 1, rows
    logged, offset, started, day = rows[0]
    assert logged == name
    start = datetime.fromisoformat(started).replace(tzinfo=UTC)
    local = start.astimezone(ZoneInfo(name))
    assert offset == (local.utcoffset() or timedelta(0)).total_seconds() // 60
    assert day == local.date().isoformat()

    remind = _hiphook(tz, "remind", "set", "07:30", "--db", str(db))
    assert remind.returncode == 0, remind.stderr
    assert f"({name})" in remind.stdout, remind.stdout

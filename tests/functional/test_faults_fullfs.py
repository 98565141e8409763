"""A full file system, for real: a small tmpfs in a private mount namespace, filled up.

Covers what writes files outside a run: export, import into the log, and the login
service. Each must say the disk is full, exit with its documented code, leave no half
file behind, and lose nothing already stored. Needs `unshare -m` and `mount` (root, as
in CI); elsewhere the tests skip, saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.store.errors import EXIT_IOERR
from tests.support.fullfs import can_mount_tmpfs, on_full_disk

_WHY = can_mount_tmpfs()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=str(_WHY))
_on_full_disk = on_full_disk


def _export_with_sessions(tmp_path: Path, n: int, name: str) -> Path:
    """A real JSON export holding n sessions, each with a force trace."""
    from app.core.engine import StepRecord
    from app.store.store import open_store
    from app.store.trace import ForceTrace

    db = tmp_path / f"{name}.db"
    store = open_store(db)
    for _ in range(n):
        sid = store.begin_session("daily", 1, "left", None, 2)
        trace = ForceTrace(tuple(100 + (i % 37) * 0.7 for i in range(7200)), 80.0)
        store.record_step(
            sid, StepRecord(0, "press", "Psoas press", "left", 90.0, 90.0), trace=trace
        )
        store.end_session(sid, "completed", 1)
    data = store.export_data()
    store.close()
    out = tmp_path / f"{name}.json"
    out.write_text(json.dumps(data))
    return out


def test_export_to_a_full_disk_says_so_and_leaves_no_half_file(tmp_path: Path) -> None:
    _export_with_sessions(tmp_path, 3, "hiphook")  # the log HIPHOOK_DB names
    out, files = _on_full_disk(tmp_path, '"$PY" -m app export -o "$FULL/x.json"')
    assert out.returncode == EXIT_IOERR, out
    assert f"cannot write {tmp_path / 'full' / 'x.json'}: the disk is full" in out.stderr
    assert files == []


def test_remind_install_on_a_full_disk_says_so_and_leaves_no_half_unit(tmp_path: Path) -> None:
    out, files = _on_full_disk(
        tmp_path,
        '"$PY" -m app remind install',
        before='mkdir -p "$FULL/cfg/systemd/user"',
        env={"XDG_CONFIG_HOME": str(tmp_path / "full" / "cfg")},
    )
    assert out.returncode == 1, out
    assert "hiphook-remind.service: the disk is full" in out.stderr
    assert files == []


def test_import_into_a_log_on_a_full_disk_keeps_what_the_log_held(tmp_path: Path) -> None:
    first = _export_with_sessions(tmp_path, 1, "first")
    more = _export_with_sessions(tmp_path, 40, "more")
    count = (
        '"$PY" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); '
        "print('sessions', c.execute('select count(*) from session').fetchone()[0], "
        'c.execute(\'pragma integrity_check\').fetchone()[0])" "$FULL/log.db"'
    )
    out, files = _on_full_disk(
        tmp_path,
        f'"$PY" -m app import "{more}"',
        size_k=2048,
        before=f'"$PY" -m app import "{first}"',
        after=count,
        env={"HIPHOOK_DB": str(tmp_path / "full" / "log.db")},
    )
    assert out.returncode == EXIT_IOERR, out
    assert "cannot be written" in out.stderr
    assert "sessions 1 ok" in out.stdout  # the first import is intact, none half-added
    assert "log.db" in files

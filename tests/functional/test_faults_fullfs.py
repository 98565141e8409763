"""A full file system, for real: a small tmpfs in a private mount namespace, filled up.

Covers what writes files outside a run: export, import into the log, and the login
service. Each must say the disk is full, exit with its documented code, leave no half
file behind, and lose nothing already stored. Needs `unshare -m` and `mount` (root, as
in CI); elsewhere the tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.store.errors import EXIT_IOERR

SCRIPT = r"""
set -e
mount -t tmpfs -o size={size}k tmpfs "$FULL"
{before}
dd if=/dev/zero of="$FULL/filler" bs=1024 2>/dev/null || true
set +e
{command}
rc=$?
rm -f "$FULL/filler"
{after}
find "$FULL" -type f | sort > "$LISTING"
exit $rc
"""


def _can_mount_tmpfs() -> str | None:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount is not installed"
    try:
        probe = subprocess.run(
            ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except OSError as exc:
        return f"unshare cannot run: {exc}"
    if probe.returncode != 0:
        return f"no private tmpfs here (needs root or CAP_SYS_ADMIN): {probe.stderr.strip()}"
    return None


_WHY = _can_mount_tmpfs()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=str(_WHY))


def _on_full_disk(
    tmp_path: Path,
    command: str,
    *,
    size_k: int = 512,
    before: str = "",
    after: str = "",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run shell `command` with $FULL a full tmpfs; also the files left on it."""
    full = tmp_path / "full"
    full.mkdir()
    listing = tmp_path / "listing.txt"
    script = SCRIPT.format(size=size_k, before=before, command=command, after=after)
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "FULL": str(full),
            "LISTING": str(listing),
            "PY": sys.executable,
            "HOME": str(tmp_path / "home"),
            **(env or {}),
        },
    )
    files = [str(Path(line).relative_to(full)) for line in listing.read_text().split()]
    assert "Traceback" not in out.stderr, out.stderr
    return out, files


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

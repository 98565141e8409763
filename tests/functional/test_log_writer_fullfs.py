"""The disk under the log fills in mid-run, for real (a small tmpfs in a private mount
namespace; root, as in CI): the run goes on, the user is told, the steps the log could
not take are in a recovery file in the data folder, the exit code says so, and
`hiphook import` completes the session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.store.errors import EXIT_LOG_INCOMPLETE
from app.store.store import open_store
from tests.support.cli import hiphook
from tests.support.fullfs import can_mount_tmpfs, on_full_disk
from tests.support.routines import timed_routine

_WHY = can_mount_tmpfs()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=str(_WHY))
ROOT = Path(__file__).resolve().parents[2]
STEPS = 6  # of 20 s at x40: half a second each, so the disk fills in mid-run


def test_a_disk_full_in_mid_run_ends_in_a_recovery_file_and_exit_3(tmp_path: Path) -> None:
    out_file, err_file, keep = tmp_path / "out.jsonl", tmp_path / "err.txt", tmp_path / "keep"
    keep.mkdir()
    routine = timed_routine(tmp_path, STEPS, 20)
    before = (
        f'"$PY" -m app run --plain --json --routine "{routine}" --side left --time-scale 40 '
        f'--db "$FULL/log.db" > "{out_file}" 2> "{err_file}" < /dev/null & PID=$!\n'
        # the disk fills once the first step is out (a bounded wait for that state)
        f'n=0; until grep -q step_finished "{out_file}" || [ $n -gt 1200 ]; do '
        "n=$((n+1)); sleep 0.05; done"
    )
    out, _files = on_full_disk(
        tmp_path,
        "wait $PID",
        size_k=2048,
        before=before,
        after=f'cp "$FULL"/log.db* "{keep}"/',
        env={"PYTHONPATH": str(ROOT)},
    )
    err = err_file.read_text()
    assert "Traceback" not in err
    assert out.returncode == EXIT_LOG_INCOMPLETE, (out, err)
    lines = [json.loads(x) for x in out_file.read_text().splitlines()]
    finished = {x["step"] for x in lines if x.get("event") == "step_finished"}
    assert finished == set(range(STEPS)), "the run went on to its end"
    waiting, saved = [x for x in lines if x.get("event") == "log"]
    assert waiting["state"] == "waiting"
    assert waiting["reason"] == "the disk is full or cannot be written"
    # the log's own folder is full: the recovery file went to the data folder
    data = Path(os.environ["XDG_DATA_HOME"]) / "hiphook"
    [path] = sorted(data.glob("log.db.recovery-*.json"))
    assert f"hiphook import {path}" in err
    assert saved["state"] == "saved_to_file" and saved["path"] == str(path)

    db = keep / "log.db"
    with open_store(db) as store:
        [s] = store.sessions()
        assert s["status"] == "in_progress"  # never "completed" with steps missing
        in_log = {st["index"] for st in s["steps"]}
        assert len(in_log) < STEPS
    # a finished line is printed once its step is safe: in the log, or else only after
    # the recovery file that holds it was said
    said_at = lines.index(saved)
    for i, x in enumerate(lines):
        if x.get("event") == "step_finished" and x["step"] not in in_log:
            assert i > said_at, (x, saved)
    imported = hiphook("import", str(path), "--db", str(db), timeout=60)
    assert imported.returncode == 0, imported.stderr
    with open_store(db) as store:
        [s] = store.sessions()
    assert s["status"] == "completed" and {st["index"] for st in s["steps"]} == finished

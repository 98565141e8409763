from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from app.core.routine import (
    RoutineError,
    StepKind,
    builtin_names,
    load_routine,
    parse_routine,
)
from tests.support.cli import hiphook


def test_builtins_load() -> None:
    assert set(builtin_names()) >= {"daily", "beginner", "ball"}
    for name in builtin_names():
        r = load_routine(name)
        assert r.steps and r.total_s > 0
        assert all(s.instruction and s.howto for s in r.steps)


def test_daily_shape() -> None:
    r = load_routine("daily").for_side("right")
    kinds = [(s.kind, s.name, s.side) for s in r.steps]
    # release on both hips, tight side first
    for side in ("right", "left"):
        hip = [k for k in kinds if k[2] == side and k[1] != "Realignment"]
        assert [k[0] for k in hip] == [
            StepKind.TIMED,
            StepKind.PRESS,
            StepKind.ACTION,
            StepKind.PRESS,
        ]
    presses = [s for s in r.steps if s.kind is StepKind.PRESS]
    assert [s.seconds for s in presses] == [90, 90, 90, 90]
    realign = [s for s in r.steps if s.kind is StepKind.HOLDS]
    assert len(realign) == 1 and realign[0].side == "right"
    assert (realign[0].reps, realign[0].push_s, realign[0].relax_s) == (10, 2, 3)
    calves = r.steps[-1]
    assert calves.kind is StepKind.REPS and calves.reps == 10
    assert 8 * 60 <= r.total_s <= 11 * 60


def test_beginner_progression_grows_to_90() -> None:
    r = load_routine("beginner")
    assert r.progression is not None
    secs = [
        next(s.seconds for s in r.at_day(d).steps if s.kind is StepKind.PRESS)
        for d in (0, 6, 7, 14, 21, 28, 70)
    ]
    assert secs == [30, 30, 45, 60, 75, 90, 90]


def test_ball_has_no_lever_or_iliacus() -> None:
    r = load_routine("ball")
    assert not any(s.kind is StepKind.ACTION for s in r.steps)
    assert not any("Iliacus" in s.name for s in r.steps)
    assert any(s.kind is StepKind.PRESS for s in r.steps)


def test_for_side_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        load_routine("daily").for_side("middle")


GOOD = """
name = "mine"
[[step]]
kind = "press"
name = "Press"
instruction = "Hold."
seconds = 60
"""


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("name = 'x'\n[[step]\n", "not valid TOML"),
        ("title = 'no name'\n" + GOOD.split("\n", 2)[2], "'name'"),
        (GOOD.replace('"press"', '"squat"'), "'kind' = 'squat'"),
        (GOOD.replace("seconds = 60", "seconds = -5"), "'seconds' = -5 is out of range"),
        (GOOD.replace("seconds = 60", "seconds = 'long'"), "'seconds' must be a number"),
        (GOOD.replace("seconds = 60", ""), "needs 'seconds'"),
        (GOOD.replace("seconds = 60", "seconds = 60\nsecs = 3"), "unknown key 'secs'"),
        (GOOD.replace('instruction = "Hold."\n', ""), "'instruction' is missing"),
        ('name = "mine"\n', "no steps"),
        (
            GOOD + '[[step]]\nkind = "holds"\nname = "H"\ninstruction = "i"\nreps = 3\n',
            "needs 'push_s' and 'relax_s'",
        ),
        (
            GOOD + '[[step]]\nkind = "reps"\nname = "R"\ninstruction = "i"\nreps = 0\n'
            "up_s = 1\ndown_s = 1\n",
            "'reps' = 0",
        ),
        (
            GOOD + '[[step]]\nkind = "reps"\nname = "R"\ninstruction = "i"\nreps = 2\n'
            "push_s = 1\nrelax_s = 1\n",
            "'push_s' does not apply",
        ),
    ],
)
def test_bad_files_name_the_fault(text: str, expect: str) -> None:
    with pytest.raises(RoutineError) as info:
        parse_routine(text, source="my.toml")
    msg = str(info.value)
    assert msg.startswith("my.toml")
    assert expect in msg


def test_error_names_the_line_of_the_step() -> None:
    bad = GOOD + '\n[[step]]\nkind = "timed"\nname = "T"\ninstruction = "i"\nseconds = 0\n'
    with pytest.raises(RoutineError) as info:
        parse_routine(bad, source="f.toml")
    line = bad.splitlines().index("[[step]]", 3) + 1
    assert f"step 2 (line {line})" in str(info.value)


def _hiphook(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return hiphook(*args, cwd=cwd, timeout=60)


def test_cli_refuses_bad_file_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(GOOD.replace("seconds = 60", "seconds = nan"))
    for args in (["routine", "show", str(f)], ["run", "--plain", "--routine", str(f)]):
        out = _hiphook(*args)
        assert out.returncode == 2, out
        assert "Traceback" not in out.stderr
        assert str(f) in out.stderr and "'seconds'" in out.stderr
        assert out.stdout == ""
    assert not (tmp_path / "settings.json").exists()  # nothing written


def test_routine_show_json_matches_the_plan() -> None:
    out = _hiphook("routine", "show", "daily", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"kind", "name", "seconds", "reps", "push_s", "relax_s"} <= set(data["steps"][0])
    assert data["total_s"] == pytest.approx(sum(s["seconds"] for s in data["steps"]))
    assert data["total_s"] == load_routine("daily").total_s
    text = _hiphook("routine", "show", "daily").stdout
    assert "Total: about 9:10" in text


def test_user_file_runs_like_a_builtin(tmp_path: Path) -> None:
    f = tmp_path / "short.toml"
    f.write_text(GOOD.replace("seconds = 60", "seconds = 2"))
    out = _hiphook("run", "--plain", "--json", "--routine", str(f), "--time-scale", "20")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events[-2]["event"] == "finished"

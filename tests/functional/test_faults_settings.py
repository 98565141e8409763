"""Damaged settings fall back field by field: a bad value is ignored (the others kept),
the user is told once which and why, and nothing raises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, data: object) -> Path:
    path = Path(os.environ["HIPHOOK_CONFIG"])
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("cues", "kazoo", "'kazoo' is not one of auto, none, bell, tone, voice"),
        ("side", "middle", "'middle' is not left or right"),
        ("volume", "loud", "'loud' is not a whole number from 0 to 100"),
        ("volume", "250", "'250' is not a whole number from 0 to 100"),
        ("pacing", 7, "it must be text, not int"),
        ("beginner_started", "yesterday", "'yesterday' is not a date (YYYY-MM-DD)"),
        ("band", "450,60,5", "is not a band"),
        ("band", "a,b", "is not three numbers"),
        ("routine", None, "it cannot be empty"),
        ("voice", "x\ny", "control characters"),
    ],
)
def test_a_bad_field_is_ignored_and_said_and_the_others_kept(
    tmp_path: Path, field: str, value: object, why: str
) -> None:
    good = {
        "side": "left",
        "routine": "ball",
        "volume": "40",
        "cues": "bell",
        "pacing": "off",
        "recent_routines": "/home/me/a.toml\n/home/me/b.toml",
    }
    path = _write(tmp_path, {**good, field: value, "from_a_newer_hiphook": 1})
    s = Settings.load()
    [problem] = s.problems
    assert f"Setting {field!r} in {path} ignored: " in problem and why in problem, problem
    for k, v in good.items():
        expected = getattr(Settings(), k) if k == field else v
        assert getattr(s, k) == expected, k
    assert s.save() is None
    assert Settings.load().problems == [], "written back without it: said once"


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "[" * 100_000 + "]" * 100_000])
def test_an_unreadable_file_falls_back_to_defaults_and_says_so(tmp_path: Path, text: str) -> None:
    _write(tmp_path, text)
    s = Settings.load()
    assert s == Settings()
    [problem] = s.problems
    assert "using defaults" in problem


def test_run_with_cues_kazoo_says_which_field_once_and_runs(tmp_path: Path) -> None:
    path = _write(tmp_path, {"cues": "kazoo", "side": "left", "volume": "50"})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HIPHOOK_DB", None)  # a demo without --db is not logged
    cmd = [sys.executable, "-m", "app", "run", "--plain", "--json", "--routine", "ball"]
    cmd += ["--time-scale", "2000"]  # the run itself is not what is tested here

    def run() -> list[str]:
        out = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL
        )
        assert out.returncode == 0, out.stderr
        assert "Traceback" not in out.stderr
        notes = [json.loads(x) for x in out.stdout.splitlines()]
        return [str(n["text"]) for n in notes if n.get("event") == "note"]

    first = run()
    assert [n for n in first if "'cues'" in n] == [
        f"Setting 'cues' in {path} ignored: 'kazoo' is not one of auto, none, bell, tone, "
        "voice; using the default."
    ]
    assert any("Tight side: left" in n for n in first), "the other fields were kept"
    kept = json.loads(path.read_text(encoding="utf-8"))
    assert kept["cues"] is None and kept["volume"] == "50" and kept["side"] == "left"
    assert not [n for n in run() if "'cues'" in n], "told once"

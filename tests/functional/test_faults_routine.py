"""Routine files: a long file still names the file, step, line and key of a fault.

The loader finds every step's line in one pass (speed is in bench/bench_faults.py);
these tests pin that the line it names is still the right one, or none when unsure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.routine import RoutineError, parse_routine
from tests.support.cli import hiphook

STEP = '\n[[step]]\nkind = "timed"\nname = "Step"\ninstruction = "Lie still."\nseconds = 30\n'
HEAD = 'name = "big"\ntitle = "Big"\n'


def _line_of_nth_header(text: str, nth: int) -> int:
    lines = text.split("\n")
    found = [i for i, line in enumerate(lines, start=1) if line.strip().startswith("[[")]
    return found[nth]


@pytest.mark.parametrize("bad_at", [0, 4_321, 9_999])
def test_fault_in_a_long_file_names_its_step_line_and_key(bad_at: int) -> None:
    steps = [STEP] * 10_000
    steps[bad_at] = STEP.replace("seconds = 30", "seconds = 0")
    text = HEAD + "".join(steps)
    with pytest.raises(RoutineError) as info:
        parse_routine(text, source="long.toml")
    line = _line_of_nth_header(text, bad_at)
    assert str(info.value) == (
        f"long.toml, step {bad_at + 1} (line {line}): 'seconds' = 0 is out of range (1 to 3600)"
    )


def test_spaced_and_commented_headers_are_found() -> None:
    text = HEAD + STEP + '\n  [[ step ]]  # second\nkind = "timed"\nname = "x"\ninstruction = ""\n'
    with pytest.raises(RoutineError) as info:
        parse_routine(text, source="s.toml")
    assert "step 2 (line 10): 'instruction' is empty" in str(info.value)


def test_a_header_inside_a_string_gives_no_line_rather_than_a_wrong_one() -> None:
    tricky = STEP.replace('"Lie still."', '"""Lie still.\n[[step]]\nreally."""')
    text = HEAD + tricky + STEP.replace("seconds = 30", "seconds = -1")
    with pytest.raises(RoutineError) as info:
        parse_routine(text, source="t.toml")
    msg = str(info.value)
    assert msg.startswith("t.toml, step 2: 'seconds' = -1"), msg
    assert "line" not in msg


def test_routine_show_of_a_long_bad_file_exits_2_naming_file_line_and_key(
    tmp_path: Path,
) -> None:
    steps = [STEP] * 10_000
    steps[-1] = STEP.replace("seconds = 30", "seconds = 'long'")
    text = HEAD + "".join(steps)
    f = tmp_path / "long.toml"
    f.write_text(text)
    out = hiphook("routine", "show", str(f), timeout=120)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    line = _line_of_nth_header(text, 9_999)
    assert f"{f}, step 10000 (line {line}): 'seconds' must be a number" in out.stderr

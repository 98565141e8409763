"""`hiphook` alone and `hiphook --version` read Home's options with a parser of their own
(`app.cli.home_args`), so a plain start loads no command's module: every line it takes
the full parser reads the same, and every other line (a command, `-h`, a mistake) is
left to the full parser, whose answers and errors are the user's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, home_args

ROOT = Path(__file__).resolve().parents[2]

HOME_LINES = (
    [],
    ["--sensor", "sim"],
    ["--sensor=auto", "--baud", "auto"],
    ["--baud", "9600", "--diy-scale", "2"],
    ["--sen", "none"],  # an abbreviation, as argparse allows it
)
OTHER_LINES = (
    ["history"],
    ["-h"],
    ["--sensor", "sim", "run"],
    ["--baud", "x"],
    ["--sensor"],
    ["--bogus"],
    ["bogus"],
    ["--", "run"],
    ["history", "--version"],  # the full parser refuses it; it must not print a version
)
COMMAND_MODULES = (
    "app.completion",
    "app.docs",
    "app.remind.cli",
    "app.report.cli",
    "app.sensor.cli",
    "app.serve.cli",
    "app.store.cli",
    "app.watch.cli",
    "firmware_sim.__main__",
)


@pytest.mark.parametrize("argv", HOME_LINES, ids=" ".join)
def test_a_line_of_homes_options_reads_as_the_full_parser_reads_it(argv: list[str]) -> None:
    assert home_args(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize("argv", OTHER_LINES, ids=" ".join)
def test_any_other_line_is_left_to_the_full_parser(argv: list[str]) -> None:
    assert home_args(argv) is None


def test_the_version_is_answered_as_the_full_parser_answers_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as fast:
        home_args(["--version"])
    said = capsys.readouterr()
    with pytest.raises(SystemExit) as full:
        build_parser().parse_args(["--version"])
    assert fast.value.code == full.value.code == 0
    assert said == capsys.readouterr() and said.out.startswith("hiphook ")


def test_a_plain_start_loads_no_commands_module() -> None:
    """In a fresh interpreter, as a real start is."""
    probe = (
        "import json, sys, app.cli; assert app.cli.home_args(['--sensor', 'sim']); "
        "print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe, *COMMAND_MODULES],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []

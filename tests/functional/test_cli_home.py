"""`hiphook` alone and `hiphook --version` read Home's options with a parser of their own
(`app.cli.home_args`), so a plain start loads no command's module: every line it takes
the full parser reads the same, and every other line (a command, `-h`, a mistake) is
left to a full parser, whose answers and errors are the user's. A line that names a
command builds the top level and that command's parser alone (`build_parser(command)`),
which reads and answers that command's lines as the whole parser does."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import COMMAND_MODULES, OWN_COMMANDS, build_parser, command_named, home_args

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
MODULES = (  # the command modules
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


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_each_commands_parser_alone_is_the_one_of_the_whole_parser() -> None:
    whole = subparsers(build_parser())
    assert list(whole) == [*OWN_COMMANDS, *COMMAND_MODULES]  # the table, in --help's order
    for name, full in whole.items():
        alone = subparsers(build_parser(name))
        module = COMMAND_MODULES.get(name, name)  # `sensor` brings `sim`: one module's
        assert name in alone and {COMMAND_MODULES.get(n, n) for n in alone} == {module}
        assert alone[name].format_help() == full.format_help()
        assert alone[name].format_usage() == full.format_usage()


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["report"], "report"),
        (["--sensor", "sim", "history", "--json"], "history"),
        (["routine", "list"], "routine"),
        (["run", "--sensor", "sim"], "run"),
        (["--sensor", "report"], None),  # a value of --sensor: Home, as the full parser reads it
        (["-h", "report"], None),  # the top level's help, which lists every command
        (["bogus"], None),
        (["--", "report"], None),
        ([], None),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else str(v),
)
def test_the_command_a_line_names_is_read_as_the_full_parser_reads_it(
    argv: list[str], command: str | None
) -> None:
    assert command_named(argv) == command


LOADED = "print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))"


def loaded_after(code: str) -> list[str]:
    """Which command modules are loaded after `code`, in a fresh interpreter (as a real
    start is)."""
    res = subprocess.run(
        [sys.executable, "-c", f"import json, sys, app.cli; {code}; {LOADED}", *MODULES],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    loaded: list[str] = json.loads(res.stdout)
    return loaded


def test_a_plain_start_loads_no_commands_module() -> None:
    assert loaded_after("assert app.cli.home_args(['--sensor', 'sim'])") == []


def parsed(line: list[str]) -> str:
    return f"app.cli.build_parser(app.cli.command_named({line!r})).parse_args({line!r})"


def test_a_command_loads_its_own_module_only() -> None:
    assert loaded_after(parsed(["routine", "list"])) == []
    loaded = loaded_after(parsed(["--sensor", "sim", "report", "--weeks", "4"]))
    others = set(MODULES) - {"app.report.cli", "app.store.cli"}  # report's, and what it uses
    assert "app.report.cli" in loaded and not others & set(loaded), loaded

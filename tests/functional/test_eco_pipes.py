"""Every printing command ends quietly, exit 0, when its reader closes the pipe early."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.cli import command, environment

COMMANDS = [
    ["routine", "show", "daily", "--json"],
    ["routine", "show", "daily"],
    ["routine", "list"],
    ["--help"],
    ["--version"],
    ["history"],
    ["remind", "status"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_closed_pipe_ends_the_command_quietly(args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: the worst case
    try:
        out = subprocess.run(
            command(*args),
            env=environment(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert out.stderr == "", out.stderr
    assert out.returncode == 0

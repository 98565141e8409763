"""`hiphook --version` and `-V` print the installed package's version and exit 0."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_comes_from_the_package_metadata(flag: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app", flag],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"hiphook {version('hiphook')}"
    assert out.stderr == ""

"""`hiphook --version` and `-V` print the installed package's version and exit 0."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from tests.support.cli import hiphook


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_comes_from_the_package_metadata(flag: str) -> None:
    out = hiphook(flag, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"hiphook {version('hiphook')}"
    assert out.stderr == ""

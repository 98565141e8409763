"""Programs a test needs on the machine: skip where one is missing, fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def need(program: str, package: str) -> None:
    """Skip without `program`, saying why; in CI (which installs it) fail instead."""
    if shutil.which(program) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have {program}: .ci/run installs {package}")
        pytest.skip(f"{program} is not installed (apt-get install {package}; .ci/run does)")

"""Exit codes: SIGTERM is 143 and Ctrl-C 130; --json alone runs plain, never the screen."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path


def _start_json_run(*flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "run",
            *flags,
            "--json",
            "--routine",
            "daily",
            "--side",
            "left",
            "--time-scale",
            "2",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_step(p: subprocess.Popen[str]) -> None:
    assert p.stdout
    for line in p.stdout:
        if json.loads(line)["event"] == "step_started":
            return
    raise AssertionError("the run ended before its first step")


def test_sigterm_gives_143_and_ctrl_c_130() -> None:
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        p = _start_json_run("--plain")
        _wait_for_step(p)
        p.send_signal(sig)
        _, err = p.communicate(timeout=30)
        assert p.returncode == code, (sig, err)
        assert "Traceback" not in err


def test_json_without_plain_runs_plain() -> None:
    """Without --plain, --json still prints JSON lines (a screen would print escapes)."""
    p = _start_json_run()
    _wait_for_step(p)  # every line so far parsed as JSON
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 143, err


def test_the_readme_lists_every_exit_code_the_code_names() -> None:
    from app import cli
    from app.store import errors

    names = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    names |= {v for k, v in vars(cli).items() if k.startswith("EXIT_")}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    listed = {
        int(row.split("|")[1])
        for row in table.splitlines()
        if row.startswith("|") and row.split("|")[1].strip().isdigit()
    }
    assert names == listed

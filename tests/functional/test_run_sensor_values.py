"""`hiphook run --sensor VALUE`: a malformed value is refused before the run starts."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.sketch import sketch


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("ttyACM0", "is not a path"),
        ("", "--sensor is empty"),
        ("socket://nohost", "needs HOST:PORT"),
        ("kazoo://x", "unknown URL scheme"),
    ],
)
def test_a_malformed_sensor_is_refused_with_what_was_expected(
    value: str, said: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "run",
            "--plain",
            "--side",
            "left",
            "--cues",
            "none",
            "--sensor",
            value,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # no step ran
    log = tmp_path / "hiphook.db"  # the test's HIPHOOK_DB (tests/conftest.py)
    if log.exists():  # the log may be opened first, but no session may begin
        with sqlite3.connect(log) as db:
            assert db.execute("SELECT count(*) FROM session").fetchone() == (0,)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_plain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "run", "--plain", "--side", "left", "--cues", "none", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order it was said
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("socket://127.0.0.1:{closed}", "nothing is listening"),
        ("/dev/null", "it is not a serial port"),
    ],
)
def test_a_port_that_will_not_open_is_said_at_the_start(value: str, why: str) -> None:
    value = value.format(closed=closed_port())  # at run time: every worker collects the same ids
    done = run_plain("--routine", "beginner", "--time-scale", "200", "--sensor", value)
    assert done.returncode == 0, done.stdout
    out = done.stdout
    said = f"Cannot open the sensor at {value}: {why}"
    assert out.count(said) == 1, out  # once, not on every press
    assert "sensor scan" in out and "/dev/serial/by-id" in out  # what to do
    assert out.index(said) < out.index("Step 2 of ")  # at the start, not at the end
    assert "Traceback" not in out


def test_a_missing_port_is_refused_naming_it_and_what_to_do() -> None:
    done = run_plain("--sensor", "/dev/ttyACM9")
    assert done.returncode == 2
    assert "cannot open the sensor at /dev/ttyACM9: no such port" in done.stdout
    assert "hiphook sensor scan --all" in done.stdout and "by-id" in done.stdout
    assert "Step 1 of " not in done.stdout


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--baud", "fast", "not a baud rate"),
        ("--baud", "12", "baud rate must be"),
        ("--diy-scale", "nan", "positive number of newtons"),
        ("--diy-scale", "0", "positive number of newtons"),
        ("--diy-scale", "-9.81", "positive number of newtons"),
    ],
)
def test_run_refuses_bad_port_options(flag: str, value: str, said: str) -> None:
    done = run_plain("--sensor", "sim", flag, value)
    assert done.returncode == 2 and said in done.stdout and "Traceback" not in done.stdout


def test_run_baud_auto_and_diy_scale_read_a_sketch_at_its_rate() -> None:
    """A sketch printing bare numbers at 38400 baud: found, and scaled to newtons."""
    with sketch(lambda i: b"HX711: 50.00\r\n", baud=38400) as board:
        done = run_plain(
            "--json",
            "--routine",
            "beginner",
            "--time-scale",
            "100",
            "--sensor",
            board.path,
            "--baud",
            "auto",
            "--diy-scale",
            "2",
        )
    assert done.returncode == 0, done.stdout
    assert "# 38400 baud: lines decode" in done.stdout
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["sensor"]["last_force_n"] == 100.0  # 50 units x 2 N per unit

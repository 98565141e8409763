"""Bad input through the real command: a clear message, exit 2 or the data code, no
traceback, and nothing written (no log, no export, no service file, no settings).

Each case runs `python -m app ...` in a subprocess whose home, data and config folders
are under tmp_path, and compares the folder's files before and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.store.errors import EXIT_DATAERR
from tests.support.cli import hiphook

USAGE = 2


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _hiphook(
    tmp_path: Path,
    *args: str | bytes,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real command; assert that it wrote nothing under tmp_path."""
    full_env = {**os.environ, "HOME": str(tmp_path / "home"), **(env or {})}
    before = _files(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        env=full_env,
        timeout=60,
        cwd=tmp_path,
    )
    assert "Traceback" not in out.stderr, out.stderr
    assert _files(tmp_path) == before, "a refused command wrote a file"
    return out


# --------------------------------------------------------------------------- history


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--csv"]])
def test_history_limit_beyond_any_integer_is_a_usage_error(tmp_path: Path, fmt: list[str]) -> None:
    out = _hiphook(tmp_path, "history", *fmt, "--limit", "99999999999999999999")
    assert out.returncode == USAGE
    assert "--limit: must be a whole number from 1 to 1,000,000" in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("text", ["0", "-3", "ten", "9" * 5_000])
def test_history_limit_refuses_other_nonsense(tmp_path: Path, text: str) -> None:
    out = _hiphook(tmp_path, "history", "--limit", text)
    assert out.returncode == USAGE
    assert "argument --limit:" in out.stderr
    assert len(out.stderr) < 600  # a 5,000-digit argument is not echoed back whole


def test_history_limit_at_the_bound_works_on_a_real_log(tmp_path: Path) -> None:
    from app.store.store import open_store

    with open_store(tmp_path / "hiphook.db"):
        pass
    for fmt in ([], ["--json"], ["--csv"]):
        out = hiphook("history", *fmt, "--limit", "1000000", timeout=60)
        assert out.returncode == 0, out.stderr


# --------------------------------------------------------------------------- import


def test_import_of_deeply_nested_json_is_refused_as_data(tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_text("[" * 200_000 + "]" * 200_000)
    out = _hiphook(tmp_path, "import", str(f))
    assert out.returncode == EXIT_DATAERR
    assert f"{f}: nested too deeply to read; it is not a hiphook export" in out.stderr
    assert not (tmp_path / "hiphook.db").exists()


def test_import_of_a_5001_digit_version_is_refused_as_data(tmp_path: Path) -> None:
    f = tmp_path / "ver.json"
    f.write_text('{"format": "hiphook-export", "version": ' + "9" * 5_001 + "}")
    out = _hiphook(tmp_path, "import", str(f))
    assert out.returncode == EXIT_DATAERR
    assert f"{f}: holds a number of more than 4300 digits" in out.stderr
    assert len(out.stderr) < 300


def test_import_of_a_4000_digit_version_names_it_briefly(tmp_path: Path) -> None:
    f = tmp_path / "ver.json"
    f.write_text('{"format": "hiphook-export", "version": ' + "9" * 4_000 + "}")
    out = _hiphook(tmp_path, "import", str(f))
    assert out.returncode == EXIT_DATAERR
    assert "export version <a number of 4,000 digits> is not supported" in out.stderr


def test_import_of_a_huge_number_where_a_float_belongs_is_refused(tmp_path: Path) -> None:
    """float(10**400) overflows: the field is named, nothing is written."""
    f = tmp_path / "big.json"
    session = (
        '{"uuid": "00000000-0000-0000-0000-000000000001", "status": "completed", '
        '"local_day": "2026-01-02", "started_utc": "2026-01-02T06:00:00+00:00", '
        '"tz": "UTC", "utc_offset_min": 0, "routine": "daily", "routine_version": 1, '
        '"notes": "", "elapsed_s": 1' + "0" * 400 + ', "steps": []}'
    )
    f.write_text('{"format": "hiphook-export", "version": 1, "sessions": [' + session + "]}")
    out = _hiphook(tmp_path, "import", str(f))
    assert out.returncode == EXIT_DATAERR
    assert (
        "session 1: 'elapsed_s' must be a finite number, not <a number of 401 digits>" in out.stderr
    )


def test_an_invalid_export_does_not_create_the_log(tmp_path: Path) -> None:
    f = tmp_path / "wrong.json"
    f.write_text('{"format": "hiphook-export", "version": 7, "sessions": []}')
    out = _hiphook(tmp_path, "import", str(f))
    assert out.returncode == EXIT_DATAERR
    assert "export version 7 is not supported" in out.stderr


# --------------------------------------------------------------------------- export


def test_export_to_an_empty_name_is_a_usage_error(tmp_path: Path) -> None:
    out = _hiphook(tmp_path, "export", "-o", "")
    assert out.returncode == USAGE
    assert "--output/-o: the file name is empty; give a file name, or '-'" in out.stderr
    assert "busy" not in out.stderr


def test_export_to_a_folder_or_into_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    out = _hiphook(tmp_path, "export", "-o", str(tmp_path / "dir"))
    assert out.returncode == USAGE
    assert f"{tmp_path / 'dir'} is a folder; give the name of a file" in out.stderr
    out = _hiphook(tmp_path, "export", "-o", str(tmp_path / "nope" / "x.json"))
    assert out.returncode == USAGE
    assert f"the folder {tmp_path / 'nope'} does not exist" in out.stderr


# --------------------------------------------------------------------------- calibrate


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--timeout", "-1", "--timeout: must be a number of seconds from 1 to 600, not -1"),
        ("--seconds", "-1", "--seconds: must be a number of seconds from 0.5 to 60, not -1"),
        ("--seconds", "nan", "--seconds: must be a number of seconds from 0.5 to 60, not nan"),
        ("--seconds", "inf", "--seconds: must be a number of seconds from 0.5 to 60, not inf"),
        ("--timeout", "soon", "--timeout: not a number of seconds: 'soon'"),
    ],
)
def test_calibrate_time_options_are_checked_before_the_sensor_opens(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    out = _hiphook(tmp_path, "sensor", "calibrate", "--sensor", "sim", "--yes", option, value)
    assert out.returncode == USAGE
    assert message in out.stderr
    assert out.stdout == ""  # not even the first prompt: the sensor never opened


# --------------------------------------------------------------------------- sim


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tcp", "99999"], "--tcp: a TCP port is a number from 1 to 65535"),
        (["--tcp", "-1"], "--tcp: a TCP port is a number from 1 to 65535"),
        (["--rate", "0"], "--rate: must be from 10 to 1000 samples a second, not 0"),
        (["--rate", "-5"], "--rate: must be from 10 to 1000 samples a second, not -5"),
        (["--rate", "5000"], "--rate: must be from 10 to 1000 samples a second, not 5000"),
    ],
)
@pytest.mark.parametrize("command", [["sim"], ["-m", "firmware_sim"]])
def test_simulator_refuses_ports_and_rates_no_host_could_use(
    tmp_path: Path, command: list[str], args: list[str], message: str
) -> None:
    if command[0] == "sim":
        out = _hiphook(tmp_path, *command, *args)
    else:
        out = subprocess.run(
            [sys.executable, *command, *args], capture_output=True, text=True, timeout=30
        )
    assert out.returncode == USAGE
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""  # no port was printed: nothing was started


def test_simulator_library_refuses_a_rate_outside_the_protocol() -> None:
    from firmware_sim import start_simulator

    for rate in (0, -5, 1001):
        with pytest.raises(ValueError, match="rate must be from 10 to 1000 Hz"):
            start_simulator("steady", rate=rate)


def test_simulator_names_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        out = _hiphook(tmp_path, "sim", "--tcp", str(port))
    assert out.returncode == USAGE
    assert f"sim: cannot serve on TCP port {port}: Address already in use" in out.stderr


# --------------------------------------------------------------------------- remind install


def test_remind_install_refuses_a_log_path_that_is_not_utf8(tmp_path: Path) -> None:
    bad = os.fsdecode(b"/tmp/a\xffb.db")
    out = _hiphook(tmp_path, "remind", "install", "--db", bad)
    assert out.returncode == USAGE
    assert "the log path '/tmp/a\\xffb.db' is not valid UTF-8" in out.stderr


def test_remind_install_refuses_a_newline_in_hiphook_db(tmp_path: Path) -> None:
    evil = str(tmp_path / "a\nExecStartPre=/bin/touch /tmp/pwned\nb.db")
    out = _hiphook(tmp_path, "remind", "install", env={"HIPHOOK_DB": evil})
    assert out.returncode == USAGE
    assert "holds a newline (U+000A), which a service file cannot carry safely" in out.stderr
    assert "\\nExecStartPre=" in out.stderr  # shown escaped, on one line

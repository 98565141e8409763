"""Generated service files are safe: control characters refused, the rest quoted.

A newline in --db once wrote an extra `ExecStartPre=` line into the systemd unit.
systemd's own parser checks the unit where `systemd-analyze` is installed.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.remind import service

PY = str(Path(sys.executable).absolute())
TRICKY = [
    "/data/my log/100% $HOME/h.db",
    'quote " and \\ backslash',
    "single ' quote;",
    ";",
    "%h %i %%",
    "$USER ${HOME}",
    "<xml> & 'ents'",
    "ümlaut — ✓",
    "",
]
UNSAFE = [
    "a\nExecStartPre=/bin/touch /tmp/pwned",
    "tab\there",
    "cr\rhere",
    "nul\x00",
    "del\x7f",
    "bell\x07",
    "line\u2028sep",
    "para\u2029sep",
    os.fsdecode(b"bad\xff"),
]


def _exec_start(unit: str) -> str:
    lines = [line for line in unit.splitlines() if line.startswith("Exec")]
    assert len(lines) == 1, lines
    return lines[0]


def test_systemd_unit_quotes_every_tricky_word_on_one_line() -> None:
    unit = service.systemd_unit([PY, "-m", "app", "remind", "run", *TRICKY])
    line = _exec_start(unit)
    assert '"/data/my log/100%% $$HOME/h.db"' in line
    assert '"quote \\" and \\\\ backslash"' in line
    assert '"single \' quote;"' in line
    assert ' ";" ' in line  # a lone ; would start a second command
    assert '"%%h %%i %%%%"' in line
    assert '"$$USER $${HOME}"' in line
    assert line.endswith(' ""')


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed here (not a systemd system)",
)
def test_systemd_accepts_the_unit_with_tricky_words(tmp_path: Path) -> None:
    unit = tmp_path / "hiphook-remind.service"
    unit.write_text(service.systemd_unit([PY, "-m", "app", "remind", "run", *TRICKY]))
    out = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert str(unit) not in out.stderr, out.stderr  # no warning about our file


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed here (not a systemd system)",
)
def test_systemd_analyze_catches_what_the_old_quoting_let_through(tmp_path: Path) -> None:
    """The check above can fail: the unquoted newline the old code wrote is an error."""
    unit = tmp_path / "old.service"
    unit.write_text(f'[Service]\nExecStart={PY} --db "/tmp/a\nExecStartPre=/bin/true\nb"\n')
    out = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0


@pytest.mark.parametrize("word", UNSAFE)
def test_systemd_unit_refuses_control_characters_and_raw_bytes(word: str) -> None:
    with pytest.raises(service.UnsafeTextError) as info:
        service.systemd_unit([PY, "remind", "run", "--db", word])
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("word", UNSAFE)
def test_launchd_plist_refuses_control_characters_and_raw_bytes(word: str, tmp_path: Path) -> None:
    with pytest.raises(service.UnsafeTextError):
        service.launchd_plist([PY, "remind", "run", "--db", word], tmp_path)


def test_launchd_plist_refuses_a_home_folder_it_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(service.UnsafeTextError, match="the home folder"):
        service.launchd_plist([PY, "remind", "run"], tmp_path / "a\nb")


def test_launchd_plist_carries_tricky_words_exactly(tmp_path: Path) -> None:
    argv = [PY, "remind", "run", *TRICKY]
    data = service.launchd_plist(argv, tmp_path)
    assert plistlib.loads(data)["ProgramArguments"] == argv
    assert b"&lt;xml&gt; &amp;" in data


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_install_with_an_unsafe_path_writes_nothing(tmp_path: Path, platform: str) -> None:
    home = tmp_path / "home"
    with pytest.raises(service.UnsafeTextError):
        service.install(home, argv=service.program_args("/tmp/a\nb.db"), platform=platform, env={})
    with pytest.raises(service.UnsafeTextError):
        service.install(
            home, argv=[PY, "remind", "run", "--db", "/tmp/a\nb.db"], platform=platform, env={}
        )
    assert not home.exists()

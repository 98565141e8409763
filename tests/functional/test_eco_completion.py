"""Tab completion: real bash, zsh (typed into on a pseudo-terminal) and fish, with the
script hiphook prints (or installs), complete subcommands and option values by calling
the real `hiphook` command."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    """A `hiphook` on PATH that runs this checkout, as the installed entry point would."""
    folder = tmp_path / "bin"
    folder.mkdir()
    exe = folder / "hiphook"
    exe.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m app "$@"\n')
    exe.chmod(0o755)
    return folder


def _env(bindir: Path, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def _bash_complete(load: str, words: list[str], env: dict[str, str]) -> list[str]:
    """COMPREPLY after bash's completion function for `hiphook` ran on `words`.

    `load` makes the completion known (sourcing a script); then the function that
    `complete -p hiphook` names is called with the variables bash sets for a Tab press
    at the end of the line.
    """
    line = " ".join(words)
    prog = _bash_script(load, words, line)
    res = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", prog],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


def _bash_script(load: str, words: list[str], line: str) -> str:
    quoted = " ".join(shlex.quote(w) for w in words)
    return "\n".join(
        [
            "set -e",
            load,
            "spec=$(complete -p hiphook)",
            'fn=$(printf "%s" "$spec" | sed -E "s/.* -F ([^ ]+) .*/\\1/")',
            f"COMP_WORDS=({quoted})",
            f"COMP_CWORD={len(words) - 1}",
            f"COMP_LINE={shlex.quote(line)}",
            "COMP_POINT=${#COMP_LINE}",
            "COMP_TYPE=9",
            "COMPREPLY=()",
            f'"$fn" hiphook {shlex.quote(words[-1])} {shlex.quote(words[-2])}',
            'printf "%s\\n" "${COMPREPLY[@]}"',
        ]
    )


def test_bash_completes_a_subcommand_and_option_values(bindir: Path, tmp_path: Path) -> None:
    env = _env(bindir, tmp_path)
    load = 'eval "$(hiphook completion bash)"'
    assert _bash_complete(load, ["hiphook", "hist"], env) == ["history "]
    offered = [w.strip() for w in _bash_complete(load, ["hiphook", "completion", ""], env)]
    assert {"bash", "zsh", "fish", "install"} <= set(offered)
    assert "history" not in offered
    sides = _bash_complete(load, ["hiphook", "run", "--side", ""], env)
    assert [w.strip() for w in sides] == ["left", "right"]
    assert _bash_complete(load, ["hiphook", "run", "--si"], env) == ["--side", "--sim-scenario"]


def test_install_puts_the_script_where_bash_completion_finds_it(
    bindir: Path, tmp_path: Path
) -> None:
    env = _env(bindir, tmp_path)
    res = subprocess.run(
        ["hiphook", "completion", "install", "--shell", "bash"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    installed = tmp_path / "data" / "bash-completion" / "completions" / "hiphook"
    assert str(installed) in res.stdout
    printed = subprocess.run(
        ["hiphook", "completion", "bash"], capture_output=True, text=True, env=env, timeout=60
    )
    assert installed.read_text() == printed.stdout
    # bash-completion sources that file on the first Tab after `hiphook`: do the same.
    load = f"source {shlex.quote(str(installed))}"
    assert _bash_complete(load, ["hiphook", "rem"], env) == ["remind "]


@pytest.mark.parametrize(
    ("shell", "where", "first"),
    [
        ("zsh", "home/.zfunc/_hiphook", "#compdef hiphook"),
        ("fish", "config/fish/completions/hiphook.fish", ""),
    ],
)
def test_install_for_zsh_and_fish_writes_their_scripts(
    bindir: Path, tmp_path: Path, shell: str, where: str, first: str
) -> None:
    env = {**_env(bindir, tmp_path), "SHELL": f"/usr/bin/{shell}"}
    res = subprocess.run(
        ["hiphook", "completion", "install"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 0, res.stderr
    text = (tmp_path / where).read_text()
    assert text.startswith(first) and "hiphook" in text
    if shell == "fish":
        assert "complete" in text and "--command hiphook" in text


def test_install_without_a_known_shell_says_how(bindir: Path, tmp_path: Path) -> None:
    env = {**_env(bindir, tmp_path), "SHELL": "/bin/tcsh"}
    res = subprocess.run(
        ["hiphook", "completion", "install"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 2 and "--shell bash|zsh|fish" in res.stderr
    assert "Traceback" not in res.stderr


def _shell(name: str) -> str:
    """The shell's path, or skip saying so (in CI, where .ci/run installs it, fail)."""
    path = shutil.which(name)
    if path is None:
        why = f"{name} is not installed (apt-get install {name}; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return path


@pytest.fixture
def zsh_with_installed_completion(bindir: Path, tmp_path: Path) -> Iterator[Terminal]:
    """An interactive zsh that found `hiphook completion install`'s file on its fpath."""
    zsh = _shell("zsh")
    env = {**_env(bindir, tmp_path), "SHELL": zsh, "PS1": "%# ", "TERM": "dumb"}
    res = subprocess.run(
        ["hiphook", "completion", "install"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 0, res.stderr
    term = Terminal([zsh, "-f", "-i"], env)  # -f: no user rc files, only what we type
    try:
        term.type(
            "fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit -u -D; echo RE''ADY\n"
        )
        term.wait_for("READY")
        yield term
    finally:
        term.close()


def test_zsh_completes_a_subcommand_and_option_values(
    zsh_with_installed_completion: Terminal,
) -> None:
    term = zsh_with_installed_completion
    term.type("hiphook hist\t")
    assert "hiphook history " in term.wait_for("history ")
    term.type("\x15hiphook run --side \t")  # Ctrl-U clears the line first
    offered = term.wait_for("left")
    assert "right" in offered and "your tight hip" in offered


def test_fish_completes_from_the_installed_script(bindir: Path, tmp_path: Path) -> None:
    fish = _shell("fish")
    env = {**_env(bindir, tmp_path), "SHELL": fish}
    res = subprocess.run(
        ["hiphook", "completion", "install"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 0, res.stderr
    # fish loads config/fish/completions/hiphook.fish by itself; `complete -C` asks it
    # what a Tab at the end of the line would offer.
    asked = 'complete -C "hiphook hist"; echo SPLIT; complete -C "hiphook run --side "'
    res = subprocess.run([fish, "-c", asked], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    first, second = res.stdout.split("SPLIT\n")
    assert [line.split("\t")[0] for line in first.splitlines()] == ["history"]
    assert sorted(line.split("\t")[0] for line in second.splitlines()) == ["left", "right"]

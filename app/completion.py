"""Shell completion for bash, zsh and fish: `hiphook completion SHELL` and `… install`.

argcomplete rather than shtab: shtab writes bash, zsh and tcsh scripts but no fish one,
and fish is one of the three shells asked for. argcomplete completes from the same
argparse parser the command runs, so a new subcommand or option completes with no
script to regenerate; the cost is a Python start per Tab (the parser alone is built,
no command runs: see `complete`).

The script calls `hiphook` itself with argcomplete's variables set; `app.cli` hands the
parser to `complete()` before parsing, which prints the candidates and exits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

SHELLS = ("bash", "zsh", "fish")
PROG = "hiphook"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CANTCREAT = 73


def script(shell: str) -> str:
    """The completion script for one shell, for the `hiphook` command."""
    from argcomplete.shell_integration import (  # lazy: every command builds the parser
        shellcode,
    )

    return str(shellcode([PROG], shell=shell))


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer a completion request (the shell set _ARGCOMPLETE) and exit; else return."""
    import argcomplete  # lazy: every command builds the parser that registers this module

    argcomplete.autocomplete(parser)


def install_path(shell: str, env: dict[str, str] | None = None) -> Path:
    """Where each shell picks up a user's completion scripts by itself.

    bash: bash-completion 2 loads `$XDG_DATA_HOME/bash-completion/completions/NAME` the
    first time NAME is completed. fish: `$XDG_CONFIG_HOME/fish/completions/NAME.fish`.
    zsh: a `_NAME` file in a folder on $fpath; `~/.zfunc` is the usual one (the command
    says what to add to ~/.zshrc if it is not on fpath yet).
    """
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or Path.home())
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    if shell == "bash":
        return data / "bash-completion" / "completions" / PROG
    if shell == "fish":
        return config / "fish" / "completions" / f"{PROG}.fish"
    return home / ".zfunc" / f"_{PROG}"


def register(subparsers: Any) -> None:
    """Add `hiphook completion {bash,zsh,fish,install}` to the command line."""
    p = subparsers.add_parser(
        "completion",
        help="Tab completion for bash, zsh or fish",
        description="Print the completion script for a shell, or install it where the "
        "shell finds it by itself.",
    )
    csub = p.add_subparsers(dest="completion_command", metavar="SHELL|install", required=True)
    for shell in SHELLS:
        s = csub.add_parser(shell, help=f"print the {shell} completion script")
        s.set_defaults(func=cmd_print, shell=shell)
    inst = csub.add_parser("install", help="install the script for your shell (one command)")
    inst.add_argument(
        "--shell",
        choices=SHELLS,
        default=None,
        help="the shell (default: the one in $SHELL)",
    )
    inst.set_defaults(func=cmd_install)


def cmd_print(args: argparse.Namespace) -> int:
    """Print one shell's script (to source, or to save where the shell looks)."""
    sys.stdout.write(script(args.shell))
    return EXIT_OK


def cmd_install(args: argparse.Namespace) -> int:
    """Write the script for the chosen (or current) shell to its completion folder."""
    shell = args.shell or Path(os.environ.get("SHELL", "")).name
    if shell not in SHELLS:
        print(
            f"hiphook: cannot tell your shell (SHELL={os.environ.get('SHELL', '')!r}); "
            f"give it with --shell {'|'.join(SHELLS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    path = install_path(shell)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(script(shell), encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        print(
            f"hiphook: cannot write {path}: {err.strerror or err}; print the script with "
            f"`hiphook completion {shell}` and save it yourself",
            file=sys.stderr,
        )
        return EXIT_CANTCREAT
    print(f"Installed {shell} completion for hiphook in {path}.")
    if shell == "bash":
        print("It loads in new shells that have bash-completion (most Linux systems do).")
    elif shell == "fish":
        print("fish loads it in new shells.")
    else:
        print(
            "If ~/.zfunc is not on your fpath yet, add this to ~/.zshrc before compinit:\n"
            "  fpath=(~/.zfunc $fpath); autoload -Uz compinit; compinit"
        )
    return EXIT_OK

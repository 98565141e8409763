"""Start-up cost of `hiphook`: what every command, and every Tab press, pays first.

    .venv/bin/python bench/bench_startup.py [--runs 15] [--base REV]

Each case runs as a fresh process N times; the figures are the medians of its CPU time
(user + system, from the child's rusage) and its wall time. The same cases run, in the
same run and interleaved with them, against the code as it was at `--base` (checked out
into a temporary `git worktree`, removed afterwards), so a loaded machine slows both
alike; the ratio is new / old. Cases:

- `hiphook --version`
- `hiphook history --json` on an empty log (a fresh HOME and XDG folders)
- `hiphook report --help` (a command's parser, without making a report)
- a bash Tab press after `hiphook hist` (argcomplete's variables, as the completion
  script sets them: the parser is built, the candidates written, nothing run)
- `import app.tui.app` (what the full-screen coach loads before its first screen)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The commit the start-up work began from (main before it): the default baseline.
BASE = "2dd6b6c"


@dataclass(frozen=True)
class Case:
    """One command line, and what its output must hold for the run to count."""

    name: str
    argv: tuple[str, ...]
    expect: str
    completion: str | None = None  # a COMP_LINE: answer as a Tab press would


CASES = (
    Case("hiphook --version", ("-m", "app", "--version"), "hiphook "),
    Case("hiphook history --json (empty)", ("-m", "app", "history", "--json"), '"sessions"'),
    Case("hiphook report --help", ("-m", "app", "report", "--help"), "usage: hiphook report"),
    Case("bash Tab: `hiphook hist`", ("-m", "app"), "history", completion="hiphook hist"),
    Case("import app.tui.app", ("-c", "import app.tui.app; print('ok')"), "ok"),
)


def run_once(tree: Path, case: Case, home: Path) -> float:
    """Wall seconds of one fresh process running `case` on `tree`'s code; its output is
    checked, so a broken tree cannot look fast."""
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_RUNTIME_DIR": str(home / "run"),
    }
    answer = home / "complete.out"
    if case.completion is not None:
        env.update(
            _ARGCOMPLETE="1",
            _ARGCOMPLETE_SHELL="bash",
            _ARGCOMPLETE_STDOUT_FILENAME=str(answer),
            COMP_LINE=case.completion,
            COMP_POINT=str(len(case.completion)),
            COMP_TYPE="9",
        )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *case.argv],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    text = answer.read_text() if case.completion is not None else out.decode()
    if case.expect not in text:
        raise SystemExit(f"{case.name} on {tree}: unexpected output {text!r} {err.decode()!r}")
    return wall


def measure(tree: Path, case: Case, home: Path) -> tuple[float, float]:
    """One run's CPU and wall time, the CPU from the children's rusage before and after."""
    before = os.times()
    wall = run_once(tree, case, home)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return cpu, wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="fresh processes per case and tree")
    ap.add_argument("--base", default=BASE, help=f"the baseline's git revision ({BASE})")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(old), args.base],
            check=True,
        )
        try:
            report(old, Path(tmp), args.runs, args.base)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=True
            )
    return 0


def report(old: Path, tmp: Path, runs: int, base: str) -> None:
    """Run every case on both trees, interleaved, and print medians with their ratios."""
    print(f"median of {runs} fresh processes; old = {base}, new = this tree; ratio new/old")
    print(f"{'case':<34}{'CPU old':>9}{'CPU new':>9}{'ratio':>7}{'wall old':>10}{'wall new':>10}")
    for case in CASES:
        figures: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
        for i in range(runs + 1):  # the first round warms the file cache and is dropped
            for label, tree in (("old", old), ("new", ROOT)):
                home = tmp / f"home-{label}"
                home.mkdir(exist_ok=True)
                got = measure(tree, case, home)
                if i:
                    figures[label].append(got)
        cpu = {k: statistics.median(c for c, _ in v) for k, v in figures.items()}
        wall = {k: statistics.median(w for _, w in v) for k, v in figures.items()}
        print(
            f"{case.name:<34}{cpu['old']:>8.3f}s{cpu['new']:>8.3f}s{cpu['new'] / cpu['old']:>7.2f}"
            f"{wall['old']:>9.3f}s{wall['new']:>9.3f}s",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())

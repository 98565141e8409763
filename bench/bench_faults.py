"""Faults, measured: routine-file load time and the start-up page check's cost.

    .venv/bin/python bench/bench_faults.py [--steps 10000] [--years 10] [--runs 5]

Each figure is printed beside the behaviour before the fix, in the same run:

- Routine file load: `parse_routine` on a file of N steps, today's loader beside the
  loader of before (app/core/routine.py at BEFORE, read with `git show`), which found
  each step's line by rescanning the file. Target: 10,000 steps in <= 0.5 s.
- Start-up page check (app/store/db.py `check_pages`) on a ten-year log built by
  bench/bench_history.py, cold (the file's pages dropped from the page cache with
  posix_fadvise, as on the first start of a day) and warm, beside the pre-flight
  without it and beside a full `PRAGMA quick_check`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app.core.routine import parse_routine  # noqa: E402
from app.store.db import check_pages  # noqa: E402

# The parent of the commit that made the loader linear.
BEFORE = "5f775c691c5072eb7276e814e4e0fc9291636479"
STEP = '\n[[step]]\nkind = "timed"\nname = "Step"\ninstruction = "Lie still."\nseconds = 30\n'


def routine_text(steps: int) -> str:
    return 'name = "big"\ntitle = "Big"\n' + STEP * steps


def loader_before() -> Callable[[str, str], object] | None:
    """parse_routine as it was at BEFORE, or None when git cannot show it."""
    try:
        src = subprocess.run(
            ["git", "show", f"{BEFORE}:app/core/routine.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType("routine_before")
    mod.__dict__["__name__"] = "routine_before"
    sys.modules["routine_before"] = mod
    exec(compile(src, "routine_before.py", "exec"), mod.__dict__)
    parse: Callable[[str, str], object] = mod.parse_routine
    return parse


def seconds(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds: on a shared machine the CPU figure is the fair one."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def bench_routines(sizes: list[int], runs: int, before_max: int) -> None:
    print("routine file load (parse_routine, median wall / CPU seconds):")
    before = loader_before()
    for n in sizes:
        text = routine_text(n)
        now, now_cpu = seconds(partial(parse_routine, text, "big.toml"), runs)
        line = f"  {n:>6} steps: today {now:7.3f} / {now_cpu:.3f} s"
        if before is None:
            line += "   (before: git show unavailable)"
        elif n > before_max:
            line += f"   before: not run above {before_max} steps (--before-max)"
        else:
            was, was_cpu = seconds(partial(before, text, "big.toml"), 1)
            line += f"   before {was:7.3f} / {was_cpu:.3f} s   (x{was_cpu / now_cpu:.0f} CPU)"
        if n == 10_000:
            verdict = {True: "met", False: "MISSED"}
            line += f"   target <= 0.5 s: wall {verdict[now <= 0.5]}, CPU {verdict[now_cpu <= 0.5]}"
        print(line)


def drop_from_cache(path: Path) -> None:
    """Evict one file's pages (only this file; the machine's other caches stay)."""
    for p in (path, Path(f"{path}-wal")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)


def timed_ms(
    path: Path, work: Callable[[sqlite3.Connection], object], *, cold: bool, runs: int
) -> float:
    times = []
    for _ in range(runs):
        if cold:
            drop_from_cache(path)
        con = ro(path)
        t = time.perf_counter()
        work(con)
        times.append((time.perf_counter() - t) * 1000)
        con.close()
    return statistics.median(times)


def preflight_before(con: sqlite3.Connection) -> object:
    """What the pre-flight read before the page check: the schema and the revision."""
    con.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return con.execute("SELECT version_num FROM alembic_version").fetchall()


def bench_pages(db: Path, runs: int) -> None:
    size = db.stat().st_size / 1e6
    pages = ro(db).execute("PRAGMA page_count").fetchone()[0]
    print(f"start-up page check on a ten-year log ({size:.0f} MB, {pages} pages), median ms:")
    rows: list[tuple[str, Callable[[sqlite3.Connection], object]]] = [
        ("pre-flight before (schema, revision)", preflight_before),
        ("check_pages (every b-tree page)", lambda c: check_pages(c, str(db))),
        ("PRAGMA quick_check (every page)", lambda c: c.execute("PRAGMA quick_check").fetchall()),
    ]
    for label, work in rows:
        cold = timed_ms(db, work, cold=True, runs=runs)
        warm = timed_ms(db, work, cold=False, runs=runs)
        print(f"  {label:<38} cold {cold:8.1f}   warm {warm:7.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="*", default=[1_000, 10_000])
    ap.add_argument(
        "--before-max",
        type=int,
        default=10_000,
        help="largest file to give the old loader (10,000 steps took ~1 min)",
    )
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--db", type=Path, default=None, help="an existing ten-year log to use")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    bench_routines(args.steps, args.runs, args.before_max)
    db = args.db
    if db is None:
        from bench_history import build

        db = Path(tempfile.mkdtemp(prefix="hiphook-bench-")) / "ten-years.db"
        n, secs = build(db, args.years)
        print(f"(built {n} sessions in {secs:.1f} s at {db})")
    bench_pages(db, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

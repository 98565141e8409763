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
- The session log under faults (`--only log`), the log writer (app/store/writer.py)
  beside the old inline commit (SessionRecorder without a writer: the commit in the
  runner's dispatch, on the loop, 5 s busy timeout), same routine, same run:
  - lock: another process holds `BEGIN EXCLUSIVE` for 6 s in mid-run; boundary
    lateness (p50 / p99 / max) during the lock, steps lost, how soon the user is told;
  - disk full: the log's tmpfs fills in mid-run (a private mount namespace; root);
    steps in the log, in the recovery file, lost; the exit code `hiphook run` would give;
  - a write that hangs without an error (injected at the writer's boundary, `stall`):
    how soon the user is told, boundary lateness meanwhile, steps lost;
  - SIGKILL at random moments of a run, the real plain face (`app.plain.PlainFace`,
    `--json` lines) printing: printed finished steps missing from the log, integrity
    failures, sessions found interrupted; today's face (a finished line printed once its
    commit is confirmed) beside the face of before (printed when the step was handed to
    the writer) and beside the inline commit;
  - the price of that: how long a finished line waits for its commit.
"""

from __future__ import annotations

import argparse
import io
import json
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


# --------------------------------------------------------------------------- the log


class Printed(io.StringIO):
    """The plain face's stdout in the benchmark: when each finished line went out."""

    def __init__(self, echo: bool = False) -> None:
        super().__init__()
        self.echo = echo
        self.finished: dict[int, float] = {}

    def write(self, s: str) -> int:
        for line in s.splitlines():
            if '"step_finished"' in line:
                self.finished[json.loads(line)["step"]] = time.monotonic()
            if self.echo:
                print(line, flush=True)
        return len(s) if self.echo else super().write(s)


class LogRun:
    """One real run on the monotonic clock with the log attached, old or new way, and
    the real plain face (`--json` lines) printing to `out`.

    variant: "inline" (the commit in the runner's dispatch), "handover" (the writer, the
    finished line printed when the step is handed over: the face of before), "writer"
    (today: the finished line printed once the writer confirms the commit)."""

    def __init__(
        self,
        db: Path,
        variant: str,
        steps: int,
        step_s: float,
        quiet: bool = True,
        stall: Callable[[], None] | None = None,
    ):
        from app.core.clock import MonotonicClock
        from app.runner import SessionRunner
        from app.store.recorder import SessionRecorder
        from app.store.store import open_store
        from app.store.writer import LogNotice, LogWriter

        self.store = open_store(db)
        self.variant = variant
        from tests.support.routines import timed_steps

        routine = timed_steps(steps, step_s, "bench")
        self.runner = SessionRunner(routine, MonotonicClock())
        self.notices: list[tuple[float, LogNotice]] = []
        self.writer: LogWriter | None = None
        if variant in ("writer", "handover"):
            self.writer = LogWriter(
                self.store,
                on_notice=self.notice,
                recovery_dirs=[Path(os.environ.get("BENCH_RESCUE", tempfile.gettempdir()))],
                stall=stall,
            )
        self.recorder = SessionRecorder(
            self.store,
            self.runner.engine,
            routine,
            writer=self.writer,
        )
        self.runner.subscribe(self.recorder)
        self.late: list[tuple[float, float]] = []  # (when, lateness s) of each boundary
        # The same split in two: the loop's wake-up (the event's t, when the engine polled)
        # and the dispatch before the last listener (recorder, plain face).
        self.wake: list[tuple[float, float]] = []
        self.handed: list[tuple[float, int]] = []
        self.quiet = quiet
        self.out = Printed(echo=not quiet)
        self.plain: object = None
        self.loop: object = None

    def notice(self, n: object) -> None:
        """On the writer's thread, as run_plain hears it: the face learns the log waits."""
        import asyncio

        from app.plain import PlainFace

        self.notices.append((time.monotonic(), n))  # type: ignore[arg-type]
        loop, face = self.loop, self.plain
        if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(face, PlainFace):
            state = str(getattr(n, "state", ""))
            try:
                loop.call_soon_threadsafe(face.log_state, state)
            except RuntimeError:  # the loop is closed: the run is over
                pass

    def face(self, ev: object) -> None:
        from app.core.engine import Event, EventKind

        assert isinstance(ev, Event)
        now = time.monotonic()
        if ev.kind in (EventKind.STEP_FINISHED, EventKind.STEP_STARTED):
            self.late.append((now, self.runner.engine.t() - ev.planned_t))
            self.wake.append((now, ev.t - ev.planned_t))
        if ev.kind is EventKind.STEP_FINISHED:
            self.handed.append((now, ev.step))

    def run(self) -> None:
        import asyncio

        from app.plain import PlainFace

        async def main() -> None:
            face = PlainFace(
                self.runner,
                json_mode=True,
                out=self.out,
                recorder=self.recorder if self.variant == "writer" else None,
                loop=asyncio.get_running_loop(),
            )
            self.plain = face
            self.loop = asyncio.get_running_loop()
            self.runner.subscribe(self.face)  # after the plain face, as a run's last
            await self.runner.run()
            deadline = time.monotonic() + 3.0  # as run_plain: the last commits
            while not (face.all_written or face.log_waiting) and time.monotonic() < deadline:
                await asyncio.sleep(0.001)

        asyncio.run(main())

    def release(self) -> None:
        """After the writer's close (run_plain's end): the lines still held go out."""
        from app.plain import PlainFace

        if isinstance(self.plain, PlainFace):
            self.plain.release()


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def _steps_in(db: Path) -> tuple[int, str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        n = con.execute("SELECT count(*) FROM step").fetchone()[0]
        st = con.execute("SELECT status FROM session").fetchone()
        return int(n), st[0] if st else "(none)"
    finally:
        con.close()


LOCKER = (
    "import sqlite3, sys, time\n"
    "con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n"
    "con.execute('BEGIN EXCLUSIVE')\n"
    "print('locked', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "con.execute('COMMIT')\n"
)


def bench_lock(lock_s: float, steps: int, step_s: float) -> None:
    import threading

    print(f"a {lock_s:g} s write lock by another process in mid-run ({steps} steps of {step_s} s):")
    rows = {}
    for variant in ("inline", "writer"):
        db = Path(tempfile.mkdtemp(prefix="hiphook-bench-lock-")) / "log.db"
        run = LogRun(db, variant, steps, step_s)
        window: list[float] = []

        def lock(db: Path = db, window: list[float] = window) -> None:
            time.sleep(2.0)  # fault injection: into mid-run
            p = subprocess.Popen(
                [sys.executable, "-c", LOCKER, str(db), str(lock_s)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert p.stdout is not None
            p.stdout.readline()
            window.append(time.monotonic())
            p.wait()
            window.append(time.monotonic())

        t = threading.Thread(target=lock, daemon=True)
        t.start()
        run.run()
        t.join()
        outcome = run.writer.close() if run.writer is not None else None
        t0, t1 = window
        during = [late * 1000 for when, late in run.late if t0 <= when <= t1 + 0.5]
        outside = [late * 1000 for when, late in run.late if not t0 <= when <= t1 + 0.5]
        in_log, status = _steps_in(db)
        told = "never"
        if run.notices:
            handed_in_lock = [w for w, _ in run.handed if w >= t0]
            first = handed_in_lock[0] if handed_in_lock else t0
            told = f"{run.notices[0][0] - first:.2f} s after the first step handed in the lock"
        rescued = 0
        if outcome is not None:
            for f in outcome.recovery_files:
                rescued += len(json.loads(Path(f).read_text())["sessions"][0]["steps"])
        rows[variant] = (during, in_log, status, told, len(run.recorder.errors), rescued)
        woke = [late * 1000 for when, late in run.wake if t0 <= when <= t1 + 0.5]
        print(
            f"  ({variant}: during the lock, of that lateness the loop's wake-up p50 "
            f"{_pct(woke, 0.5):.2f} ms, p99 {_pct(woke, 0.99):.2f} ms; the rest is the "
            "dispatch to the listeners)"
        )
        print(
            f"  ({variant}: outside the lock, the machine's own noise: p50 "
            f"{_pct(outside, 0.5):.2f} ms, p99 {_pct(outside, 0.99):.2f} ms)"
        )
        run.store.close()
    for variant, (during, in_log, status, told, errors, rescued) in rows.items():
        print(
            f"  {variant:7} lateness during the lock p50 {_pct(during, 0.5):8.2f} ms, "
            f"p99 {_pct(during, 0.99):8.2f} ms, max {max(during):8.2f} ms; "
            f"steps in the log {in_log}/{steps} ({status}), in a recovery file {rescued}, "
            f"lost {steps - in_log - rescued}; write errors {errors}; user told: {told}"
        )
    old, new = rows["inline"][0], rows["writer"][0]
    print(
        f"  ratio inline/writer: p99 {_pct(old, 0.99) / max(_pct(new, 0.99), 1e-6):.0f}x, "
        f"max {max(old) / max(max(new), 1e-6):.0f}x"
    )


def child_run(db: Path, variant: str, steps: int, step_s: float, fill: str | None) -> int:
    """A run in this process (SIGKILL and disk-full rows); the plain face's JSON lines on
    stdout, then a few words of how it ended."""
    import threading

    run = LogRun(db, variant, steps, step_s, quiet=False)
    if fill:

        def filler() -> None:
            time.sleep(steps * step_s / 3)
            with open(fill, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            print("full", flush=True)

        threading.Thread(target=filler, daemon=True).start()
    run.run()
    code = 0
    if run.writer is not None:
        outcome = run.writer.close()
        for f in outcome.recovery_files:
            print(f"rescue {f}", flush=True)
        code = 0 if outcome.complete else 3
    run.release()  # as run_plain: the lines held for the log, once it has done its best
    for _, n in run.notices:
        print(f"notice {n.state}", flush=True)
    print(f"errors {len(run.recorder.errors) + (len(run.writer.errors) if run.writer else 0)}")
    return code


def printed_steps(out: str) -> set[int]:
    """The finished steps a child printed (a line cut by the kill is not printed)."""
    steps = set()
    for line in out.splitlines():
        if line.startswith("{") and '"step_finished"' in line:
            try:
                steps.add(int(json.loads(line)["step"]))
            except (ValueError, KeyError):
                continue
    return steps


KILL_ROWS = {
    "writer": "today (line after the commit)",
    "handover": "before (line at hand-over)",
    "inline": "inline commit (old)",
}


def kill_once(
    variant: str, steps: int, step_s: float, when: float | int
) -> tuple[int, int, int, int]:
    """One child run killed at `when`: a float is seconds after its start line, an int k
    is at once after its k-th finished line was read (the worst moment for a face that
    prints before the commit). Returns (printed, missing, integrity failures, found)."""
    from app.store.store import open_store

    db = Path(tempfile.mkdtemp(prefix="hiphook-bench-kill-")) / "log.db"
    p = subprocess.Popen(
        [sys.executable, __file__, "--child", variant, "--db", str(db)]
        + ["--child-steps", str(steps), "--child-step-s", str(step_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    out = p.stdout.readline()  # the run's start is out: the run is under way
    if isinstance(when, float):
        time.sleep(when)
    else:
        seen = 0
        while seen < when:
            line = p.stdout.readline()
            if not line:
                break
            out += line
            seen += '"step_finished"' in line
    p.kill()
    out += p.stdout.read()
    p.wait()
    printed = printed_steps(out)
    store = open_store(db)
    try:
        found = len(store.recover_interrupted())
        sessions = store.sessions()
        saved = {st["index"] for st in sessions[0]["steps"]} if sessions else set()
    finally:
        store.close()
    con = sqlite3.connect(db)
    bad = int(con.execute("PRAGMA integrity_check").fetchone() != ("ok",))
    con.close()
    for f in db.parent.iterdir():
        f.unlink()
    db.parent.rmdir()
    return len(printed), len(printed - saved), bad, found


def bench_kill(kills: int, baseline_kills: int, worst: int, steps: int, step_s: float) -> None:
    import random

    print(
        f"SIGKILL in a run ({steps} steps of {step_s} s; the plain face's --json lines): at a "
        f"random moment, {kills} runs today and {baseline_kills} for each baseline; and "
        f"{worst} runs each killed at once after reading a finished line (the worst moment):"
    )
    for how in ("random", "worst"):
        for variant, label in KILL_ROWS.items():
            rng = random.Random(12)  # the same moments for each variant
            n = worst if how == "worst" else kills if variant == "writer" else baseline_kills
            totals = [0, 0, 0, 0]
            for _ in range(n):
                when: float | int = (
                    rng.uniform(0, steps * step_s * 0.8)
                    if how == "random"
                    else rng.randrange(1, steps)
                )
                for i, x in enumerate(kill_once(variant, steps, step_s, when)):
                    totals[i] += x
            printed, missing, bad, found = totals
            print(
                f"  {how:6} {label:30} printed finished steps missing from the log {missing} "
                f"of {printed}; integrity failures {bad}; found interrupted {found}/{n}"
            )
    # What the guarantee costs: how long a finished line waits for its commit.
    db = Path(tempfile.mkdtemp(prefix="hiphook-bench-lag-")) / "log.db"
    run = LogRun(db, "writer", steps, step_s)
    run.run()
    assert run.writer is not None
    run.writer.close()
    lags = [x * 1000 for x in run.writer.lags]
    held = [(run.out.finished[i] - when) * 1000 for when, i in run.handed if i in run.out.finished]
    print(
        f"  today: hand-over to commit p50 {_pct(lags, 0.5):.1f} ms, p99 {_pct(lags, 0.99):.1f}"
        f" ms, max {max(lags):.1f} ms; a finished line waits (event to printed) p50 "
        f"{_pct(held, 0.5):.1f} ms, p99 {_pct(held, 0.99):.1f} ms, max {max(held):.1f} ms "
        "(before: 0, and a kill in that window lost the printed step)"
    )
    run.store.close()


def bench_hang(hang_s: float, steps: int, step_s: float) -> None:
    """A write that does not return (injected at the writer's `stall` boundary)."""
    import threading

    print(
        f"a write that hangs {hang_s:g} s without an error in mid-run ({steps} steps of "
        f"{step_s} s; injected at LogWriter(stall=...)):"
    )
    window: list[float] = []
    go = threading.Event()

    def stall() -> None:
        if not window and time.monotonic() >= start + 1.0:  # one hang, a second in
            window.append(time.monotonic())
            go.wait(hang_s)
            window.append(time.monotonic())

    db = Path(tempfile.mkdtemp(prefix="hiphook-bench-hang-")) / "log.db"
    start = time.monotonic()
    run = LogRun(db, "writer", steps, step_s, stall=stall)
    run.run()
    assert run.writer is not None
    outcome = run.writer.close()
    run.release()
    t0, t1 = window
    during = [late * 1000 for when, late in run.late if t0 <= when <= t1]
    in_log, status = _steps_in(db)
    told = [w - t0 for w, n in run.notices if n.state == "waiting"]  # type: ignore[attr-defined]
    caught = [w - t1 for w, n in run.notices if n.state == "caught_up"]  # type: ignore[attr-defined]
    waited = [run.out.finished[i] - w for w, i in run.handed if t0 <= w <= t1]
    print(
        f"  lateness during the hang p50 {_pct(during, 0.5):.2f} ms, p99 "
        f"{_pct(during, 0.99):.2f} ms, max {max(during):.2f} ms; user told "
        f"{told[0]:.2f} s after the write hung"
        if told
        else "  user never told"
    )
    print(
        f"  caught up {caught[0]:.2f} s after it answered; steps in the log {in_log}/{steps} "
        f"({status}), lost {steps - in_log}, complete {outcome.complete}; finished lines "
        f"of the steps ended in the hang printed {min(waited):.2f}-{max(waited):.2f} s late"
        if caught and waited
        else f"  not caught up: {run.notices}"
    )
    print("  (before: no watchdog; nothing was said while the write hung)")
    run.store.close()


def bench_fullfs(steps: int, step_s: float) -> None:
    import shutil

    print(f"the disk fills in mid-run (a {steps}-step run, log on a small tmpfs):")
    if shutil.which("unshare") is None:
        print("  skipped: unshare is not installed")
        return
    for variant in ("inline", "writer"):
        work = Path(tempfile.mkdtemp(prefix="hiphook-bench-full-"))
        rescue = work / "rescue"
        script = (
            'set -e; mount -t tmpfs -o size=2048k tmpfs "$FULL"; set +e; '
            f'"$PY" "$BENCH" --child {variant} --db "$FULL/log.db" --child-steps {steps} '
            f'--child-step-s {step_s} --child-fill "$FULL/filler"; rc=$?; '
            'rm -f "$FULL/filler"; cp "$FULL"/log.db* "$KEEP"/; exit $rc'
        )
        (work / "full").mkdir()
        (work / "keep").mkdir()
        out = subprocess.run(
            ["unshare", "-m", "sh", "-c", script],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "FULL": str(work / "full"),
                "KEEP": str(work / "keep"),
                "PY": sys.executable,
                "BENCH": __file__,
                "BENCH_RESCUE": str(rescue),
            },
            timeout=300,
        )
        if "mount" in out.stderr and out.returncode != 0 and "step_finished" not in out.stdout:
            print(f"  skipped: no private tmpfs here ({out.stderr.strip()[:80]})")
            return
        printed = printed_steps(out.stdout)
        in_log, status = _steps_in(work / "keep" / "log.db")
        rescued = 0
        for f in rescue.glob("*.json"):
            rescued = len(json.loads(f.read_text())["sessions"][0]["steps"])
        notices = [x.split()[1] for x in out.stdout.splitlines() if x.startswith("notice")]
        print(
            f"  {variant:7} printed {len(printed)}, in the log {in_log} ({status}), in a "
            f"recovery file {rescued}, lost {len(printed) - max(in_log, rescued)}; "
            f"exit {out.returncode}; told: {', '.join(notices) or 'nothing'}"
        )


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
    ap.add_argument(
        "--only",
        choices=["all", "routines", "pages", "log", "lock", "fullfs", "hang", "kill"],
        default="all",
        help="log: the four log rows (lock, fullfs, hang, kill); or one of them",
    )
    ap.add_argument("--kills", type=int, default=200, help="SIGKILLed runs of today's face")
    ap.add_argument("--baseline-kills", type=int, default=20, help="... of each baseline")
    ap.add_argument("--worst-kills", type=int, default=30, help="... after a finished line")
    ap.add_argument("--lock-s", type=float, default=6.0)
    ap.add_argument("--hang-s", type=float, default=3.0)
    ap.add_argument("--child", choices=list(KILL_ROWS), help=argparse.SUPPRESS)
    ap.add_argument("--child-steps", type=int, default=30, help=argparse.SUPPRESS)
    ap.add_argument("--child-step-s", type=float, default=0.2, help=argparse.SUPPRESS)
    ap.add_argument("--child-fill", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child_run(args.db, args.child, args.child_steps, args.child_step_s, args.child_fill)
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    log = args.only in ("all", "log")
    if log or args.only == "lock":
        bench_lock(args.lock_s, steps=60, step_s=0.2)
    if log or args.only == "fullfs":
        bench_fullfs(steps=40, step_s=0.1)
    if log or args.only == "hang":
        bench_hang(args.hang_s, steps=40, step_s=0.2)
    if log or args.only == "kill":
        bench_kill(args.kills, args.baseline_kills, args.worst_kills, steps=20, step_s=0.15)
    if args.only in ("log", "lock", "fullfs", "hang", "kill"):
        return 0
    if args.only in ("all", "routines"):
        bench_routines(args.steps, args.runs, args.before_max)
    if args.only == "routines":
        return 0
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

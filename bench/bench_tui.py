"""TUI benchmark: CPU during a press, launch to first screen, boundary-to-screen lag.

Every figure is measured on a real terminal (a pty the harness reads and drains), beside a
baseline measured the same way in the same run:

- CPU during a press: a child process shows a 120 s press step; over 30 s of it, its
  CPU time (all threads, from /proc) over wall time. Baseline: the same app with a naive
  routine screen that recomposes every widget at 60 Hz.
- First screen: from spawning `hiphook` (Home) to the Home title arriving on the pty.
  Baselines: the same Home after importing the database layer (sqlmodel) first; and
  the code as it was at `--base` (checked out into a temporary `git worktree`), the runs
  interleaved with ours so a loaded machine slows both alike. The first round warms the
  file cache and is dropped. With `--bytecode` every child writes and reads compiled
  bytecode in a cache of the run's own (PYTHONPYCACHEPREFIX), as an installed wheel has
  it; without it, the environment decides (PYTHONDONTWRITEBYTECODE=1 means every start
  compiles our modules from source), and the figure says which.
- Boundary-to-screen lag: a child runs holds of 0.5 s push / 0.5 s relax (clock x2); for
  each phase boundary, the time from its deadline to the first frame handed to the
  terminal writer after the phase line took the new text. Baseline: the naive 60 Hz
  recomposing screen, which ignores events.

    .venv/bin/python bench/bench_tui.py            # full run (~90 s)
    .venv/bin/python bench/bench_tui.py --quick    # shorter windows, for a smoke test
    .venv/bin/python bench/bench_tui.py --first-screen-only --runs 15 [--base REV] [--bytecode]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HIPHOOK = str(Path(PY).with_name("hiphook"))
COLS, ROWS = 80, 24
# The commit the first-screen work began from (main before it): the default `--base`.
BASE = "9fff3f7"

PRESS_TOML = """
name = "bench-press"
title = "Bench press"
[[step]]
kind = "press"
name = "Long press"
seconds = 120
instruction = "Keep the pressure on."
"""

HOLDS_TOML = """
name = "bench-holds"
title = "Bench holds"
[[step]]
kind = "holds"
name = "Quick holds"
reps = {reps}
push_s = 0.5
relax_s = 0.5
instruction = "Push, relax."
"""


# =========================================================================== child side
def _child_app(args: argparse.Namespace) -> None:
    """Runs inside the pty: the app as a user would see it, plus measuring hooks."""
    sys.path.insert(0, str(ROOT))
    if args.eager_db:
        import sqlmodel  # noqa: F401 - the baseline pays for the database layer up front

    from textual import events

    from app.core.clock import MonotonicClock, ScaledClock
    from app.core.engine import Event, EventKind
    from app.core.routine import load_routine
    from app.session import RunOptions, Session
    from app.tui.app import HiphookApp
    from app.tui.screens.routine import RoutineScreen

    lags: list[float] = []
    event_lags: list[float] = []  # deadline -> listener called (the engine's part)
    pending: list[tuple[float, str]] = []  # (deadline on the clock, phase text naming it)
    drawn: list[float] = []  # deadlines whose text is in the widgets, awaiting a frame

    missed: list[float] = []  # boundaries whose phase was never drawn before the next one

    def note_render(screen: RoutineScreen, before: object) -> None:
        after = screen.phase.text
        if after == before:
            return
        for i, (deadline, text) in enumerate(pending):
            if text in after:
                missed.extend(d for d, _ in pending[:i])
                del pending[: i + 1]
                drawn.append(deadline)
                return

    class MeasuredScreen(RoutineScreen):
        def render_view(self) -> None:
            before = self.phase.text
            super().render_view()
            note_render(self, before)

    class NaiveRoutineScreen(RoutineScreen):
        """The baseline: no event subscription, a full recompose on every 60 Hz tick."""

        exited = False

        def on_mount(self, event: events.Mount) -> None:
            event.prevent_default()  # not the base class's handler: no events, no 10 Hz timer
            self.set_interval(1 / 60, self._naive_tick, name="naive")
            self.run_worker(self.runner.run(), name="session", exclusive=True)

        async def _naive_tick(self) -> None:
            await self.recompose()
            try:
                self.render_view()
            except Exception:  # noqa: BLE001 - a tick landing mid-recompose; the next draws
                return
            note_render(self, None)
            if self.runner.done and not self.exited:
                self.exited = True
                self.app.exit()

    class BenchApp(HiphookApp):
        def make_routine_screen(self, session: Session) -> RoutineScreen:
            runner = session.runner
            return NaiveRoutineScreen(runner) if args.naive else MeasuredScreen(runner)

    if args.child == "home":
        HiphookApp(None, None, options=RunOptions(cues="none")).run()
        return

    routine = load_routine(args.routine)
    clock = ScaledClock(args.scale) if args.scale != 1 else MonotonicClock()
    app = BenchApp(routine, None, clock=clock, options=RunOptions(cues="none"))

    def on_event(ev: Event) -> None:
        # The first push comes in one batch with its step's start, whose listener call
        # already draws it; count the boundaries that arrive alone.
        if ev.kind is EventKind.PHASE and not (ev.rep == 1 and ev.phase == "push"):
            deadline = clock.now() - ev.t + ev.planned_t
            event_lags.append((clock.now() - deadline) / args.scale * 1000)
            word = (ev.phase or "").upper() if ev.phase == "push" else (ev.phase or "")
            pending.append((deadline, f"Hold {ev.rep}/{ev.reps} — {word}"))
        elif ev.kind in (EventKind.FINISHED, EventKind.ABORTED):
            Path(args.out).write_text(
                json.dumps({"lags_ms": lags, "event_lags_ms": event_lags, "missed": len(missed)})
            )
            # A runner listener is a plain loop callback, outside the app's context,
            # where a Textual timer never fires: the loop's own timer ends the app.
            asyncio.get_running_loop().call_later(0.3, app.exit)

    original_make_session = app.make_session

    def make_session(options: Any, routine_: Any, side: Any) -> Session:
        session = original_make_session(options, routine_, side)
        if args.child == "lag":
            session.runner.subscribe(on_event)
        return session

    app.make_session = make_session  # type: ignore[method-assign]

    def hook_driver() -> None:
        driver = app._driver
        assert driver is not None
        write = driver.write

        def timed_write(data: str) -> None:
            # The first frame written after the widgets took the new phase shows it.
            now = clock.now()
            lags.extend((now - d) / args.scale * 1000 for d in drawn)
            drawn.clear()
            write(data)

        driver.write = timed_write  # type: ignore[method-assign]

    app.call_later(hook_driver)
    app.run()


# =========================================================================== harness side
class Pty:
    """A child on its own 80x24 pty; a thread drains its output and notes when text appears."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.buf = bytearray()
        self.seen: dict[bytes, float] = {}
        self.watch: list[bytes] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.perf_counter()
            with self._lock:
                # Keep a short tail only: a text split across reads is still found, and a
                # chatty child (the baseline) is never slowed by a growing buffer.
                window = self.buf + data
                for w in self.watch:
                    if w not in self.seen and w in window:
                        self.seen[w] = now
                self.buf = window[-16384:]

    def wait_for(self, text: str, timeout: float = 10.0) -> float:
        """Seconds from spawn until `text` first arrived on the terminal."""
        key = text.encode()
        with self._lock:
            self.watch.append(key)
            if key in self.buf:
                self.seen.setdefault(key, time.perf_counter())
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if key in self.seen:
                    return self.seen[key] - self.t0
            time.sleep(0.002)
        raise TimeoutError(f"{text!r} never appeared")

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def cpu_s(self) -> float:
        """User + system CPU seconds of the child, all threads."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


def child_argv(*extra: str) -> list[str]:
    return [PY, str(Path(__file__).resolve()), "--child", *extra]


def bench_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TERM="xterm-256color",
        COLUMNS=str(COLS),
        LINES=str(ROWS),
        HIPHOOK_CONFIG=str(tmp / "settings.json"),
        HIPHOOK_DB=str(tmp / "h.db"),
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
    )
    env.pop("TEXTUAL", None)
    return env


def first_screen(env: dict[str, str], runs: int, before: Path | None) -> dict[str, list[float]]:
    """Seconds to Home's title: ours, the eager database baseline, and (given) the tree
    `before`, one of each in turn; the first round is dropped."""
    cases = [("ours", [HIPHOOK], ROOT), ("baseline", child_argv("home", "--eager-db"), ROOT)]
    if before is not None:
        cases.append(("before", [HIPHOOK], before))
    out: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    title = "daily hip-flexor release"
    for i in range(runs + 1):
        for name, argv, tree in cases:
            p = Pty(argv, {**env, "PYTHONPATH": str(tree)})
            try:
                took = p.wait_for(title)
            finally:
                p.stop()
            if i:
                out[name].append(took)
    return out


def report_first_screen(env: dict[str, str], runs: int, base: str | None) -> None:
    """The first-screen figures, beside the code at `base` when given."""
    with contextlib.ExitStack() as stack:
        before = stack.enter_context(base_tree(base)) if base else None
        fs = first_screen(env, runs, before)
    o, b = statistics.median(fs["ours"]), statistics.median(fs["baseline"])
    caching = (
        "bytecode cached"
        if "PYTHONPYCACHEPREFIX" in env
        else "no bytecode written (PYTHONDONTWRITEBYTECODE)"
        if env.get("PYTHONDONTWRITEBYTECODE")
        else "bytecode as the environment has it"
    )
    print(
        f"first screen, spawn -> Home title on the pty (median of {runs}, {caching}, "
        f"target <= 0.8 s):\n  ours {o:.3f} s (max {max(fs['ours']):.3f})   baseline, DB "
        f"layer imported first {b:.3f} s   ratio {b / o:.2f}x"
    )
    if before is not None:
        w = statistics.median(fs["before"])
        print(f"  before ({base}) {w:.3f} s (max {max(fs['before']):.3f})   ratio {w / o:.2f}x")


@contextlib.contextmanager
def base_tree(rev: str) -> Iterator[Path]:
    """The code at `rev`, in a temporary git worktree (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="bench-tui-base-") as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), rev],
            check=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True
            )


def cpu_during_press(env: dict[str, str], tmp: Path, window: float) -> dict[str, float]:
    toml = tmp / "press.toml"
    toml.write_text(PRESS_TOML)
    children = {
        "ours": Pty(child_argv("press", "--routine", str(toml)), env),
        "baseline": Pty(child_argv("press", "--routine", str(toml), "--naive"), env),
    }
    try:
        for p in children.values():
            p.wait_for("How much does your")
            p.send(b"s")  # skip the check-in: the press starts
        for p in children.values():
            p.wait_for("Long press")
        time.sleep(2.0)  # past start-up work: measure the steady state of a press
        start = {k: (p.cpu_s(), time.perf_counter()) for k, p in children.items()}
        time.sleep(window)
        out = {}
        for k, p in children.items():
            if p.proc.poll() is not None:
                tail = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", p.buf.decode("utf-8", "replace"))
                raise RuntimeError(f"the {k} child exited during the window:\n{tail[-1500:]}")
            cpu0, wall0 = start[k]
            out[k] = (p.cpu_s() - cpu0) / (time.perf_counter() - wall0) * 100
        return out
    finally:
        for p in children.values():
            p.stop()


def boundary_lag(env: dict[str, str], tmp: Path, reps: int) -> dict[str, list[float]]:
    """One child at a time: the baseline's busy recomposing must not slow ours down."""
    toml = tmp / "holds.toml"
    toml.write_text(HOLDS_TOML.format(reps=reps))
    out: dict[str, list[float]] = {}
    for name, extra in (("ours", ()), ("baseline", ("--naive",))):
        result = tmp / f"lag-{name}.json"
        p = Pty(
            child_argv("lag", "--routine", str(toml), "--scale", "2", "--out", str(result), *extra),
            env,
        )
        try:
            p.wait_for("How much does your")
            p.send(b"s")
            p.proc.wait(timeout=reps * 1.0 / 2 + 30)
        finally:
            p.stop()
        data = json.loads(result.read_text())
        out[name] = data["lags_ms"]
        out[name + "_missed"] = [float(data["missed"])]
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short windows (a smoke test)")
    ap.add_argument("--runs", type=int, help="first-screen runs per case (5; quick: 2)")
    ap.add_argument("--base", default=BASE, help=f"first screen before: this revision ({BASE})")
    ap.add_argument("--no-base", action="store_true", help="no first screen of --base")
    ap.add_argument(
        "--bytecode", action="store_true", help="children cache compiled bytecode (installed)"
    )
    ap.add_argument("--first-screen-only", action="store_true", help="only the first screen")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--routine", help=argparse.SUPPRESS)
    ap.add_argument("--naive", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--eager-db", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child_app(args)
        return

    window = 5.0 if args.quick else 30.0
    runs = args.runs or (2 if args.quick else 5)
    reps = 10 if args.quick else 40
    with tempfile.TemporaryDirectory(prefix="hiphook-bench-") as d:
        tmp = Path(d)
        env = bench_env(tmp)
        if args.bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        print(
            f"hiphook TUI benchmark ({COLS}x{ROWS} pty, {os.cpu_count()} CPUs, "
            f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f})"
        )
        report_first_screen(env, runs, None if args.no_base else args.base)
        if args.first_screen_only:
            return
        cpu = cpu_during_press(env, tmp, window)
        print(
            f"CPU during a press, {window:.0f} s window (target <= 2% of one core):\n"
            f"  ours {cpu['ours']:.2f}%   baseline, 60 Hz recompose {cpu['baseline']:.2f}%"
            f"   ratio {cpu['baseline'] / max(cpu['ours'], 0.01):.1f}x"
        )
        lag = boundary_lag(env, tmp, reps)
        o50, o99 = pct(lag["ours"], 50), pct(lag["ours"], 99)
        b50, b99 = pct(lag["baseline"], 50), pct(lag["baseline"], 99)
        print(
            f"boundary -> frame written, {len(lag['ours'])} / {len(lag['baseline'])} "
            f"boundaries shown, {lag['ours_missed'][0]:.0f} / {lag['baseline_missed'][0]:.0f} "
            f"never shown (target p99 <= 34 ms):\n"
            f"  ours p50 {o50:.1f} ms p99 {o99:.1f} ms   baseline p50 {b50:.1f} ms "
            f"p99 {b99:.1f} ms   ratio p99 {b99 / max(o99, 0.01):.1f}x"
        )


if __name__ == "__main__":
    main()

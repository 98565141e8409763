"""How late does the session runner emit a boundary, on the real clock and the real loop?

Why: the runner promises that no boundary is early, that a boundary lands within about a
millisecond, and that lateness never adds up over a routine (every boundary is an absolute
deadline). The tests run on a fake clock, so only a real run can check the promise, and
only under load does it mean anything: a pure-Python thread that keeps one core busy also
holds the GIL, which the alarm thread and the loop thread both need to wake.

Beside the runner, the same routine under the same load runs in a naive loop that awaits
`asyncio.sleep(step)` per step (its lateness adds up) and in a loop of absolute
`loop.call_at` deadlines (no drift, but the selector rounds its timeout up to whole ms).
The runner measured is app/runner.py itself, never a copy: to try a change to it, change
it and run this beside the figures of the unchanged one (git stash).

    .venv/bin/python bench/bench_timing.py            # under 2 minutes
    .venv/bin/python bench/bench_timing.py --stages   # and where the time goes
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app import runner as runner_module
from app.core.clock import MonotonicClock
from app.core.engine import Event, EventKind
from app.core.routine import Routine, Step, StepKind
from app.runner import SessionRunner

# The targets for the runner.
TARGET_P99_MS = 1.0
TARGET_MAX_MS = 10.0
TARGET_DRIFT_MS = 1.0

LOADS = ("none", "thread", "process")


def make_routine(n: int, step_s: float) -> Routine:
    """n TIMED steps of step_s: n boundaries; built directly as TOML wants seconds >= 1."""
    steps = tuple(
        Step(kind=StepKind.TIMED, name=f"step {i + 1}", instruction="", seconds=step_s)
        for i in range(n)
    )
    return Routine(name="bench", title="bench", version=1, description="", steps=steps)


def new_runner(routine: Routine) -> SessionRunner:
    return SessionRunner(routine, MonotonicClock())


# --------------------------------------------------------------------------- the variants


async def time_runner(
    runner: SessionRunner, stages: list[tuple[float, float]] | None = None
) -> list[float]:
    """Lateness of each step's end, taken when a listener sees it (what a cue would hear).

    With `stages`, also when the alarm thread had the GIL again (it calls
    call_soon_threadsafe) and when the loop ran the alarm's callback: where time goes.
    """
    late: list[float] = []
    marks = [0.0, 0.0]
    if stages is not None:
        loop = asyncio.get_running_loop()
        threadsafe = loop.call_soon_threadsafe

        def traced(callback: Callable[[], object]) -> asyncio.Handle:
            marks[0] = time.monotonic()

            def on_loop() -> None:
                marks[1] = time.monotonic()
                callback()

            return threadsafe(on_loop)

        loop.call_soon_threadsafe = traced  # type: ignore[method-assign,assignment]

    def on_event(ev: Event) -> None:
        if ev.kind is EventKind.STEP_FINISHED:
            lateness = runner.engine.t() - ev.planned_t  # engine.t() reads the clock now
            late.append(lateness)
            if stages is not None:
                deadline = time.monotonic() - lateness
                stages.append((marks[0] - deadline, marks[1] - deadline))

    runner.subscribe(on_event)
    await runner.run()
    return late


async def time_naive(routine: Routine) -> list[float]:
    """What one writes without the runner: sleep one step at a time, so lateness adds up."""
    late: list[float] = []
    t0 = time.monotonic()
    planned = 0.0
    for step in routine.steps:
        await asyncio.sleep(step.planned_s)
        planned += step.planned_s
        late.append(time.monotonic() - t0 - planned)
    return late


async def time_call_at(routine: Routine) -> list[float]:
    """Absolute deadlines on asyncio's own timer: no drift, but the ms rounding of select."""
    loop = asyncio.get_running_loop()
    late: list[float] = []
    t0 = loop.time()  # time.monotonic() on the default loop

    def ring(fut: asyncio.Future[None], planned: float) -> None:
        late.append(time.monotonic() - t0 - planned)
        fut.set_result(None)

    planned = 0.0
    for step in routine.steps:
        planned += step.planned_s
        fut: asyncio.Future[None] = loop.create_future()
        loop.call_at(t0 + planned, ring, fut, planned)
        await fut
    return late


def variant_coro(
    variant: str, routine: Routine, stages: list[tuple[float, float]] | None
) -> Callable[[], Awaitable[list[float]]]:
    if variant == "naive":
        return lambda: time_naive(routine)
    if variant == "call_at":
        return lambda: time_call_at(routine)
    return lambda: time_runner(new_runner(routine), stages)


# --------------------------------------------------------------------------- load and noise


def _spin(stop: threading.Event) -> None:
    """Pure-Python busy loop: it holds the GIL until the interpreter forces a switch."""
    x = 0
    while not stop.is_set():
        x += 1


@contextmanager
def load(kind: str) -> Iterator[int | None]:
    """Keep one core busy; yields the busy thread's ident (to exclude its CPU time)."""
    if kind == "thread":
        stop = threading.Event()
        thread = threading.Thread(target=_spin, args=(stop,), name="bench-busy", daemon=True)
        thread.start()
        try:
            yield thread.ident
        finally:
            stop.set()
            thread.join()
    elif kind == "process":
        proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)  # let it start spinning
        try:
            yield None
        finally:
            proc.kill()
            proc.wait()
    else:
        yield None


def _busy_jiffies() -> int | None:
    """Busy CPU ticks of the whole machine (Linux), to tell when others disturb a run."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return None
    return sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait


class Others:
    """Cores used by other processes during a measurement: a noise gauge, not a result."""

    def __init__(self, own_cores: float) -> None:
        self.own_cores = own_cores  # the busy process of the "process" load
        self.cores: float | None = None

    def __enter__(self) -> Others:
        self._j0 = _busy_jiffies()
        self._cpu0 = time.process_time()
        self._w0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        j1 = _busy_jiffies()
        wall = time.monotonic() - self._w0
        if self._j0 is None or j1 is None or wall <= 0:
            return
        machine = (j1 - self._j0) / os.sysconf("SC_CLK_TCK") / wall
        ours = (time.process_time() - self._cpu0) / wall + self.own_cores
        self.cores = max(0.0, machine - ours)


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    load: str
    n: int
    variant: str
    late_ms: list[float]
    others: float | None
    stages_ms: list[tuple[float, float]]

    def pct(self, q: float) -> float:
        s = sorted(self.late_ms)
        return s[min(len(s) - 1, int(q * len(s)))]

    @property
    def drift_ms(self) -> float:
        return self.late_ms[-1]

    @property
    def trend_ms(self) -> float:
        """Median lateness of the last tenth minus the first: growth, robust to one outlier."""
        k = max(1, len(self.late_ms) // 10)
        first, last = sorted(self.late_ms[:k]), sorted(self.late_ms[-k:])
        return last[len(last) // 2] - first[len(first) // 2]

    @property
    def early(self) -> int:
        return sum(x < 0 for x in self.late_ms)

    def misses(self) -> str:
        if self.variant != "runner":
            return "-"
        bad = [
            name
            for name, ok in (
                ("early", self.early == 0),
                ("p99", self.pct(0.99) <= TARGET_P99_MS),
                ("max", max(self.late_ms) <= TARGET_MAX_MS),
                ("drift", abs(self.drift_ms) <= TARGET_DRIFT_MS),
            )
            if not ok
        ]
        return "ok" if not bad else "MISS " + ",".join(bad)


def measure(load_kind: str, n: int, variant: str, step_s: float, *, stages: bool) -> Row:
    routine = make_routine(n, step_s)
    marks: list[tuple[float, float]] | None = [] if stages and variant == "runner" else None
    with Others(1.0 if load_kind == "process" else 0.0) as others:
        late = asyncio.run(variant_coro(variant, routine, marks)())
    staged = [(a * 1000, b * 1000) for a, b in marks or []]
    return Row(load_kind, n, variant, [x * 1000 for x in late], others.cores, staged)


def quietest(rows: list[Row]) -> Row:
    """Of repeats of one measurement, the one that other processes disturbed least."""
    return min(rows, key=lambda r: float("inf") if r.others is None else r.others)


def print_table(rows: list[Row]) -> None:
    runner_drift = {(r.load, r.n): r.drift_ms for r in rows if r.variant == "runner"}
    head = (
        f"{'load':8}{'n':>6}  {'variant':16}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'drift ms':>10}{'trend ms':>10}{'early':>6}{'drift/runner':>13}{'others':>7}  targets"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        base = runner_drift.get((r.load, r.n))
        ratio = "-" if r.variant == "runner" or not base else f"{r.drift_ms / base:.1f}x"
        others = "?" if r.others is None else f"{r.others:.2f}"
        print(
            f"{r.load:8}{r.n:>6}  {r.variant:16}{r.pct(0.5):9.3f}{r.pct(0.99):9.3f}"
            f"{max(r.late_ms):9.3f}{r.drift_ms:10.3f}{r.trend_ms:10.3f}{r.early:6}{ratio:>13}"
            f"{others:>7}"
            f"  {r.misses()}"
        )


def print_stages(rows: list[Row]) -> None:
    """Where a runner's lateness comes from: each stage needs the GIL once more."""
    print(
        "\nstages of the runner's wake-up, ms after the deadline (p50 / p99; "
        "negative: before it, as the runner's early alarm is):"
    )
    print(
        f"{'load':8}{'n':>6}  {'variant':16}{'alarm has GIL':>18}{'loop callback':>18}"
        f"{'listener':>18}"
    )
    for r in rows:
        if not r.stages_ms:
            continue
        alarm = Row(r.load, r.n, r.variant, [a for a, _ in r.stages_ms], None, [])
        loop = Row(r.load, r.n, r.variant, [b for _, b in r.stages_ms], None, [])
        cells = [f"{x.pct(0.5):7.3f} /{x.pct(0.99):7.3f}" for x in (alarm, loop, r)]
        print(f"{r.load:8}{r.n:>6}  {r.variant:16}" + "".join(f"{c:>18}" for c in cells))


# --------------------------------------------------------------------------- idle CPU


def _thread_cpu(ident: int | None) -> float:
    if ident is None:
        return 0.0
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


async def idle_cpu(variant: str, wait_s: float, busy: int | None) -> str:
    """CPU the runner spends over one long step: it should sleep in the kernel throughout."""
    runner = new_runner(make_routine(1, wait_s))
    loop_ident = threading.get_ident()
    marks: dict[str, float] = {}

    def on_event(ev: Event) -> None:
        if ev.kind in (EventKind.STEP_STARTED, EventKind.STEP_FINISHED):
            alarm = next(t for t in threading.enumerate() if t.name == "hiphook-alarm")
            tag = "0" if ev.kind is EventKind.STEP_STARTED else "1"
            marks["loop" + tag] = _thread_cpu(loop_ident)
            marks["alarm" + tag] = _thread_cpu(alarm.ident)
            marks["busy" + tag] = _thread_cpu(busy)
            marks["proc" + tag] = time.process_time()
            marks["wall" + tag] = time.monotonic()

    runner.subscribe(on_event)
    await runner.run()
    ms = {k: (marks[k + "1"] - marks[k + "0"]) * 1000 for k in ("loop", "alarm", "busy", "proc")}
    wall = marks["wall1"] - marks["wall0"]
    proc = ms["proc"] - ms["busy"]
    return (
        f"{variant:16}{wall:6.2f} s  loop thread {ms['loop']:6.2f} ms  "
        f"alarm thread {ms['alarm']:6.2f} ms  process w/o busy thread {proc:6.2f} ms "
        f"({proc / 10 / wall:.3f} % of a core)"
    )


# --------------------------------------------------------------------------- main


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,300,1000", help="boundaries per routine (main load)")
    ap.add_argument("--step-ms", type=float, default=20.0, help="length of every step")
    ap.add_argument("--load", default="thread", choices=LOADS, help="load for --sizes")
    ap.add_argument("--side-loads", default="none,process", help="other loads, at --side-size")
    ap.add_argument("--side-size", type=int, default=200)
    ap.add_argument("--call-at-sizes", default="300", help="--sizes that also run call_at")
    ap.add_argument("--idle-s", type=float, default=3.0, help="idle wait to measure (0: skip)")
    ap.add_argument("--stages", action="store_true", help="also time the runner's wake stages")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each row N times, keep "
        "the run least disturbed by other processes (busy shared machines)",
    )
    args = ap.parse_args(argv)

    side_loads = _csv(args.side_loads)
    for kind in side_loads:
        if kind not in LOADS:
            ap.error(f"--side-loads takes {', '.join(LOADS)}, not {kind!r}")
    step_s = args.step_ms / 1000
    call_at_sizes = {int(x) for x in _csv(args.call_at_sizes)}
    runners = ["runner"]

    plan: list[tuple[str, int]] = [(args.load, int(n)) for n in _csv(args.sizes)]
    plan += [(kind, args.side_size) for kind in side_loads if kind != args.load]
    print(
        f"hiphook timing bench: {args.step_ms:g} ms steps, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, switch interval {sys.getswitchinterval() * 1000:g} ms\n"
        f"runner from {runner_module.__file__}"
    )
    print(
        "lateness = when a listener sees the boundary - its planned deadline (ms); "
        "drift = lateness of the last boundary\n"
    )
    rows: list[Row] = []
    for kind, n in plan:
        with_call_at = n in call_at_sizes or kind != args.load
        variants = [*runners, "naive"] + (["call_at"] if with_call_at else [])
        with load(kind):
            for variant in variants:
                tries = [
                    measure(kind, n, variant, step_s, stages=args.stages)
                    for _ in range(max(1, args.repeat))
                ]
                rows.append(quietest(tries))
    print_table(rows)
    print(
        f"\ntargets for the runner: never early, p99 <= {TARGET_P99_MS:g} ms, "
        f"max <= {TARGET_MAX_MS:g} ms, drift <= {TARGET_DRIFT_MS:g} ms.\n"
        "trend = median lateness of the last tenth - of the first tenth. "
        "others = cores used by other processes meanwhile (noise)."
    )
    if args.stages:
        print_stages(rows)

    if args.idle_s > 0:
        print(f"\nidle wait (one {args.idle_s:g} s step, load {args.load}): CPU while waiting")
        with load(args.load) as busy:
            for variant in runners:
                print("  " + asyncio.run(idle_cpu(variant, args.idle_s, busy)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

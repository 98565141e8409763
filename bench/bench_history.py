"""Ten years of daily sessions: file size, History data, Home data and start-up time.

    .venv/bin/python bench/bench_history.py [--years 10] [--db PATH]

Builds 3650 completed sessions of the daily routine (10 steps each) with four 90 s
presses traced at 80 Hz (a ramp onto the tool, a breathing sway, slow drift and
σ = 0.3 N load-cell noise), inserted in bulk. 48 distinct synthetic traces are encoded
and reused in turn: every row still stores its own blob, so the file size is honest,
and generation stays well under two minutes. Each figure is printed beside a naive
baseline measured in the same run, with the ratio. Targets: file ≤ 100 MB, History
data ≤ 50 ms, and start-up with ten years no slower than with an empty log.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from app.core.routine import load_routine  # noqa: E402
from app.store.models import RunSession, StepRow, TraceRow  # noqa: E402
from app.store.reader import load_home  # noqa: E402
from app.store.stats import streak  # noqa: E402
from app.store.store import ST, TR, S, open_store  # noqa: E402
from app.store.trace import CODEC, ForceTrace, encode_trace  # noqa: E402

RATE_HZ = 80.0
PRESS_S = 90.0
DISTINCT_TRACES = 48
TZ = "Europe/Berlin"


def synth_trace(rnd: random.Random) -> ForceTrace:
    plateau = rnd.uniform(80, 200)
    sway = rnd.uniform(3, 12)
    breath_hz = rnd.uniform(0.15, 0.3)
    drift = rnd.uniform(-0.1, 0.1)
    ramp_s = rnd.uniform(2.0, 4.0)  # settling onto the tool
    values = []
    for i in range(int(PRESS_S * RATE_HZ)):
        t = i / RATE_HZ
        f = min(1.0, t / ramp_s) * (
            plateau + sway * math.sin(2 * math.pi * breath_hz * t) + drift * t
        )
        values.append(max(0.0, f + rnd.gauss(0, 0.3)))
    return ForceTrace(tuple(values), RATE_HZ)


def build(db: Path, years: int, seed: int = 7) -> tuple[int, float]:
    """Fill a fresh log with `years` of daily sessions; returns (sessions, seconds)."""
    t0 = time.perf_counter()
    rnd = random.Random(seed)
    blobs = [encode_trace(synth_trace(rnd)) for _ in range(DISTINCT_TRACES)]
    routine = load_routine("daily").for_side("left")
    store = open_store(db)
    n_days = 365 * years
    first = date.today() - timedelta(days=n_days - 1)
    sessions, steps, traces = [], [], []
    step_id = 0
    for k in range(n_days):
        day = first + timedelta(days=k)
        started = datetime(day.year, day.month, day.day, 6, 30, tzinfo=UTC)
        sessions.append(
            {
                "id": k + 1,
                "uuid": str(uuid.UUID(int=rnd.getrandbits(128))),
                "started_utc": started,
                "ended_utc": started + timedelta(minutes=11),
                "tz": TZ,
                "utc_offset_min": 60,
                "local_day": day,
                "routine": "daily",
                "routine_version": 1,
                "side": "left",
                "sensor": "/dev/ttyUSB0",
                "status": "completed",
                "pain_before": rnd.randint(2, 7),
                "pain_after": rnd.randint(0, 5),
                "notes": "",
                "elapsed_s": 660.0,
                "pid": None,
                "host": None,
            }
        )
        for i, s in enumerate(routine.steps):
            step_id += 1
            press = s.kind.value == "press"
            steps.append(
                {
                    "id": step_id,
                    "session_id": k + 1,
                    "idx": i,
                    "kind": s.kind.value,
                    "name": s.name,
                    "side": s.side,
                    "planned_s": s.planned_s,
                    "actual_s": s.planned_s or 5.0,
                    "reps_done": s.reps,
                    "skipped": False,
                    "completed": True,
                    "verdict": "steady" if press else None,
                    "under_pressure_s": 86.0 if press else None,
                }
            )
            if press:
                blob = blobs[len(traces) % DISTINCT_TRACES]
                traces.append(
                    {
                        "step_id": step_id,
                        "codec": CODEC,
                        "rate_hz": RATE_HZ,
                        "n_samples": int(PRESS_S * RATE_HZ),
                        "data": blob,
                    }
                )
    with store.engine.begin() as conn:
        conn.execute(insert(S), sessions)
        conn.execute(insert(ST), steps)
        for i in range(0, len(traces), 2000):
            conn.execute(insert(TR), traces[i : i + 2000])
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return n_days, time.perf_counter() - t0


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the page cache and the statement cache, as a second screen visit would
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def naive_history(db: Path) -> object:
    """Baseline: load every session with its steps and traces through the ORM."""
    from sqlmodel import Session as OrmSession

    store = open_store(db)
    with OrmSession(store.engine) as orm:
        sessions = orm.exec(select(RunSession)).scalars().all()  # type: ignore[call-overload]
        steps = orm.exec(select(StepRow)).scalars().all()  # type: ignore[call-overload]
        traces = orm.exec(select(TraceRow)).scalars().all()  # type: ignore[call-overload]
        days = {s.local_day for s in sessions if s.status == "completed"}
        out = (streak(days, date.today()), len(steps), sum(len(t.data) for t in traces))
    store.close()
    return out


STARTUP = {
    "home (stdlib loader)": (
        "import time; t=time.perf_counter(); from app.store import load_home; "
        "h=load_home({db!r}); print((time.perf_counter()-t)*1000)"
    ),
    "open_store + recover + home": (
        "import time; t=time.perf_counter(); from app.store.store import open_store; "
        "s=open_store({db!r}); s.recover_interrupted(); h=s.home(); "
        "print((time.perf_counter()-t)*1000)"
    ),
}


def startup_ms(code: str, db: Path, runs: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    times = []
    for _ in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", code.format(db=str(db))],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times[1:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--db", type=Path, default=None, help="keep the big log at this path")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hiphook-bench-"))
    big = args.db or folder / "ten-years.db"
    empty = folder / "empty.db"
    if big.exists():
        big.unlink()
    n, secs = build(big, args.years)
    open_store(empty).close()
    size = big.stat().st_size / 1e6
    print(
        f"generated {n} sessions ({n * 4} traced presses, "
        f"{n * 4 * int(PRESS_S * RATE_HZ) / 1e6:.0f} M samples) in {secs:.1f} s"
    )
    print(
        f"file size: {size:.1f} MB (target ≤ 100 MB); "
        f"raw float64 samples would be {n * 4 * PRESS_S * RATE_HZ * 8 / 1e6:.0f} MB, "
        f"int16 {n * 4 * PRESS_S * RATE_HZ * 2 / 1e6:.0f} MB"
    )

    store = open_store(big)
    hist = median_ms(store.history, args.runs)
    home_full = median_ms(store.home, args.runs)
    sid = store.sessions(limit=1, steps=False)[0]["id"]
    detail = median_ms(lambda: store.session_traces(sid), args.runs)
    store.close()
    home_fast = median_ms(lambda: load_home(str(big)), args.runs)
    naive = median_ms(lambda: naive_history(big), 2)
    print(
        f"History screen data (streak, calendar, adherence, pain, 500 recent): "
        f"{hist:.1f} ms (target ≤ 50 ms); naive load-everything baseline {naive:.0f} ms "
        f"(×{naive / hist:.0f})"
    )
    print(f"one session's presses decoded for the detail plot: {detail:.1f} ms")
    print(f"Home data: stdlib loader {home_fast:.1f} ms, through the Store {home_full:.1f} ms")

    print("start-up in a fresh interpreter (imports included), median:")
    for label, code in STARTUP.items():
        e = startup_ms(code, empty, max(3, args.runs // 3))
        b = startup_ms(code, big, max(3, args.runs // 3))
        print(f"  {label:<28} empty log {e:6.1f} ms   ten years {b:6.1f} ms   ratio {b / e:.2f}")
    # Integrity: the data reads back.
    store = open_store(big)
    [(_, tr)] = store.session_traces(sid)[:1]
    assert len(tr.values) == int(PRESS_S * RATE_HZ)
    store.close()
    print(f"(databases in {folder}; delete when done)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

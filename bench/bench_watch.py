"""What second screens cost the run, and how late they show a boundary.

One real run (`hiphook run --plain --json`, a subprocess) of one long step of short
push/relax reps, so boundaries come every `--every` real seconds. For the first third
of the run no one watches, for the second third 1 watcher does, for the last third 5
do. The watchers are real processes on the run's socket: all but one read the lines
as `hiphook watch --json` does; one is the `hiphook watch` app itself (headless, at
80x24), which stamps each event when its batch's view has been drawn.

Figures, all from the same run:
- the run's boundary lateness (emitted t - planned_t, in real ms) per segment, p50 /
  p99 / max, and the 5-watcher segment over the 0-watcher one (the baseline);
- the boundary-to-second-screen lag: from the moment the run emitted a boundary
  (t0_monotonic + t / time_scale) to the moment a watcher had it (line read) and the
  watch app had drawn it, p50 / p99 / max. Target: p99 <= 100 ms.

    PYTHONPATH=. python bench/bench_watch.py [--seconds 60] [--every 0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def row(name: str, values: list[float]) -> str:
    return (
        f"{name:<34} n={len(values):>4}  p50 {pct(values, 50):7.2f}  "
        f"p99 {pct(values, 99):7.2f}  max {max(values, default=float('nan')):7.2f} ms"
    )


# ---------------------------------------------------------------- watcher processes
async def watcher_lines() -> list[tuple[float, dict[str, object]]]:
    """Read the run's lines as `hiphook watch --json` does; stamp each on arrival."""
    from app.publish.client import connect

    conn = None
    end = time.monotonic() + 30
    while conn is None and time.monotonic() < end:
        conn = await connect()
        if conn is None:
            await asyncio.sleep(0.05)
    assert conn is not None, "no run to watch"
    got: list[tuple[float, dict[str, object]]] = []
    async for msg in conn.messages():
        got.append((time.monotonic(), msg))
    return got


async def watcher_app() -> list[tuple[float, dict[str, object]]]:
    """The real watch app, headless: its own stamps, taken once a batch is drawn."""
    from app.watch.app import WatchApp

    app = WatchApp(once=True)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.return_code is None:
            await pilot.pause(0.2)
    return list(app.shown)


def watcher_main(kind: str) -> None:
    got = asyncio.run(watcher_lines() if kind == "lines" else watcher_app())
    json.dump([[t, m] for t, m in got], sys.stdout)


# ---------------------------------------------------------------- the run
SETTLE_S = 6.0

ROUTINE = """
name = "bench-watch"
title = "Bench watch"
[[step]]
kind = "holds"
name = "Pulses"
instruction = "Push, relax."
reps = {reps}
push_s = 1
relax_s = 1
"""


class BrowserWatcher(threading.Thread):
    """`hiphook serve` and the system's headless Chromium as a phone, which stamps each
    change of the phase line with the wall clock (ms) as it is drawn."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.env = env
        self.done = threading.Event()
        self.records: list[tuple[float, str]] = []

    def run(self) -> None:
        from tests.support.browser import phone_browser

        serve = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], stdout=subprocess.PIPE, text=True, env=self.env
        )
        assert serve.stdout is not None
        url = ""
        while not url.startswith("http://"):
            url = serve.stdout.readline().strip()
        try:
            with phone_browser() as driver:
                driver.get(url)
                driver.execute_script(
                    """
                    window.seen = [];
                    const el = document.getElementById('phase');
                    new MutationObserver(() => window.seen.push(
                        [performance.timeOrigin + performance.now(), el.textContent])
                    ).observe(el, {childList: true, characterData: true, subtree: true});
                    """
                )
                self.done.wait(600)
                self.records = [(float(a), str(b)) for a, b in driver.execute_script("return seen")]
        finally:
            serve.send_signal(signal.SIGINT)
            serve.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=90.0, help="real seconds of run")
    ap.add_argument("--every", type=float, default=0.25, help="real seconds between boundaries")
    ap.add_argument("--watcher", choices=["lines", "app"], help=argparse.SUPPRESS)
    ap.add_argument(
        "--browser",
        action="store_true",
        help="a fourth segment: `hiphook serve` and a local headless Chromium as the phone",
    )
    args = ap.parse_args()
    if args.watcher:
        watcher_main(args.watcher)
        return
    scale = 1.0 / args.every  # a boundary each run second: push 1 s, relax 1 s
    reps = max(3, round(args.seconds / args.every / 2))
    tmp = Path(tempfile.mkdtemp(prefix="hh-bw-"))
    routine = tmp / "r.toml"
    routine.write_text(ROUTINE.format(reps=reps))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_RUNTIME_DIR": str(tmp),
        "HIPHOOK_CONFIG": str(tmp / "settings.json"),
        "HIPHOOK_DB": str(tmp / "log.db"),
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "app", "run", "--plain", "--json", "--cues", "none"]
        + ["--routine", str(routine), "--time-scale", f"{scale:g}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert run.stdout is not None
    lines: list[dict[str, object]] = []
    total_run_s = reps * 2
    third = total_run_s / (4 if args.browser else 3)
    watchers: list[subprocess.Popen[str]] = []
    browser = BrowserWatcher(env) if args.browser else None

    def spawn(kind: str) -> None:
        watchers.append(
            subprocess.Popen(
                [sys.executable, __file__, "--watcher", kind],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
        )

    joined_1 = joined_5 = joined_b = None
    for raw in run.stdout:
        obj = json.loads(raw)
        lines.append(obj)
        t = obj.get("t")
        if not isinstance(t, int | float):
            continue
        if joined_1 is None and t >= third:
            spawn("app")
            joined_1 = float(t)
        if joined_5 is None and t >= 2 * third:
            for _ in range(4):
                spawn("lines")
            joined_5 = float(t)
        if browser is not None and joined_b is None and t >= 3 * third:
            browser.start()
            joined_b = float(t)
    run.wait()
    if browser is not None:
        browser.done.set()
        browser.join(120)
    results = []
    for w in watchers:
        out, _ = w.communicate(timeout=60)
        results.append(json.loads(out))

    started = next(o for o in lines if o["event"] == "run_started")
    t0 = float(started["t0_monotonic"])  # type: ignore[arg-type]
    boundaries = [o for o in lines if o["event"] == "phase"]
    assert joined_1 is not None and joined_5 is not None, "the run was too short"
    # Segments by who was watching when the boundary came. A joiner needs a moment to
    # start (an interpreter, Textual) and connect: each segment starts SETTLE_S real
    # seconds after its watchers were spawned.
    settle = SETTLE_S * scale
    seg: dict[str, list[float]] = {"0 watchers": [], "1 watcher": [], "5 watchers": []}
    for o in boundaries:
        t = float(o["t"])  # type: ignore[arg-type]
        late = (t - float(o["planned_t"])) / scale * 1000  # type: ignore[arg-type]
        if t < joined_1:
            seg["0 watchers"].append(late)
        elif joined_1 + settle <= t < joined_5:
            seg["1 watcher"].append(late)
        elif t >= joined_5 + settle and (joined_b is None or t < joined_b):
            seg["5 watchers"].append(late)
        elif joined_b is not None and t >= joined_b + settle:
            seg.setdefault("5 + serve + local Chromium", []).append(late)

    def lag(result: list[list[object]], after: float, until: float) -> list[float]:
        out = []
        for stamp, m in result:
            if not isinstance(m, dict) or m.get("event") != "phase":
                continue
            t = float(m["t"])
            if not after <= t < until:
                continue
            out.append((float(stamp) - (t0 + t / scale)) * 1000)  # type: ignore[arg-type]
        return out

    until = joined_b if joined_b is not None else float("inf")
    app_lag = [x for x in lag(results[0], joined_5 + settle, until)]
    line_lag = [x for r in results[1:] for x in lag(r, joined_5 + settle, until)]
    print(
        f"bench_watch: one run, {len(boundaries)} boundaries every {args.every * 1000:.0f} ms "
        f"real (time scale {scale:g}); watchers joined at run t={joined_1:.0f} s (1) and "
        f"t={joined_5:.0f} s (5); {os.cpu_count()} CPUs"
    )
    print("Run's boundary lateness (emitted - planned, real ms):")
    for name, values in seg.items():
        print("  " + row(name, values))
    base = seg["0 watchers"]
    five = seg["5 watchers"]
    if base and five:
        print(
            f"  5 watchers / 0 watchers: p50 x{pct(five, 50) / pct(base, 50):.2f}, "
            f"p99 x{pct(five, 99) / pct(base, 99):.2f}, mean x"
            f"{statistics.mean(five) / statistics.mean(base):.2f}"
        )
    print("Boundary -> second screen, with 5 watching (ms; target p99 <= 100):")
    print("  " + row("hiphook watch (drawn)", app_lag))
    print("  " + row("4 line watchers (line read)", line_lag))
    if browser is not None and joined_b is not None:
        t0_wall = dt.datetime.fromisoformat(str(started["t0_wall"])).timestamp() * 1000
        seen = browser.records
        blag = []
        for o in boundaries:
            t = float(o["t"])  # type: ignore[arg-type]
            if t < joined_b + settle:
                continue
            word = "PUSH" if o["phase"] == "push" else "relax"
            want = f"Hold {o['rep']}/{o['reps']} — {word}"
            emitted = t0_wall + t / scale * 1000
            hit = next((ms for ms, text in seen if text.startswith(want)), None)  # unique
            if hit is not None:
                blag.append(hit - emitted)
        print(f"  {row('Chromium page (drawn, 390x844)', blag)}  [{len(seen)} changes seen]")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

"""`hiphook report` on ten years (and one year) of daily sessions with force traces.

    .venv/bin/python bench/bench_report.py [--years 10] [--samples 7200] [--repeat 3]
                                           [--old-pdf-long] [--bytecode]

Builds two real SQLite logs once per run, in a temporary folder (tests/support/
report_fixture.py, bulk-inserted through the store's own row builders: ~80% of days
done, 60% with a sensor and a force trace per press, 90 s at 80 Hz = 7200 samples by
default): ten years and one year. Then makes the report each way, each in a fresh
process (its own interpreter start, imports and peak RSS), best of --repeat, and prints
wall time, CPU time (user + sys: steadier than wall time on a shared machine), peak RSS
and the file's size, each beside its baseline with the ratio:

- naive: the old way (bench/bench_report_old.py, the renderer before the speed-ups),
  which also reads every force trace in full through the store (the export's
  sessions(traces="data")) and decodes each, as a report that drew every sample would;
- html: `hiphook report` as shipped: sqlite3 reads the sessions and each trace's
  summary (codec, rate, count), never a sample;
- pdf-old: the old page (SVG charts) through WeasyPrint, as the PDF was made before
  (one year by default; --old-pdf-long adds the long period, minutes of CPU);
- pdf: `hiphook report -o FILE.pdf` as shipped (the charts as PNGs).

With --bytecode every child writes and reads compiled bytecode in a cache of the run's
own (PYTHONPYCACHEPREFIX), as an installed wheel has it; without it the environment
decides (with PYTHONDONTWRITEBYTECODE=1 each start compiles hiphook's own modules).
The load average is printed at the start and the end.

Targets for the long period: the HTML written in <= 2 s, and <= 2 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 2.0
TARGET_BYTES = 2_000_000
CHILD_ENV: dict[str, str] = {}  # --bytecode sets PYTHONPYCACHEPREFIX here


def naive(stage: str, db: Path, out: Path, weeks: int, today: date) -> None:
    """The old way, in this (fresh) process: every trace loaded, the old renderer."""
    import base64

    from app.report.pdf import write_pdf
    from app.store.store import open_store
    from app.store.trace import decode_trace
    from bench.bench_report_old import compute, render_html

    with open_store(str(db)) as store:
        store.recover_interrupted()
        sessions = store.sessions(traces="data")
    for s in sessions:  # what a report that plotted every sample would pay
        for st in s["steps"]:
            tr = st.get("trace")
            if tr and tr.get("data"):
                tr["values"] = decode_trace(base64.b64decode(tr.pop("data"))).values
    page = render_html(compute(sessions, today, weeks))
    if stage == "pdf-old":
        write_pdf(page, out)
    else:
        out.write_text(page, encoding="utf-8")


def run(stage: str, db: Path, out: Path, weeks: int, today: date) -> dict[str, float]:
    """One way of making the report in a fresh process: wall s, CPU s, peak MB, bytes."""
    if stage.startswith("import "):  # a fixed cost every way pays: the imports alone
        cmd = [sys.executable, "-c", stage]
    elif stage in ("html", "pdf"):
        cmd = [sys.executable, "-m", "app", "report", "--weeks", str(weeks)]
        cmd += ["-o", str(out), "--db", str(db)]
    else:
        code = (
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); from datetime import date;"
            "from pathlib import Path; import bench.bench_report as b;"
            f"b.naive({stage!r}, Path({str(db)!r}), Path({str(out)!r}), {weeks},"
            f" date.fromisoformat({today.isoformat()!r}))"
        )
        cmd = [sys.executable, "-c", code]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TZ": "UTC", **CHILD_ENV}
    if "PYTHONPYCACHEPREFIX" in CHILD_ENV:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    out.unlink(missing_ok=True)
    log = out.with_name(out.name + ".stderr")
    with log.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=err, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak RSS
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stage.startswith("import "):
        out.write_text("")
    if proc.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{stage} failed ({proc.returncode}):\n{tail}")
    return {
        "seconds": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "bytes": out.stat().st_size,
    }


def best_of(n: int, stage: str, db: Path, out: Path, weeks: int, today: date) -> dict[str, float]:
    runs = [run(stage, db, out, weeks, today) for _ in range(n)]
    return min(runs, key=lambda r: r["seconds"])


def line(label: str, r: dict[str, float], base: dict[str, float] | None) -> str:
    text = (
        f"  {label:24} {r['seconds']:7.2f} s {r['cpu']:7.2f} s cpu {r['peak_mb']:6.0f} MB "
        f"{r['bytes'] / 1e3:8.0f} kB"
    )
    if base is not None:
        text += (
            f"   ×{r['seconds'] / base['seconds']:.3f} time, ×{r['cpu'] / base['cpu']:.3f} cpu, "
            f"×{r['bytes'] / base['bytes']:.3f} size"
        )
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--years", type=int, default=10, help="the long log (10: ten years)")
    ap.add_argument("--samples", type=int, default=7200, help="samples per traced press")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the fast ways")
    ap.add_argument("--old-pdf-long", action="store_true", help="the old PDF of the long log too")
    ap.add_argument(
        "--bytecode", action="store_true", help="children cache compiled bytecode (installed)"
    )
    args = ap.parse_args()

    from app.store import stats
    from tests.support.report_fixture import build_log

    today = stats.today_in("UTC")
    long_weeks = min(520, args.years * 52)
    with tempfile.TemporaryDirectory(prefix="hiphook-bench-report-") as tmp:
        work = Path(tmp)
        if args.bytecode:
            CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
            # One run first compiles what every way imports, as installing a wheel does.
            run("import app.cli, app.report.render, app.report.logread", ROOT, work / "x", 0, today)
        print(
            "children: "
            + (
                "bytecode cached, as an installed wheel has it"
                if args.bytecode
                else "no bytecode written (PYTHONDONTWRITEBYTECODE): each start compiles"
                " hiphook's own modules"
                if os.environ.get("PYTHONDONTWRITEBYTECODE")
                else "bytecode as the environment has it"
            )
            + f"; load average {os.getloadavg()[0]:.2f}"
        )
        logs = {}
        for name, days in (("long", args.years * 365), ("year", 365)):
            db = work / f"{name}.db"
            t0 = time.perf_counter()
            n = build_log(db, today, days=days, trace_samples=args.samples, realistic_traces=True)
            logs[name] = db
            print(
                f"{name} log: {n} sessions over {days} days, {db.stat().st_size / 1e6:.1f} MB, "
                f"built in {time.perf_counter() - t0:.1f} s"
            )
        print(
            f"best of {args.repeat} (the old PDF: once), each in a fresh process; "
            "wall time, CPU time, peak RSS, size"
        )
        results: dict[str, dict[str, float]] = {}
        periods = (("long", long_weeks, "long"), ("year", 52, "year"))
        for key, weeks, log in periods:
            print(f"{key}: --weeks {weeks}")
            db = logs[log]
            base = best_of(args.repeat, "naive", db, work / f"{key}-naive.html", weeks, today)
            html = best_of(args.repeat, "html", db, work / f"{key}.html", weeks, today)
            print(line("HTML, naive (old way)", base, None))
            print(line("HTML, as shipped", html, base))
            old_pdf = None
            if key == "year" or args.old_pdf_long:
                old_pdf = run("pdf-old", db, work / f"{key}-old.pdf", weeks, today)
                print(line("PDF, old way", old_pdf, None))
            pdf = best_of(args.repeat, "pdf", db, work / f"{key}.pdf", weeks, today)
            print(line("PDF, as shipped", pdf, old_pdf))
            results[key] = html
        print("fixed costs inside those figures (fresh processes, best of the same N):")
        for label, stage in (
            ("python + the hiphook CLI", "import app.cli"),
            (
                "matplotlib + numpy",  # as the report imports them
                "import matplotlib.figure, matplotlib.dates, matplotlib.backends.backend_svg",
            ),
        ):
            print(line(label, best_of(args.repeat, stage, ROOT, work / "x", 0, today), None))
        r = results["long"]
        ok = r["seconds"] <= TARGET_S and r["bytes"] <= TARGET_BYTES
        print(
            f"target for {args.years} years: HTML in <= {TARGET_S:.0f} s and <= "
            f"{TARGET_BYTES / 1e6:.0f} MB: {r['seconds']:.2f} s, {r['bytes'] / 1e6:.2f} MB "
            f"({'met' if ok else 'NOT met'}); load average {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()

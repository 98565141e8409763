"""`hiphook report` on a year of daily sessions: time, peak memory and size, HTML and PDF.

    .venv/bin/python bench/bench_report.py [--days 365] [--samples 7200] [--repeat 3]

Builds a year of the beginner routine through the store's own API (the report tests'
fixture: ~80% of days done, 60% with a sensor and a force trace per press, 90 s at
80 Hz = 7200 samples by default), then times each way of making the report in a fresh
process (so each peak RSS is its own), best of --repeat:

- baseline: the naive report, which reads every force trace in full (the export's
  sessions(traces="data")) and decodes each before computing the same figures;
- html: the report as shipped (a trace's summary only: codec, rate, sample count);
- pdf: the same HTML laid out by WeasyPrint.

The figures are printed beside the baseline's, with the ratio, all from the same run.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = ("baseline", "html", "pdf")


def run_stage(stage: str, db: Path, out: Path, today: date) -> dict[str, float]:
    """One way of making the report, in this process: seconds, bytes written."""
    from app.report.cli import build
    from app.report.figures import compute
    from app.report.render import render_html
    from app.store.store import open_store
    from app.store.trace import decode_trace

    t0 = time.perf_counter()
    if stage == "baseline":
        with open_store(str(db)) as store:
            sessions = store.sessions(traces="data")
        for s in sessions:  # what a report that plotted every sample would pay
            for st in s["steps"]:
                tr = st.get("trace")
                if tr and tr.get("data"):
                    trace = decode_trace(base64.b64decode(tr["data"]))
                    tr["values"] = list(trace.values)
        figures = compute(sessions, today, 52)
    else:
        figures = build(str(db), 52, today)
    page = render_html(figures)
    if stage == "pdf":
        from app.report.pdf import write_pdf

        write_pdf(page, out)
    else:
        out.write_text(page, encoding="utf-8")
    return {"seconds": time.perf_counter() - t0, "bytes": out.stat().st_size}


def child(stage: str, db: Path, out: Path, today: date) -> dict[str, float]:
    """Run a stage in a fresh interpreter and read its peak RSS."""
    code = (
        "import json, resource, sys; from datetime import date; from pathlib import Path;"
        f"sys.path.insert(0, {str(ROOT)!r}); import bench.bench_report as b;"
        f"r = b.run_stage({stage!r}, Path({str(db)!r}), Path({str(out)!r}), "
        f"date.fromisoformat({today.isoformat()!r}));"
        "r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024;"
        "print(json.dumps(r))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--samples", type=int, default=7200, help="samples per traced press")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from app.store import stats
    from tests.support.report_fixture import build_log

    today = stats.today_in("UTC")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "log.db"
        t0 = time.perf_counter()
        n = build_log(db, today, days=args.days, trace_samples=args.samples)
        print(
            f"log: {n} sessions over {args.days} days, {db.stat().st_size / 1e6:.1f} MB "
            f"(built in {time.perf_counter() - t0:.1f} s); best of {args.repeat}, "
            "each in a fresh process"
        )
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for stage in STAGES:
                out = work / f"report-{stage}.{'pdf' if stage == 'pdf' else 'html'}"
                r = child(stage, db, out, today)
                if stage not in best or r["seconds"] < best[stage]["seconds"]:
                    best[stage] = r
        base = best["baseline"]
        print(f"{'':10} {'time':>8} {'peak RSS':>10} {'size':>9}   vs baseline")
        for stage in STAGES:
            r = best[stage]
            ratio = (
                ""
                if stage == "baseline"
                else (
                    f"   ×{r['seconds'] / base['seconds']:.2f} time, "
                    f"×{r['peak_mb'] / base['peak_mb']:.2f} memory"
                )
            )
            print(
                f"{stage:10} {r['seconds']:7.2f}s {r['peak_mb']:8.0f} MB "
                f"{r['bytes'] / 1e3:7.0f} kB{ratio}"
            )


if __name__ == "__main__":
    main()

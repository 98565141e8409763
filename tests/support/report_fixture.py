"""A year (or ten) of sessions in a real SQLite log, for the report tests and bench.

Some runs have a sensor and force traces, some none; some are interrupted or stopped;
most have pain before and after; a few have notes. Deterministic (a seeded generator),
dated back from the `today` given, in UTC so the local day is the start's day.

The rows are the store's own (`session_row`, `step_values`, `encode_trace`, as
`begin_session` / `record_step` / `end_session` write them) into a log the store
migrated, inserted in one transaction: one commit per step made a year take seconds.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from app.core.engine import StepRecord
from app.store.store import ST, TR, S, open_store, session_row, step_values
from app.store.trace import CODEC, ForceTrace, encode_trace

RATE_HZ = 80.0
DISTINCT_TRACES = 24  # realistic traces are encoded once each and reused in turn


def _trace(rng: random.Random, n: int, realistic: bool) -> ForceTrace:
    """A press: a sawtooth (cheap, for tests), or a ramp onto the tool with a breathing
    sway and load-cell noise (the bench, so the blobs compress as real ones do)."""
    if not realistic:
        return ForceTrace(tuple(100 + (j % 40) * 0.5 for j in range(n)), 10.0)
    plateau, sway = rng.uniform(80, 200), rng.uniform(3, 12)
    breath_hz, ramp_s = rng.uniform(0.15, 0.3), rng.uniform(2.0, 4.0)
    values = []
    for i in range(n):
        t = i / RATE_HZ
        f = min(1.0, t / ramp_s) * (plateau + sway * math.sin(2 * math.pi * breath_hz * t))
        values.append(max(0.0, f + rng.gauss(0, 0.3)))
    return ForceTrace(tuple(values), RATE_HZ)


def build_log(
    path: Path,
    today: date,
    days: int = 365,
    seed: int = 16,
    trace_samples: int = 800,
    realistic_traces: bool = False,
) -> int:
    """Write `days` days ending yesterday (about 80% of them done); return sessions written."""
    rng = random.Random(seed)
    shapes = random.Random(seed + 1)
    blobs: list[tuple[int, float, bytes]] = []
    for _ in range(DISTINCT_TRACES if realistic_traces else 1):
        tr = _trace(shapes, trace_samples, realistic_traces)
        blobs.append((len(tr.values), tr.rate_hz, encode_trace(tr)))
    sessions: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    traces: list[dict[str, Any]] = []
    for k in range(days, 0, -1):
        day = today - timedelta(days=k)
        r = rng.random()
        if r < 0.18:
            continue  # missed
        status = "completed" if r > 0.28 else ("interrupted" if r > 0.23 else "aborted")
        sensor = "sim://steady" if rng.random() < 0.6 else None
        start = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
        pain_before = rng.randint(2, 7)
        sid = len(sessions) + 1
        row = session_row(
            "beginner",
            1,
            side="left",
            sensor=sensor,
            pain_before=pain_before,
            started=start,
            tz="UTC",
            uuid=f"00000000-0000-4000-8000-{sid:012d}",
        )
        record = [
            (
                StepRecord(0, "timed", "Get into position", "left", 30, 30, completed=True),
                None,
                None,
                False,
            )
        ]
        for i, side in ((1, "left"), (2, "right")):
            held = rng.choice([88.0, 90.0, 60.0]) if sensor else None
            verdict = None
            if sensor:
                verdict = "confirmed" if held and held >= 81 else "partial"
            done = status == "completed" or i == 1
            record.append(
                (
                    StepRecord(
                        i, "press", "Psoas press", side, 90, 90 if done else 40, completed=done
                    ),
                    verdict,
                    held,
                    sensor is not None,
                )
            )
        for step, verdict, held, traced in record:
            steps.append(
                {
                    "id": len(steps) + 1,
                    "session_id": sid,
                    "idx": step.index,
                    **step_values(step, verdict, held),
                }
            )
            if traced:
                n_samples, rate_hz, blob = blobs[len(traces) % len(blobs)]
                traces.append(
                    {
                        "step_id": len(steps),
                        "codec": CODEC,
                        "rate_hz": rate_hz,
                        "n_samples": n_samples,
                        "data": blob,
                    }
                )
        notes = "knee felt odd" if k % 45 == 0 else ""
        after = max(0, pain_before - rng.randint(0, 3)) if status == "completed" else None
        sessions.append(
            {
                **row,
                "id": sid,
                "status": status,
                "pain_after": after,
                "notes": notes,
                "ended_utc": start + timedelta(minutes=10),
                "elapsed_s": 600.0,
            }
        )
    with open_store(str(path)) as store:
        with store.engine.begin() as conn:
            for table, rows in ((S, sessions), (ST, steps), (TR, traces)):
                for i in range(0, len(rows), 2000):
                    conn.execute(insert(table), rows[i : i + 2000])
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return len(sessions)


# ----------------------------------------------------------------- headless Chromium

CHROMIUM = "/usr/bin/chromium"
# As root in a container: no sandbox; nothing of Chromium's own (updates, sync) running.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
)


def print_pdf(html_file: Path, pdf: Path, work: Path) -> Path:
    """Print `html_file` to `pdf` with headless Chromium (an empty profile in `work`);
    returns Chromium's network log (JSON), to see what the page asked for."""
    import subprocess

    net_log = work / f"{pdf.stem}-net.json"
    profile = work / f"{pdf.stem}-profile"
    profile.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--log-net-log={net_log}",
            f"--print-to-pdf={pdf}",
            html_file.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and pdf.exists(), done.stderr[-2000:]
    return net_log


def page_requests(net_log: Path) -> list[str]:
    """URLs the page itself requested (not Chromium's own background traffic), except
    its own file: and data: URLs. Chromium tags a page's requests with the page's site
    (file://) in their network isolation key; its own have none."""
    import json

    data = json.loads(net_log.read_text())
    names = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    urls = []
    for ev in data["events"]:
        params = ev.get("params") or {}
        if names.get(ev["type"]) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        if "file://" not in str(params.get("network_isolation_key", "")):
            continue
        if not params["url"].startswith(("file:", "data:")):
            urls.append(params["url"])
    return urls

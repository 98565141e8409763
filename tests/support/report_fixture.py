"""A year of sessions written through the store's own API, for the report tests and bench.

Some runs have a sensor and force traces, some none; some are interrupted or stopped;
most have pain before and after; a few have notes. Deterministic (a seeded generator),
dated back from the `today` given, in UTC so the local day is the start's day.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.core.engine import StepRecord
from app.store.store import open_store
from app.store.trace import ForceTrace


def build_log(
    path: Path, today: date, days: int = 365, seed: int = 16, trace_samples: int = 800
) -> int:
    """Write `days` days ending yesterday (about 80% of them done); return sessions written."""
    rng = random.Random(seed)
    n = 0
    with open_store(str(path)) as store:
        for k in range(days, 0, -1):
            day = today - timedelta(days=k)
            r = rng.random()
            if r < 0.18:
                continue  # missed
            status = "completed" if r > 0.28 else ("interrupted" if r > 0.23 else "aborted")
            sensor = "sim://steady" if rng.random() < 0.6 else None
            start = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
            pain_before = rng.randint(2, 7)
            sid = store.begin_session(
                "beginner",
                1,
                side="left",
                sensor=sensor,
                pain_before=pain_before,
                started=start,
                tz="UTC",
            )
            store.record_step(
                sid, StepRecord(0, "timed", "Get into position", "left", 30, 30, completed=True)
            )
            for i, side in ((1, "left"), (2, "right")):
                held = rng.choice([88.0, 90.0, 60.0]) if sensor else None
                verdict = None
                if sensor:
                    verdict = "confirmed" if held and held >= 81 else "partial"
                trace = None
                if sensor:
                    trace = ForceTrace(
                        tuple(100 + (j % 40) * 0.5 for j in range(trace_samples)), 10.0
                    )
                done = status == "completed" or i == 1
                store.record_step(
                    sid,
                    StepRecord(
                        i, "press", "Psoas press", side, 90, 90 if done else 40, completed=done
                    ),
                    verdict=verdict,
                    under_pressure_s=held,
                    trace=trace,
                )
            notes = "knee felt odd" if k % 45 == 0 else ""
            after = max(0, pain_before - rng.randint(0, 3)) if status == "completed" else None
            store.end_session(
                sid,
                status,
                pain_after=after,
                notes=notes,
                ended=start + timedelta(minutes=10),
                elapsed_s=600,
            )
            n += 1
    return n


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

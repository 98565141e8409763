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

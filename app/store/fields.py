"""The columns a session and its steps are read with, in Store.sessions's order.

Apart from store.py so that the report's fast reader (app/report/logread.py), which must
not import SQLAlchemy, reads the very same columns.
"""

from __future__ import annotations

SESSION_FIELDS = (
    "uuid",
    "started_utc",
    "ended_utc",
    "tz",
    "utc_offset_min",
    "local_day",
    "routine",
    "routine_version",
    "side",
    "sensor",
    "sensor_notice",
    "status",
    "pain_before",
    "pain_after",
    "notes",
    "elapsed_s",
    "demo",
)
STEP_FIELDS = (
    "index",
    "kind",
    "name",
    "side",
    "planned_s",
    "actual_s",
    "reps_done",
    "skipped",
    "completed",
    "verdict",
    "under_pressure_s",
)

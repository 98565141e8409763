"""The report's fast path to a log file: its sessions read with the standard library.

Why: SQLAlchemy and the models take most of a second to import, a large part of the
report's time. When the log is a SQLite file already at this hiphook's schema head
with no run left "in progress", there is nothing to migrate or recover, so the
sessions are read read-only with sqlite3, as `Store.sessions(traces="summary")` returns
them (tests/functional/test_report.py compares the two on a real log). In every other
case (a server URL, no file yet, an older schema, a run to recover, any SQLite error)
this returns None and the caller opens the full store, which migrates, recovers and
words the error. No force-trace sample is read: only each trace's codec, rate and count.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from app.store.fields import SESSION_FIELDS, STEP_FIELDS
from app.store.reader import log_file, read_only
from app.store.schema import schema_head

# Store.sessions's columns (app/store/fields.py), as of this schema revision. A log at any
# other revision goes through the store: a new revision may have moved a column.
REVISION = "0005"
SESSION_COLS = SESSION_FIELDS
STEP_COLS = tuple(f for f in STEP_FIELDS if f != "index")  # the index is step.idx
SESSIONS_SQL = f"SELECT id, {', '.join(SESSION_COLS)} FROM session ORDER BY started_utc, id"
STEPS_SQL = (
    "SELECT step.session_id, step.idx, "
    + ", ".join(f"step.{c}" for c in STEP_COLS)
    + ", trace.codec, trace.rate_hz, trace.n_samples FROM step "
    "LEFT OUTER JOIN trace ON trace.step_id = step.id ORDER BY step.session_id, step.idx"
)


def _iso(stamp: str | None) -> str | None:
    """SQLAlchemy's stored naive UTC text as Store.sessions gives it (ISO, +00:00)."""
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp)
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).isoformat()


def read_sessions(target: str | None) -> list[dict[str, Any]] | None:
    """The sessions with their steps and trace summaries, or None: use the full store."""
    path = log_file(target)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        with read_only(path) as con:
            revs = con.execute("SELECT version_num FROM alembic_version").fetchall()
            if revs != [(REVISION,)] or schema_head() != REVISION:
                return None
            if con.execute("SELECT 1 FROM session WHERE status = 'in_progress'").fetchone():
                return None  # the store marks dead runs interrupted first
            rows = con.execute(SESSIONS_SQL).fetchall()
            steps = con.execute(STEPS_SQL).fetchall()
    except (sqlite3.Error, ValueError):
        return None  # the full store says what is wrong (damage, lock, permissions)
    sessions: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    for r in rows:
        d: dict[str, Any] = {"id": r[0], **dict(zip(SESSION_COLS, r[1:], strict=True))}
        d["started_utc"] = _iso(d["started_utc"])
        d["ended_utc"] = _iso(d["ended_utc"])
        d["demo"] = bool(d["demo"])
        d["steps"] = []
        sessions.append(d)
        by_id[r[0]] = d
    n = len(STEP_COLS)
    for s in steps:
        owner = by_id.get(s[0])
        if owner is None:
            continue
        step: dict[str, Any] = {"index": s[1], **dict(zip(STEP_COLS, s[2 : 2 + n], strict=True))}
        step["skipped"] = bool(step["skipped"])
        step["completed"] = bool(step["completed"])
        codec, rate, count = s[2 + n :]
        step["trace"] = (
            None if codec is None else {"codec": codec, "rate_hz": rate, "n_samples": count}
        )
        owner["steps"].append(step)
    return sessions

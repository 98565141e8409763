"""The log's runs of one routine as evidence for app.core.progression (by_evidence)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from app.core.progression import RunEvidence

RECENT_SESSIONS = 200  # plenty: the rule reads the runs at the current length only


def evidence(sessions: Iterable[Mapping[str, Any]], routine: str) -> list[RunEvidence]:
    """Runs of `routine` (oldest first, each with its steps) that had presses; demos
    (time-scaled) and runs still in progress are left out."""
    out = []
    for s in sessions:
        if s["routine"] != routine or s.get("demo") or s["status"] == "in_progress":
            continue
        presses = [st for st in s.get("steps", ()) if st["kind"] == "press"]
        if not presses:
            continue
        sensor = bool(s.get("sensor"))
        good = all(
            (st["verdict"] == "confirmed") if sensor else bool(st["completed"]) for st in presses
        )
        out.append(
            RunEvidence(
                day=date.fromisoformat(s["local_day"]),
                press_s=max(float(st["planned_s"]) for st in presses),
                sensor=sensor,
                presses_good=good,
                completed=s["status"] == "completed",
                pain_before=s["pain_before"],
                pain_after=s["pain_after"],
            )
        )
    return out


def load_evidence(store: Any, routine: str) -> list[RunEvidence]:
    """The recent runs of `routine` from an open Store (blocking: not on the loop)."""
    return evidence(store.sessions(limit=RECENT_SESSIONS, traces="none"), routine)


def evidence_loader(db: str | None) -> Callable[[str], list[RunEvidence] | None]:
    """For prepare_routine: the runs of a routine from the log at `db`, read when asked.

    A log not there yet means no runs (nothing is created). A log that cannot be read
    gives None: no evidence either way, so the calendar rule decides this once (never a
    fall back to the first length); the run's own start reports the log's problem.
    """

    def load(routine: str) -> list[RunEvidence] | None:
        from app.store.errors import StoreError  # lazy: errors only once a log is read
        from app.store.location import resolve  # lazy: as above
        from app.store.store import open_store  # lazy: SQLAlchemy only for a progression

        where = resolve(db)
        if where.path is not None and not where.path.exists():
            return []
        try:
            with open_store(db) as store:
                return load_evidence(store, routine)
        except StoreError:
            return None

    return load

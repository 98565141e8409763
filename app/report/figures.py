"""The report's figures: a pure function of the sessions `history --json` prints.

No SQL, no clock, no plotting: `compute(sessions, today, weeks)` takes the session dicts
(oldest first, each with its steps, as `Store.sessions()` returns them) and the local
"today", so the report, `history --json` and the tests all derive one set of numbers from
one place. The streak and adherence come from app.store.stats, as everywhere else.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from app.store import stats

# A day's state in the adherence calendar, best first: a day with a completed run is done
# even if an earlier attempt that day was stopped.
DAY_STATES = ("done", "partial", "interrupted", "missed")
_STATUS_STATE = {"completed": "done", "aborted": "partial", "interrupted": "interrupted"}
HIGH_ADHERENCE = 5  # days of 7: a week with at least this many done days is "high"


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def done_days(sessions: Iterable[Mapping[str, Any]]) -> set[date]:
    """Local days with a run that counts (stats.counts_as_done): Store.done_days's rule."""
    return {
        date.fromisoformat(s["local_day"])
        for s in sessions
        if s["status"] == "completed"  # the cheap test first: the steps' sum is not
        and stats.counts_as_done(
            s["status"],
            s["routine"],
            sum(st["planned_s"] for st in s.get("steps", ())),
            demo=bool(s.get("demo")),
        )
    }


def summary(done: set[date], n_sessions: int, today: date) -> dict[str, Any]:
    """Streak and adherence over the whole log, for `history --json` and the report."""
    st = stats.streak(done, today)
    week, month = stats.window(done, today, 7), stats.window(done, today, 30)
    return {
        "today": today.isoformat(),
        "sessions": n_sessions,
        "days_done": len(done),
        "streak": {
            "days": st.days,
            "bends": st.bends,
            "best": st.best,
            "start": st.start.isoformat() if st.start else None,
            "at_risk": st.at_risk,
            "rule": st.rule,
        },
        "adherence": {
            "last7": round(week.share, 4),
            "last30": round(month.share, 4),
            # The days both shares count (stats.window): to today once done, else yesterday.
            "window_end": week.end.isoformat(),
            "last7_from": week.start.isoformat(),
            "last30_from": month.start.isoformat(),
            "last7_days": [ok for _d, ok in week.days],
        },
    }


class PressPoint(NamedTuple):
    """One press of one session (a NamedTuple: ten years hold tens of thousands, and a
    frozen dataclass took three times as long to build each)."""

    day: str
    session_id: int | None
    name: str
    side: str | None
    sensor: bool
    planned_s: float
    actual_s: float
    under_pressure_s: float | None
    verdict: str | None
    completed: bool
    n_samples: int | None


@dataclass(frozen=True)
class PainRow:
    day: str
    session_id: int | None
    status: str
    before: int | None
    after: int | None


@dataclass
class Figures:
    """Everything the report shows, as plain data (see docs/report.md)."""

    made_at: str
    today: str
    first_day: str
    last_day: str
    weeks: int
    routines: list[str]
    sides: list[str]
    summary: dict[str, Any]
    calendar: list[dict[str, str]]  # {"day", "state"} oldest first, whole weeks
    day_counts: dict[str, int]
    weekly: list[dict[str, Any]]  # per week: sessions, done days, adherence, pain means
    presses: list[PressPoint]
    press_weekly: list[dict[str, Any]]  # per (week, press, side, sensor): counts and shares
    pain: list[PainRow]
    pain_trend: dict[str, float | None]  # slope per week, before and after
    pain_by_adherence: dict[str, dict[str, Any]]
    notes: list[dict[str, Any]] = field(default_factory=list)


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _slope_per_week(points: Sequence[tuple[date, int]]) -> float | None:
    """Least-squares slope of pain against time, in points per week (None if too few)."""
    if len(points) < 2 or len({d for d, _ in points}) < 2:
        return None
    x = [d.toordinal() / 7 for d, _ in points]
    y = [float(v) for _, v in points]
    return round(statistics.linear_regression(x, y).slope, 3)


def compute(
    sessions: Sequence[Mapping[str, Any]], today: date, weeks: int = 12, made_at: str = ""
) -> Figures:
    """The report's figures for the `weeks` whole weeks (Monday first) ending with today's."""
    first = monday(today) - timedelta(weeks=weeks - 1)
    # Each session's day is parsed once, and its week (from `first`) counted once.
    dated = [(date.fromisoformat(s["local_day"]), s) for s in sessions]
    inside_dated = [(d, s) for d, s in dated if first <= d <= today]
    inside = [s for _, s in inside_dated]
    week_of = [(d - first).days // 7 for d, _ in inside_dated]

    by_day: dict[date, str] = {}
    for d, s in inside_dated:
        state = _STATUS_STATE.get(s["status"])
        if state is None:
            continue  # a run still in progress is not a day's result yet
        old = by_day.get(d)
        if old is None or DAY_STATES.index(state) < DAY_STATES.index(old):
            by_day[d] = state
    calendar = []
    counts = dict.fromkeys(DAY_STATES, 0)
    for k in range(weeks * 7):
        d = first + timedelta(days=k)
        if d > today:
            state = "future"
        elif d == today and d not in by_day:
            state = "open"
        else:
            state = by_day.get(d, "missed")
            counts[state] += 1
        calendar.append({"day": d.isoformat(), "state": state})

    by_week: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for w, s in zip(week_of, inside, strict=True):  # grouped once, not scanned per week
        by_week[w].append(s)
    weekly = []
    for w in range(weeks):
        start = first + timedelta(weeks=w)
        end = start + timedelta(days=6)
        ss = by_week.get(w, [])
        days_in = (min(end, today) - start).days + 1
        done = sum(1 for k in range(7) if by_day.get(start + timedelta(days=k)) == "done")
        weekly.append(
            {
                "week": start.isoformat(),
                "sessions": len(ss),
                "done_days": done,
                "days": days_in,
                "completed": sum(1 for s in ss if s["status"] == "completed"),
                "pain_before": _mean(
                    [s["pain_before"] for s in ss if s["pain_before"] is not None]
                ),
                "pain_after": _mean([s["pain_after"] for s in ss if s["pain_after"] is not None]),
            }
        )

    presses: list[PressPoint] = []
    press_week: list[int] = []
    for w, s in zip(week_of, inside, strict=True):
        for st in s.get("steps", []):
            if st["kind"] != "press":
                continue
            tr = st.get("trace")
            presses.append(
                PressPoint(
                    day=s["local_day"],
                    session_id=s.get("id"),
                    name=st["name"],
                    side=st["side"],
                    sensor=bool(s.get("sensor")),
                    planned_s=st["planned_s"],
                    actual_s=st["actual_s"],
                    under_pressure_s=st.get("under_pressure_s"),
                    verdict=st.get("verdict"),
                    completed=bool(st["completed"]),
                    n_samples=tr["n_samples"] if tr else None,
                )
            )
            press_week.append(w)
    mondays = [(first + timedelta(weeks=w)).isoformat() for w in range(weeks)]
    groups: dict[tuple[str, str, str, bool], list[PressPoint]] = defaultdict(list)
    for w, p in zip(press_week, presses, strict=True):
        groups[(mondays[w], p.name, p.side or "", p.sensor)].append(p)
    press_weekly = []
    for (wk, name, side, sensor), ps in sorted(groups.items()):
        confirmed = sum(1 for p in ps if p.verdict == "confirmed")
        completed = sum(1 for p in ps if p.completed)
        held = [p.under_pressure_s for p in ps if p.under_pressure_s is not None]
        press_weekly.append(
            {
                "week": wk,
                "name": name,
                "side": side or None,
                "sensor": sensor,
                "presses": len(ps),
                "confirmed": confirmed,
                "completed": completed,
                # With a sensor a press is judged; without one it can only be completed.
                "share": round((confirmed if sensor else completed) / len(ps), 4),
                "under_pressure_mean_s": _mean(held),
            }
        )

    pain = [
        PainRow(s["local_day"], s.get("id"), s["status"], s["pain_before"], s["pain_after"])
        for s in inside
        if s["pain_before"] is not None or s["pain_after"] is not None
    ]
    trend = {
        "before_per_week": _slope_per_week(
            [(date.fromisoformat(p.day), p.before) for p in pain if p.before is not None]
        ),
        "after_per_week": _slope_per_week(
            [(date.fromisoformat(p.day), p.after) for p in pain if p.after is not None]
        ),
    }
    by_adh: dict[str, dict[str, Any]] = {}
    picks: tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...] = (
        ("high", lambda w: w["done_days"] >= HIGH_ADHERENCE),
        ("low", lambda w: w["done_days"] < HIGH_ADHERENCE),
    )
    for label, pick in picks:
        wks = {k for k, w in enumerate(weekly) if w["days"] == 7 and pick(w)}
        ss = [s for w, s in zip(week_of, inside, strict=True) if w in wks]
        by_adh[label] = {
            "weeks": len(wks),
            "sessions": len(ss),
            "pain_before": _mean([s["pain_before"] for s in ss if s["pain_before"] is not None]),
            "pain_after": _mean([s["pain_after"] for s in ss if s["pain_after"] is not None]),
        }

    notes = [
        {"day": s["local_day"], "session_id": s.get("id"), "note": s["notes"]}
        for s in inside
        if (s.get("notes") or "").strip()
    ]
    return Figures(
        made_at=made_at,
        today=today.isoformat(),
        first_day=first.isoformat(),
        last_day=today.isoformat(),
        weeks=weeks,
        routines=sorted({s["routine"] for s in inside}),
        sides=sorted({s["side"] for s in inside if s["side"]}),
        summary=summary(done_days(sessions), len(sessions), today),
        calendar=calendar,
        day_counts=counts,
        weekly=weekly,
        presses=presses,
        press_weekly=press_weekly,
        pain=pain,
        pain_trend=trend,
        pain_by_adherence=by_adh,
        notes=notes,
    )

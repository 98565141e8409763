"""The report's figures against the plain definitions they stand for.

`compute` groups every session into its week once (a scan of every session per week
took seconds for ten years); these properties hold its grouping to the definitions:
a session belongs to the week of the Monday on or before its day, and a week of high
adherence has five or more done days.
"""

from __future__ import annotations

import gc
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.report.cli import cycle_collector_paused
from app.report.figures import HIGH_ADHERENCE, compute, monday

TODAY = date(2026, 3, 11)  # a Wednesday: the last week is not whole


@st.composite
def session_logs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], int]:
    weeks = draw(st.integers(1, 30))
    n = draw(st.integers(0, 25))
    sessions = []
    for i in range(n):
        day = TODAY - timedelta(days=draw(st.integers(0, 7 * weeks + 20)))
        presses = [
            {
                "kind": "press",
                "name": draw(st.sampled_from(["Psoas press", "Iliacus press"])),
                "side": draw(st.sampled_from(["left", "right"])),
                "planned_s": 90.0,
                "actual_s": 90.0,
                "under_pressure_s": draw(st.none() | st.floats(0, 90)),
                "verdict": draw(st.sampled_from([None, "confirmed", "short"])),
                "completed": draw(st.booleans()),
                "trace": None,
            }
            for _ in range(draw(st.integers(0, 2)))
        ]
        sessions.append(
            {
                "id": i + 1,
                "local_day": day.isoformat(),
                "status": draw(st.sampled_from(["completed", "aborted", "interrupted"])),
                "routine": "beginner",
                "side": "left",
                "sensor": draw(st.booleans()),
                "demo": False,
                "pain_before": draw(st.none() | st.integers(0, 10)),
                "pain_after": draw(st.none() | st.integers(0, 10)),
                "notes": None,
                "steps": presses,
            }
        )
    sessions.sort(key=lambda s: s["local_day"])
    return sessions, weeks


@settings(max_examples=50)  # each example draws a few hundred values
@given(session_logs())
def test_each_session_counts_in_the_week_of_its_monday(log: tuple[list[Any], int]) -> None:
    sessions, weeks = log
    f = compute(sessions, TODAY, weeks)
    first = date.fromisoformat(f.first_day)
    inside = [s for s in sessions if date.fromisoformat(s["local_day"]) >= first]
    per_week = Counter(monday(date.fromisoformat(s["local_day"])).isoformat() for s in inside)
    assert {w["week"]: w["sessions"] for w in f.weekly if w["sessions"]} == dict(per_week)

    presses = Counter(
        (monday(date.fromisoformat(s["local_day"])).isoformat(), p["name"], p["side"], s["sensor"])
        for s in inside
        for p in s["steps"]
    )
    got = {(r["week"], r["name"], r["side"], r["sensor"]): r["presses"] for r in f.press_weekly}
    assert got == dict(presses)

    whole = [w for w in f.weekly if w["days"] == 7]
    high = {w["week"] for w in whole if w["done_days"] >= HIGH_ADHERENCE}
    low = {w["week"] for w in whole if w["done_days"] < HIGH_ADHERENCE}
    for label, wks in (("high", high), ("low", low)):
        ss = [s for s in inside if monday(date.fromisoformat(s["local_day"])).isoformat() in wks]
        assert f.pain_by_adherence[label]["weeks"] == len(wks)
        assert f.pain_by_adherence[label]["sessions"] == len(ss)


def test_the_collector_is_paused_for_the_report_and_back_after_a_failure() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cycle_collector_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collector_paused():
            pass
        assert not gc.isenabled(), "a collector paused by the caller stays paused"
    finally:
        gc.enable()

"""The evidence rule for longer presses: it steps up only on good recent runs."""

from __future__ import annotations

from datetime import date, timedelta

from app.core.progression import RECENT, RunEvidence, by_evidence
from app.core.routine import Progression

P = Progression(start_s=30, add_s=15, every_days=7, max_s=90)
TODAY = date(2025, 6, 20)


def runs(n: int, press_s: float = 30, **kw: object) -> list[RunEvidence]:
    """n good sensor runs, one a day, ending yesterday."""
    base: dict[str, object] = {
        "sensor": True,
        "presses_good": True,
        "completed": True,
        "pain_before": 5,
        "pain_after": 4,
    }
    base.update(kw)
    return [
        RunEvidence(TODAY - timedelta(days=n - k), press_s, **base)  # type: ignore[arg-type]
        for k in range(n)
    ]


def test_first_run_starts_at_the_start() -> None:
    d = by_evidence(P, [], TODAY)
    assert (d.press_s, d.stepped) == (30, False) and "start at 30 s" in d.reason


def test_a_week_of_good_runs_steps_up_and_says_why() -> None:
    d = by_evidence(P, runs(8), TODAY)
    assert (d.press_s, d.stepped) == (45, True)
    assert "from 30 s to 45 s" in d.reason and "confirmed by the sensor" in d.reason


def test_without_a_sensor_completed_presses_are_the_evidence() -> None:
    d = by_evidence(P, runs(8, sensor=False), TODAY)
    assert d.stepped and "held to the end" in d.reason


def test_not_before_the_calendar_pace() -> None:
    d = by_evidence(P, runs(5), TODAY)  # five days at 30 s: good, but not a week yet
    assert (d.press_s, d.stepped) == (30, False) and "5 of 7 days" in d.reason


def test_a_press_not_confirmed_holds() -> None:
    history = runs(8)
    history[-2] = RunEvidence(history[-2].day, 30, True, False, True, 5, 4)
    d = by_evidence(P, history, TODAY)
    assert (d.press_s, d.stepped) == (30, False)
    assert "did not confirm" in d.reason and history[-2].day.strftime("%d %b") in d.reason


def test_more_pain_after_than_before_holds() -> None:
    history = runs(8)
    history[-1] = RunEvidence(history[-1].day, 30, True, True, True, 3, 5)
    d = by_evidence(P, history, TODAY)
    assert not d.stepped and "pain was higher (3 → 5)" in d.reason


def test_a_stopped_run_holds_and_old_bad_runs_do_not() -> None:
    history = runs(8)
    history[0] = RunEvidence(history[0].day, 30, True, True, False, 5, None)  # long ago
    assert by_evidence(P, history, TODAY).stepped  # only the last RECENT runs count
    history[-1] = RunEvidence(history[-1].day, 30, True, True, False, 5, None)
    d = by_evidence(P, history, TODAY)
    assert not d.stepped and "stopped early" in d.reason


def test_the_week_counts_from_the_first_run_at_this_length() -> None:
    history = runs(10, press_s=30)[:5] + runs(3, press_s=45)  # stepped up 3 days ago
    d = by_evidence(P, history, TODAY)
    assert (d.press_s, d.stepped) == (45, False) and "3 of 7 days" in d.reason
    assert RECENT == 3


def test_at_the_full_length_it_stays() -> None:
    d = by_evidence(P, runs(8, press_s=90), TODAY)
    assert (d.press_s, d.stepped) == (90, False) and "full 90 s" in d.reason

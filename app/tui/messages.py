"""Messages between the screens and the app, which owns only the flow from screen to screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from app.core.engine import RunRecord
from app.core.routine import Routine
from app.tui.homedata import HomeData


class StartRequested(Message):
    """Home resolved a routine for a side; the app asks for the check-in next."""

    def __init__(self, routine: Routine, side: str | None, *, sensor: str | None = None) -> None:
        """`sensor`: Home's choice, for this run instead of the options' (None: those)."""
        super().__init__()
        self.routine = routine
        self.side = side
        self.sensor = sensor


class CheckInDone(Message):
    """The check-in is answered (pain 0-10) or skipped (None): start the run."""

    def __init__(self, pain: int | None) -> None:
        super().__init__()
        self.pain = pain


class CheckInCancelled(Message):
    """The user backed out of the check-in: nothing was started."""


class RunEnded(Message):
    """The run finished or was stopped; the record is final."""

    def __init__(self, record: RunRecord) -> None:
        super().__init__()
        self.record = record


class SummaryClosed(Message):
    """The summary was read; `pain_after` is what the user gave there, if anything."""

    def __init__(self, pain_after: int | None) -> None:
        super().__init__()
        self.pain_after = pain_after


class SensorNoted(Message):
    """Why the run's sensor gives nothing, or that it answers now (for the status line)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class HomeLoaded(Message):
    """The history loader finished (it runs in a thread after the first paint)."""

    def __init__(self, data: HomeData) -> None:
        super().__init__()
        self.data = data


@dataclass(frozen=True)
class Outcome:
    """What a finished visit to the routine screen produced, for whoever keeps the log."""

    record: RunRecord
    routine: Routine
    side: str | None
    pain_before: int | None
    pain_after: int | None

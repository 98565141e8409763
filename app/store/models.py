"""The tables, as sqlmodel models: a session, its steps, each press's force trace, and
the reminder's settings.

Traces live in their own table so that history, streak and Home queries never read a
blob: ten years of traces are ~70 MB, ten years of sessions and steps a few MB.
Times are naive UTC; `tz` is the IANA zone the session was done in and `local_day`
the calendar day there when it started, which is what streaks count.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

STATUSES = ("in_progress", "completed", "interrupted", "aborted")


class RunSession(SQLModel, table=True):
    """One run of a routine."""

    __tablename__ = "session"
    __table_args__ = (
        CheckConstraint(
            "status IN ('in_progress', 'completed', 'interrupted', 'aborted')",
            name="ck_session_status",
        ),
        CheckConstraint("pain_before BETWEEN 0 AND 10", name="ck_session_pain_before"),
        CheckConstraint("pain_after BETWEEN 0 AND 10", name="ck_session_pain_after"),
        Index("ix_session_status_day", "status", "local_day"),
        Index("ix_session_started", "started_utc"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=36, unique=True)
    started_utc: datetime
    ended_utc: datetime | None = None
    tz: str = Field(max_length=64)
    utc_offset_min: int
    local_day: date
    routine: str = Field(max_length=64)
    routine_version: int
    side: str | None = Field(default=None, max_length=8)
    sensor: str | None = Field(default=None, max_length=200)
    # why the sensor gave no readings (cannot be opened, no answer), as said at the start
    sensor_notice: str | None = Field(default=None, max_length=1000)  # revision 0005
    status: str = Field(max_length=16)
    pain_before: int | None = None
    pain_after: int | None = None
    notes: str = ""
    elapsed_s: float | None = None
    demo: bool = False  # time-scaled: kept, but never makes a day done (revision 0004)
    pid: int | None = None  # the recording process, so a live run is not "recovered"
    host: str | None = Field(default=None, max_length=255)


class StepRow(SQLModel, table=True):
    """What happened in one step; revisiting a step (Back) updates its row."""

    __tablename__ = "step"
    __table_args__ = (UniqueConstraint("session_id", "idx", name="uq_step_session_idx"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(
        sa_column=Column(Integer, ForeignKey("session.id", ondelete="CASCADE"), nullable=False)
    )
    idx: int
    kind: str = Field(max_length=16)
    name: str = Field(max_length=200)
    side: str | None = Field(default=None, max_length=8)
    planned_s: float
    actual_s: float
    reps_done: int = 0
    skipped: bool = False
    completed: bool = False
    verdict: str | None = Field(default=None, max_length=32)  # with a sensor only
    under_pressure_s: float | None = None  # with a sensor only


class TraceRow(SQLModel, table=True):
    """A press's force samples as one compressed blob (see app.store.trace)."""

    __tablename__ = "trace"

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("step.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    codec: str = Field(max_length=16)
    rate_hz: float
    n_samples: int
    data: bytes


REMINDER_ID = 1  # the reminder table's one row: one runner, one daily routine


class ReminderRow(SQLModel, table=True):
    """The reminder settings (app.remind); `days` is "mon,tue,..." as app.remind.schedule
    parses it. In the log's database so a backup or a move of the log takes the reminder
    along; migrations/versions/0003_reminder.py creates it."""

    __tablename__ = "reminder"
    __table_args__ = (
        CheckConstraint("hour BETWEEN 0 AND 23", name="ck_reminder_hour"),
        CheckConstraint("minute BETWEEN 0 AND 59", name="ck_reminder_minute"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hour: int
    minute: int
    days: str = Field(max_length=32)
    enabled: bool = True
    updated_utc: datetime

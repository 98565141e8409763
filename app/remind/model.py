"""The `reminder` table: one row holding the runner's reminder settings.

It lives in the session log's database (same engine, same SQLModel metadata, same
alembic history) so a backup or a move of the log takes the reminder with it. One row,
id 1: there is one runner and one daily routine. The migration that creates it is
migrations/versions/0003_reminder.py; keep the two in step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

SINGLETON_ID = 1


class ReminderRow(SQLModel, table=True):
    """The reminder settings; `days` is "mon,tue,..." as parsed by app.remind.schedule."""

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

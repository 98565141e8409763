"""Reminder settings: one row with the daily reminder's time, days and on/off.

Kept in the session log's database so a backup or a move of the log takes the
reminder along. Model: app/store/models.py (ReminderRow).

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("days", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("hour BETWEEN 0 AND 23", name="ck_reminder_hour"),
        sa.CheckConstraint("minute BETWEEN 0 AND 59", name="ck_reminder_minute"),
    )


def downgrade() -> None:
    op.drop_table("reminder")

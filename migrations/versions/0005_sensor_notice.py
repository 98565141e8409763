"""Sensor notice: why a run's sensor gave no readings, kept with the run.

A sensor that cannot be opened (a wrong path, no permission, nothing listening) leaves
the run timed as usual; the log now says why, so `history show` can tell "no sensor"
from "a sensor that did not open". Runs logged earlier have none.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - the revision template's import, kept for later edits
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session") as batch:
        batch.add_column(sa.Column("sensor_notice", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session") as batch:
        batch.drop_column("sensor_notice")

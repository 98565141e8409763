"""Demo runs: a time-scaled run logged with --db is marked, and never makes a day done.

Which runs make a day done is `app.store.stats.DAY_RULE`; the `demo` flag is the part
of it that the rows could not tell before. Runs logged earlier are not demos.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - the revision template's import, kept for later edits
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session") as batch:
        batch.add_column(sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("session") as batch:
        batch.drop_column("demo")

"""Schema revision names, importable without alembic or SQLAlchemy.

open_store compares the database's `alembic_version` with these before importing
alembic, so an up-to-date database opens without paying for alembic's import.
tests/test_store_migrations.py checks they match the scripts in `migrations/versions`.
"""

from __future__ import annotations

KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002")
SCHEMA_HEAD = KNOWN_REVISIONS[-1]

"""alembic environment: hiphook's models, batch mode for SQLite, one transaction.

At run time app.store.db.upgrade passes its own connection (with hiphook's pragmas) in
`config.attributes["connection"]`. From the command line (`alembic -c
migrations/alembic.ini ...`) the URL comes from -x db=..., HIPHOOK_DB or the default.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from app.store import models  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        transactional_ddl=True,  # the whole upgrade commits or nothing does
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from app.store.db import create_engine

    target = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(target or None)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

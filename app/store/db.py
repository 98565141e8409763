"""The one engine factory, the pre-flight checks, and migration to head.

Order matters for "never modify a database we cannot use": a SQLite file is first
inspected with the standard library (header, permissions, schema revision) and only
then handed to SQLAlchemy, whose connect listener switches on WAL. A file that is
read-only, corrupt, foreign or from a newer hiphook is refused before anything could
write to it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, event, exc, inspect, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Connection, make_url

from app.store.errors import (
    EXIT_CANTCREAT,
    EXIT_CONFIG,
    EXIT_DATAERR,
    EXIT_IOERR,
    EXIT_NOPERM,
    EXIT_TEMPFAIL,
    StoreError,
)
from app.store.location import ENV_VAR, Location, resolve
from app.store.schema import known_revisions, migrations_dir, schema_head

DEFAULT_BUSY_TIMEOUT_MS = 5000
SQLITE_MAGIC = b"SQLite format 3\x00"
_IMMEDIATE = "hiphook_immediate"


def create_engine(
    target: str | os.PathLike[str] | Location | None,
    *,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
) -> Engine:
    """An Engine for a path or any SQLAlchemy URL; SQLite gets WAL and safe pragmas.

    synchronous=FULL makes each commit survive a power cut, not just a crash; WAL lets
    the History screen read while a run writes; foreign_keys makes cascades real.
    Transactions are begun by us (BEGIN, or BEGIN IMMEDIATE for writes) so DDL in
    migrations is transactional and a writer never deadlocks upgrading a read lock.
    """
    loc = target if isinstance(target, Location) else resolve(target)
    if not loc.is_sqlite:
        return server_engine(loc.url, busy_timeout_ms=busy_timeout_ms)
    engine = sa_create_engine(loc.url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _begin)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        if loc.path is not None:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_txn(engine: Engine) -> Iterator[Connection]:
    """One short write transaction that takes the write lock up front."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{_IMMEDIATE: True})
        with conn.begin():
            yield conn


# --------------------------------------------------------------------------- errors


def explain(err: BaseException, where: str) -> StoreError:
    """A StoreError with plain words for a driver error."""
    server = explain_server(err, where)
    if server is not None:
        return server
    text = str(getattr(err, "orig", None) or err)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StoreError(
            f"{where} is locked by another program (is another hiphook running?); "
            "try again when it has finished",
            EXIT_TEMPFAIL,
        )
    if "readonly" in low or "read-only" in low:
        return StoreError(f"{where} is read-only; hiphook needs to write to it", EXIT_NOPERM)
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return StoreError(
            f"{where} is damaged ({text}); it was left untouched. Restore a backup, "
            f"or start a new log with --db or {ENV_VAR}",
            EXIT_DATAERR,
        )
    if "disk i/o" in low or "full" in low or "unable to open" in low:
        return StoreError(f"{where} cannot be written ({text})", EXIT_IOERR)
    return StoreError(f"{where}: database error: {text}", EXIT_DATAERR)


@contextmanager
def translated(where: str) -> Iterator[None]:
    """Turn driver exceptions inside the block into StoreError."""
    try:
        yield
    except StoreError:
        raise
    except (exc.SQLAlchemyError, sqlite3.Error) as err:
        raise explain(err, where) from None


# --------------------------------------------------------------------------- pre-flight


def _newer(where: str, rev: str) -> StoreError:
    return StoreError(
        f"{where} was written by a newer hiphook (schema revision {rev!r}; this version "
        f"knows up to {schema_head()!r}). It was left untouched: upgrade hiphook to use it.",
        EXIT_CONFIG,
    )


def _revision_from(tables: set[str], rows: list[tuple[Any, ...]], where: str) -> str | None:
    if "alembic_version" not in tables:
        if tables - {"sqlite_sequence"}:
            raise StoreError(
                f"{where} is not a hiphook database (it has other tables); "
                "choose another file with --db",
                EXIT_CONFIG,
            )
        return None
    revs = [str(r[0]) for r in rows]
    if len(revs) > 1:
        raise StoreError(f"{where} has several schema revisions {revs}; cannot use it", EXIT_CONFIG)
    if revs and revs[0] not in known_revisions():
        raise _newer(where, revs[0])
    return revs[0] if revs else None


def preflight_sqlite(path: Path, busy_timeout_ms: int) -> str | None:
    """Inspect an existing SQLite file without changing it; its revision (None: empty).

    Raises StoreError for a file that is read-only, in a read-only folder, not SQLite,
    damaged, foreign, locked or from a newer hiphook.
    """
    where = f"the database {path}"
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StoreError(f"{where} cannot be read: {err.strerror}", EXIT_NOPERM) from None
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{where} is not a regular file", EXIT_CONFIG)
    # The write bits are checked too: root passes access() but a 0400 file is a wish.
    if not os.access(path, os.R_OK):
        raise StoreError(f"{where} cannot be read (permission denied)", EXIT_NOPERM)
    if not os.access(path, os.W_OK) or not st.st_mode & 0o222:
        raise StoreError(
            f"{where} is read-only; hiphook needs to write to it. Make it writable "
            f"(chmod u+w) or choose another file with --db",
            EXIT_NOPERM,
        )
    if not os.access(path.parent, os.W_OK | os.X_OK) or not path.parent.stat().st_mode & 0o222:
        raise StoreError(
            f"the folder {path.parent} is read-only; SQLite needs to create its "
            f"journal beside {path.name}",
            EXIT_NOPERM,
        )
    if st.st_size == 0:
        return None
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as err:
        raise StoreError(f"{where} cannot be read: {err.strerror}", EXIT_IOERR) from None
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise StoreError(
            f"{where} is not a SQLite database, or its header is damaged; it was left "
            f"untouched. Choose another file with --db or {ENV_VAR}",
            EXIT_DATAERR,
        )
    con = None
    try:
        # Read-only: a read-write connection that is the last to close would checkpoint
        # a leftover WAL into the file, and this file may be one we must not touch.
        con = sqlite3.connect(
            f"file:{quote(str(path))}?mode=ro",
            uri=True,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
        )
        con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rows = []
        if "alembic_version" in tables:
            rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
        revision = _revision_from(tables, rows, where)
        check_pages(con, where)
        return revision
    except sqlite3.Error as err:
        raise explain(err, where) from None
    finally:
        if con is not None:
            con.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_pages(con: sqlite3.Connection, where: str) -> None:
    """Read every page of every table and index b-tree; StoreError if one is damaged.

    The start-up check, so that a damaged page is found before a run rather than by the
    run's first write. With cell_size_check on, SQLite verifies each page's header and
    cell layout as it loads it; counting a table (NOT INDEXED) visits all of its interior
    and leaf pages, and counting an index's first column (INDEXED BY) walks that index.
    Not read: overflow pages (the bodies of old force traces, most of the file) and the
    free list, and rows are not matched against their indexes; `PRAGMA quick_check`
    does all that, at 10x the cost (bench/bench_faults.py measures both), and a fault
    there is reported when that data is read.
    """
    con.execute("PRAGMA cell_size_check = ON")
    trees = con.execute(
        "SELECT type, name, tbl_name FROM sqlite_master "
        "WHERE type IN ('table', 'index') AND rootpage > 0 ORDER BY rootpage"
    ).fetchall()
    for kind, name, table in trees:
        try:
            if kind == "table":
                con.execute(f"SELECT count(*) FROM {_quoted(name)} NOT INDEXED").fetchall()
                continue
            info = con.execute(f"PRAGMA index_info({_quoted(name)})").fetchall()
            if not info or info[0][2] is None:  # an index on an expression
                continue
            con.execute(
                f"SELECT count({_quoted(info[0][2])}) FROM {_quoted(table)} "
                f"INDEXED BY {_quoted(name)}"
            ).fetchall()
        except sqlite3.DatabaseError as err:
            if "no query solution" in str(err):  # a partial index: not used for a scan
                continue
            raise StoreError(
                f"{where} is damaged: the pages of its {name!r} {kind} cannot be read "
                f"({err}). It was left untouched. Restore a "
                f"backup, or start a new log with --db or {ENV_VAR}",
                EXIT_DATAERR,
            ) from None
    con.execute("PRAGMA cell_size_check = OFF")


def current_revision(engine: Engine, where: str) -> str | None:
    """The schema revision through SQLAlchemy (for server databases)."""
    with translated(where), engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        rows: list[tuple[Any, ...]] = []
        if "alembic_version" in tables:
            rows = [tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
        return _revision_from(tables, rows, where)


# --------------------------------------------------------------------------- migrations


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Any:
    """An alembic Config built in code, so no alembic.ini is needed at run time."""
    # lazy: alembic takes ~0.7 s to import; only a migration needs it
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, where: str, revision: str = "head") -> None:
    """Apply migrations in one transaction (foreign keys off while tables are rebuilt)."""
    # lazy: alembic takes ~0.7 s to import; only a migration needs it
    from alembic import command

    cfg = alembic_config(engine)
    with translated(where), engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # outside any transaction, or SQLite ignores it
            raw_sql(conn, "PRAGMA foreign_keys = OFF")
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            if sqlite:
                bad = raw_sql(conn, "PRAGMA foreign_key_check")
                if bad:
                    raise StoreError(f"{where}: migration left broken references: {bad[:3]}")
        finally:
            if sqlite:
                raw_sql(conn, "PRAGMA foreign_keys = ON")


def raw_sql(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on the driver connection, bypassing SQLAlchemy's autobegin."""
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()


# --------------------------------------------------------------------------- servers

POSTGRES_SCHEMES = ("postgresql", "postgres")
POSTGRES_EXTRA = "pip install 'hiphook[postgres]'"
CONNECT_TIMEOUT_S = 10


def is_postgres(url: str) -> bool:
    """Whether a URL names a PostgreSQL server (any driver spelled after a '+')."""
    return url.split(":", 1)[0].split("+", 1)[0].lower() in POSTGRES_SCHEMES


def server_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (the postgres extra).

    SQLAlchemy 2.0 reads a bare `postgresql://` as psycopg2, which the extra does not
    bring; a URL that names its driver (`postgresql+psycopg2://`) is kept as it is.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return url


def shown_url(url: str) -> str:
    """The URL for messages, its password masked (a message may end up in a bug report)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url.split("://", 1)[0] + "://…"


def server_engine(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Engine:
    """An Engine for a database server; StoreError when its driver is not installed.

    For PostgreSQL the wait for a lock held by another client is bounded by the same
    timeout as SQLite's busy_timeout (lock_timeout), and so is the connection attempt
    (connect_timeout), so a held table or a silent host is reported, never a hang.
    """
    given, url = url, server_url(url)
    if not is_postgres(url):
        return sa_create_engine(url, pool_pre_ping=True)
    parsed = make_url(url)
    if parsed.get_driver_name() == "psycopg":
        try:
            import psycopg  # noqa: F401  # lazy: only a server log needs it, and it may be missing
        except ImportError:
            raise StoreError(
                f"the log {shown_url(given)} is on a PostgreSQL server, and the driver for "
                f"it is not installed: {POSTGRES_EXTRA} (with pipx: pipx inject hiphook "
                "'psycopg[binary]')",
                EXIT_CONFIG,
            ) from None
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    engine = sa_create_engine(url, pool_pre_ping=True, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _lock_timeout(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"SET lock_timeout = {int(busy_timeout_ms)}")
        cur.close()
        dbapi_conn.commit()

    return engine


def explain_server(err: BaseException, where: str) -> StoreError | None:
    """Plain words for what a database server said (None: not a server's error).

    The driver's text is kept (its first line) after what to do, since it names the
    host, the user or the database that was wrong.
    """
    orig = getattr(err, "orig", None) or err
    if not type(orig).__module__.startswith("psycopg"):
        return None
    text = " ".join(str(orig).split("\n", 1)[0].split())
    low = str(orig).lower()
    if (
        "password authentication failed" in low
        or "no password supplied" in low
        or ("role" in low and "does not exist" in low)
    ):
        return StoreError(
            f"{where}: the server refused the login ({text}). Check the user name and "
            "password in the URL (or in ~/.pgpass)",
            EXIT_NOPERM,
        )
    if "database" in low and "does not exist" in low:
        return StoreError(
            f"{where}: the server has no such database ({text}). hiphook creates the "
            "tables in an empty database, not the database: create it first "
            "(createdb NAME, or CREATE DATABASE)",
            EXIT_CANTCREAT,
        )
    if (
        "connection refused" in low
        or "could not connect" in low
        or "connection failed" in low
        or "timeout expired" in low
        or "could not translate host name" in low
        or "no route to host" in low
        or "server closed the connection" in low
    ):
        return StoreError(
            f"{where}: cannot reach the database server ({text}). Is PostgreSQL running "
            "there, and are the host and port in the URL right? Try again once it is up",
            EXIT_TEMPFAIL,
        )
    if "lock timeout" in low or "deadlock detected" in low:
        return StoreError(
            f"{where} is locked by another client of the server (a long transaction, "
            "or a migration?); try again when it has finished",
            EXIT_TEMPFAIL,
        )
    if "permission denied" in low or "read-only transaction" in low:
        return StoreError(
            f"{where}: the server does not let this user write ({text}). Grant it "
            "CREATE and write rights on the database, or use another user",
            EXIT_NOPERM,
        )
    return StoreError(f"{where}: database server error: {text}", EXIT_DATAERR)


def server_is_empty(target: str, where: str) -> bool:
    """Whether a server database holds no tables at all (a log not yet written to).

    Reading commands leave such a database as they found it, as they leave a missing
    SQLite file uncreated; the first run migrates it.
    """
    engine = server_engine(target)
    try:
        with translated(where), engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()

"""A real PostgreSQL server for the store's tests: one fresh database per test.

The server is the one `.ci/run` starts (its URL in HIPHOOK_TEST_POSTGRES_URL, a user
that may create databases). Without it the tests skip and say why; in CI (CI=true)
they fail instead, since there nothing real may skip.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

URL_VAR = "HIPHOOK_TEST_POSTGRES_URL"


def _missing(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}; in CI the PostgreSQL tests must run (.ci/run starts a server)")
    pytest.skip(why)


def server_url() -> str:
    """The test server's URL, or skip (fail in CI) saying what is missing."""
    url = os.environ.get(URL_VAR, "")
    if not url:
        _missing(f"no PostgreSQL server: {URL_VAR} is not set (.ci/run starts one)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed: pip install -e '.[test]' (or '.[postgres]')")
    return url


def admin(url: str) -> Any:
    """An autocommit connection to the server's own test database, for set-up."""
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def url_for(url: str, database: str) -> str:
    """The same server and user, another database."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def fresh_database() -> Iterator[str]:
    """A new, empty database on the test server (a generator: dropped when closed).

    A database each, rather than a schema, so a test uses the URL a user would give.
    """
    base = server_url()
    name = f"hiphook_t_{uuid.uuid4().hex[:12]}"
    with admin(base) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_for(base, name)
    finally:
        with admin(base) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_login(url: str, user: str, password: str) -> str:
    """The same server and database, another user and password."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=user, password=password).render_as_string(False)


def _write_server_file(con: Any, path: str, content: str) -> None:
    """Write a file as the server (lo_export: exact bytes; the test user is superuser)."""
    oid = con.execute("SELECT lo_from_bytea(0, convert_to(%s, 'UTF8'))", (content,)).fetchone()[0]
    try:
        con.execute("SELECT lo_export(%s, %s)", (oid, path))
    finally:
        con.execute("SELECT lo_unlink(%s)", (oid,))


@contextmanager
def password_role(url: str, timeout_s: float = 20.0) -> Iterator[tuple[str, str]]:
    """A login role that must give its password (scram), while the server trusts others.

    The throwaway cluster trusts every local login, so a wrong password would pass; for
    this one role a line ahead of the others in pg_hba.conf asks for it. Restored after.
    """
    import psycopg

    user = f"hiphook_pw_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with admin(url) as con:
        hba = con.execute("SHOW hba_file").fetchone()[0]
        original = con.execute("SELECT pg_read_file(%s)", (hba,)).fetchone()[0]
        con.execute(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'")
        rule = (
            f"host all {user} 127.0.0.1/32 scram-sha-256\nhost all {user} ::1/128 scram-sha-256\n"
        )
        _write_server_file(con, hba, rule + original)
        con.execute("SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + timeout_s
        while True:  # the reload is asynchronous: wait until a wrong password fails
            try:
                psycopg.connect(with_login(url, user, "not-" + password), connect_timeout=5).close()
            except psycopg.OperationalError as err:
                if "password authentication failed" in str(err):
                    break
                raise
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start asking for the password")
            time.sleep(0.05)
        yield user, password
    finally:
        with admin(url) as con:
            _write_server_file(con, hba, original)
            con.execute("SELECT pg_reload_conf()")
            con.execute(f'DROP ROLE IF EXISTS "{user}"')

"""Where the migrations are, and which schema revisions this hiphook knows.

open_store compares the database's `alembic_version` with these before importing
alembic, so an up-to-date database opens without paying for alembic's import. The
revisions are read from the scripts themselves (a regex over a few small files, well
under a millisecond), never listed by hand: whoever adds a revision under
`migrations/versions/` is known here at once. tests/functional/test_store_migrations.py checks
this reading against alembic's own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import app
from app.store.errors import EXIT_CONFIG, StoreError

_REV = re.compile(r"""^revision\s*(?::[^=\n]*)?=\s*['"]([^'"]+)['"]""", re.M)
_DOWN = re.compile(r"""^down_revision\s*(?::[^=\n]*)?=\s*(None|['"]([^'"]+)['"])""", re.M)


def migrations_dir() -> Path:
    """The alembic scripts: inside the installed package first, then the source checkout."""
    pkg = Path(app.__file__).resolve().parent
    for candidate in (pkg / "_migrations", pkg.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise StoreError(
        "hiphook's database migrations are missing from this installation "
        f"(looked in {pkg / '_migrations'} and {pkg.parent / 'migrations'}); reinstall hiphook",
        EXIT_CONFIG,
    )


@lru_cache(maxsize=4)
def _chain(folder: Path) -> tuple[str, ...]:
    parent: dict[str, str | None] = {}
    for script in sorted((folder / "versions").glob("*.py")):
        text = script.read_text(encoding="utf-8")
        rev, down = _REV.search(text), _DOWN.search(text)
        if rev is None or down is None:
            raise StoreError(f"cannot read the revision of migration {script.name}", EXIT_CONFIG)
        parent[rev.group(1)] = down.group(2)
    order: list[str] = []
    children = {p: r for r, p in parent.items()}
    if len(children) != len(parent):
        raise StoreError(
            "the migrations branch; hiphook expects one line of revisions", EXIT_CONFIG
        )
    node = children.get(None)
    while node is not None:
        order.append(node)
        node = children.get(node)
    if len(order) != len(parent):
        raise StoreError("the migrations do not form one line of revisions", EXIT_CONFIG)
    return tuple(order)


def known_revisions() -> tuple[str, ...]:
    """Every revision this hiphook can upgrade from, oldest first."""
    return _chain(migrations_dir())


def schema_head() -> str:
    """The newest revision: what open_store upgrades to."""
    revs = known_revisions()
    if not revs:
        raise StoreError("no database migrations found; reinstall hiphook", EXIT_CONFIG)
    return revs[-1]

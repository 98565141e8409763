"""The core must stay pure: no Textual, no serial port, no SQL, no scheduler, and nothing
of the app outside the core (adapters, runner, faces)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ["textual", "serial", "sqlalchemy", "sqlmodel", "alembic", "apscheduler", "rich"]


def test_core_imports_with_io_libraries_blocked() -> None:
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError("blocked for the layering test: " + name)
                return None
        sys.meta_path.insert(0, Block())
        import app.core
        names = [m.name for m in pkgutil.iter_modules(app.core.__path__, "app.core.")]
        for n in names:
            importlib.import_module(n)
        assert "app.core.engine" in names and "app.core.routine" in names, names
        leaked = [m for m in sys.modules
                  if m.split(".")[0] in {BLOCKED!r}
                  or (m.startswith("app.") and not m.startswith("app.core"))]
        assert not leaked, leaked
        print("ok", len(names))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_blocker_really_blocks() -> None:
    """The check above would be worthless if the blocker let a blocked import through."""
    code = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError("blocked")
                return None
        sys.meta_path.insert(0, Block())
        import textual
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "blocked" in out.stderr

"""One storage boundary: the read-only reader and HomeData, without import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    """Every module a file imports, counting imports inside functions."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_home_data_imports_neither_the_store_nor_the_reader() -> None:
    """store.py builds HomeData from home.py; home.py must not reach back (the old cycle)."""
    mods = imported(ROOT / "app/store/home.py")
    assert not {m for m in mods if m.startswith(("app.store.store", "app.store.reader"))}


def test_the_store_never_imports_the_reader() -> None:
    assert not {
        m for m in imported(ROOT / "app/store/store.py") if m.startswith("app.store.reader")
    }


def test_home_and_the_reminder_share_one_reader_and_one_home_data() -> None:
    remind = imported(ROOT / "app/remind/home.py") | imported(ROOT / "app/remind/store.py")
    tui = imported(ROOT / "app/tui/homedata.py")
    assert "app.store.reader.query_one" in remind and "app.store.reader.load_home" in remind
    assert "app.store.reader" in tui or "app.store.reader.load_home" in tui
    assert "sqlite3" not in imported(ROOT / "app/tui/homedata.py")
    from app.store.home import HomeData as StoreHomeData
    from app.tui.homedata import HomeData

    assert HomeData is StoreHomeData

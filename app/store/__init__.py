"""The session log (SQLite by default, any SQLAlchemy URL by option).

Import cost is the design constraint here: sqlmodel + SQLAlchemy + alembic take a good
part of a second to import, and the TUI's first screen must not wait for that. So this
package's import-time path is standard library only, and the heavy names are loaded on
first use (PEP 562 `__getattr__`):

- `load_home(target)` (app.store.reader) reads Home-screen data with stdlib sqlite3;
  call it before the first paint.
- `open_store(target)` (app.store.store) migrates to head and returns a `Store`;
  call it in a worker thread after the first paint, then `recover_interrupted()`.
- `SessionRecorder` (app.store.recorder) writes a run as it goes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from app.store.errors import StoreError
from app.store.home import HomeData
from app.store.location import resolve
from app.store.reader import load_home

if TYPE_CHECKING:
    from app.store.recorder import SessionRecorder
    from app.store.store import HistoryData, Store, open_store
    from app.store.trace import ForceTrace

__all__ = [
    "ForceTrace",
    "HistoryData",
    "HomeData",
    "SessionRecorder",
    "Store",
    "StoreError",
    "load_home",
    "open_store",
    "resolve",
]

_LAZY = {
    "open_store": "app.store.store",
    "Store": "app.store.store",
    "HistoryData": "app.store.store",
    "SessionRecorder": "app.store.recorder",
    "ForceTrace": "app.store.trace",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'app.store' has no attribute {name!r}")

    return getattr(importlib.import_module(module), name)

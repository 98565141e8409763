"""A running session offers itself to second screens on a Unix socket it owns.

`hiphook watch` and `hiphook serve` are viewers of this endpoint, never runs of their
own. The wire is one JSON object per line (docs/watch.md): the run sends `hello`, the
`run_started` event (with t = 0), a `view` snapshot for a late joiner, then every event
as `--plain --json` prints it, each batch followed by a fresh `view`; a watcher may send
`{"request": ...}` lines (pause, resume, skip, back, confirm), which the run checks.
"""

from app.publish.paths import runtime_dir, socket_path
from app.publish.server import Publisher

__all__ = ["Publisher", "runtime_dir", "socket_path"]

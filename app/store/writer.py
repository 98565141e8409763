"""The one writer of the session log: a thread that owns the log's connection.

The runner must never wait for the disk: a backup tool holding the file for six seconds
used to freeze the clock for five (the commit ran in the runner's dispatch, on the event
loop, with a 5 s busy timeout). Now the recorder hands each piece of a run (its start,
each finished step, its end, what is asked after it) to `LogWriter`, which only puts it
in memory and wakes this thread; the thread writes the pieces in the order they came,
one short transaction each.

A write that fails (locked, disk full, read-only, damaged) is kept at the head of the
queue and retried with back-off, 0.1 s doubling to 1 s, while the run goes on; the
pieces behind it wait in memory, so the order on disk is the order of the run and a
session is marked completed only once all its steps are written. The first failure is
said at once (`LogNotice` "waiting", with the reason), and the catching up again
("caught_up"). The writer's own connection has a short busy timeout (0.2 s), so a lock
is noticed in a fraction of a second instead of five.

A write can also hang without failing (a stalled network or fuse disk: the call simply
does not return). A watchdog thread holds a monotonic deadline on every write under way
and says "waiting" once a write has not answered for `HANG_NOTICE_S`; the steps behind it
wait in memory, and "caught_up" follows when the write returns. `close` does not wait on
a hung write: the thread is a daemon, and the recovery file is written without it.

The plain face prints a step's finished line only once its commit is confirmed
(`when_written`), so every printed finished step is on disk (docs/log.md).

If the log still cannot take everything when the process is done with it (`close`),
each session with pieces left is saved whole, in the export format, to a recovery file
in the log's folder (else the data folder, else the temp folder; as a last resort it is
printed on stderr): `hiphook import FILE` completes the session in place. What a kill
can lose is in docs/log.md.

Imports only the standard library at module level; the store is the caller's.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.store.db import create_engine
from app.store.errors import StoreError
from app.store.fields import STEP_FIELDS
from app.store.location import default_path, resolve
from app.store.store import SessionStart, step_values
from app.store.store import Store as StoreClass
from app.store.trace import CODEC, TraceError, encode_trace
from app.store.transfer import EXPORT_FORMAT, EXPORT_VERSION, RECOVERY_ROLE

if TYPE_CHECKING:
    from app.core.engine import StepRecord
    from app.store.store import Store
    from app.store.trace import ForceTrace

WRITER_BUSY_TIMEOUT_MS = 200
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 1.0
CLOSE_WAIT_S = 3.0
# A write under way for this long without returning is said as "not answering": a healthy
# commit takes milliseconds and a lock ends in an error after the busy timeout (0.2 s).
HANG_NOTICE_S = 0.8
RECOVERY_GLOB = "*.recovery-*.json"

NoticeState = Literal["waiting", "caught_up", "saved_to_file", "not_saved"]


@dataclass(frozen=True)
class LogNotice:
    """What the faces tell the user about the log: on the status line, as a `log` line."""

    state: NoticeState
    text: str  # a full sentence for the user
    reason: str = ""  # why the log is waiting (short words), for "waiting"
    pending: int = 0  # pieces of the run held in memory
    path: str | None = None  # the recovery file, for "saved_to_file"

    @property
    def kind(self) -> str:
        """The status line's kind: a wait is a warning, a loss an error."""
        return {"waiting": "warning", "caught_up": "info", "saved_to_file": "warning"}.get(
            self.state, "error"
        )

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"event": "log", "state": self.state, "text": self.text}
        out["pending"] = self.pending
        if self.reason:
            out["reason"] = self.reason
        if self.path:
            out["path"] = self.path
        return out


NoticeSink = Callable[[LogNotice], None]


@dataclass
class LogOutcome:
    """How the log's closing went: `complete` unless some pieces could not be written."""

    complete: bool = True
    recovery_files: list[str] = field(default_factory=list)
    pending: int = 0
    message: str = ""


def reason_words(exit_code: int) -> str:
    """Short words for why a write failed, from the store's exit code."""
    return {
        73: "its folder cannot be written",
        74: "the disk is full or cannot be written",
        75: "another program is holding the file",
        77: "the file is read-only",
        65: "the file is damaged",
    }.get(exit_code, "the database refused the write")


@dataclass
class _Session:
    """All this process knows of one run, so it can be saved whole if the log fails."""

    start: SessionStart  # its uuid and start time fixed when it was handed over
    row: dict[str, Any] | None = None  # the row as written (computed on the writer thread)
    sid: int | None = None
    steps: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    end: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


Unit = tuple[int, str, int]  # (session key, "begin" | "step" | "end" | "after", step index)
Written = Callable[[], None]  # called on the writer's thread once a piece is committed


class LogWriter:
    """`begin()` a run, `step()` its finished steps, `end()` it; none of them waits."""

    def __init__(
        self,
        store: Store,
        *,
        on_notice: NoticeSink | None = None,
        busy_timeout_ms: int = WRITER_BUSY_TIMEOUT_MS,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
        recovery_dirs: list[Path] | None = None,
        hang_notice_s: float = HANG_NOTICE_S,
        close_wait_s: float = CLOSE_WAIT_S,
        stall: Callable[[], None] | None = None,
    ) -> None:
        """`stall`: fault injection at the boundary this class owns, called on the
        writer's thread before each write; a test blocks in it as a stalled disk would
        (SQLite itself offers no honest way to make a write hang without an error)."""
        self.location = store.location
        # Its own engine: a short busy timeout, and nobody else's connection in its pool.
        engine = create_engine(store.location, busy_timeout_ms=busy_timeout_ms)
        self.store = StoreClass(engine, store.location)
        self.on_notice = on_notice
        self.retry_first_s = retry_first_s
        self.retry_max_s = retry_max_s
        self.recovery_dirs = recovery_dirs if recovery_dirs is not None else default_dirs(store)
        self.errors: list[str] = []  # every failed write, in words (tests, the benchmark)
        self.written = 0  # pieces written
        self.failing = False
        self.reason = ""
        self._cv = threading.Condition()
        self._sessions: dict[int, _Session] = {}
        self._units: OrderedDict[Unit, int] = OrderedDict()  # -> version (Back re-finishes)
        self._version = 0
        self._since: dict[Unit, float] = {}  # when each waiting unit was first handed over
        # Seconds from hand-over to commit of the last pieces written: the window in which
        # a kill loses a step that was already printed (docs/log.md; the benchmark).
        self.lags: deque[float] = deque(maxlen=10_000)
        self.hang_notice_s = hang_notice_s
        self.close_wait_s = close_wait_s
        self._stall = stall
        self._busy_since: float | None = None  # monotonic start of the write under way
        self._hung = False  # that write has been said as not answering
        self._waiters: dict[Unit, list[tuple[int, Written]]] = {}
        self._next_key = 0
        self._closing = False
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="log-writer", daemon=True)
        self._thread.start()
        self._watchdog = threading.Thread(target=self._watch, name="log-watchdog", daemon=True)
        self._watchdog.start()

    # ------------------------------------------------------------------ the run's side

    def begin(self, start: SessionStart) -> int:
        """A new session; returns its key for the other calls."""
        start = dataclasses.replace(
            start,
            uuid=start.uuid or str(uuidlib.uuid4()),
            started=start.started or datetime.now(UTC),
        )
        with self._cv:
            key = self._next_key
            self._next_key += 1
            self._sessions[key] = _Session(start=start)
            self._put((key, "begin", 0))
        return key

    def step(
        self,
        key: int,
        record: StepRecord,
        verdict: str | None,
        under_pressure_s: float | None,
        trace: ForceTrace | None,
    ) -> None:
        """A finished step; a step finished again (after Back) replaces its earlier one."""
        with self._cv:
            self._sessions[key].steps[record.index] = (record, verdict, under_pressure_s, trace)
            self._put((key, "step", record.index))

    def end(self, key: int, status: str, elapsed_s: float | None) -> None:
        with self._cv:
            self._sessions[key].end = {
                "status": status,
                "elapsed_s": elapsed_s,
                "ended": datetime.now(UTC),
            }
            self._put((key, "end", 0))

    def update(
        self,
        key: int,
        *,
        pain_after: int | None = None,
        notes: str | None = None,
        sensor_notice: str | None = None,
    ) -> None:
        with self._cv:
            after = self._sessions[key].after
            if pain_after is not None:
                after["pain_after"] = pain_after
            if notes is not None:
                after["notes"] = notes
            if sensor_notice is not None:
                after["sensor_notice"] = sensor_notice
            self._put((key, "after", 0))

    def handed(self, key: int) -> dict[int, str | None]:
        """The steps of a session handed over so far (written or not), with their verdicts."""
        with self._cv:
            return {i: piece[1] for i, piece in self._sessions[key].steps.items()}

    def uuid(self, key: int) -> str:
        return str(self._sessions[key].start.uuid)

    def when_written(self, key: int, index: int, callback: Written) -> bool:
        """Call `callback` (on the writer's thread) once step `index` as handed over so far
        is committed; False, and no call, when it already is. Never waits."""
        unit = (key, "step", index)
        with self._cv:
            version = self._units.get(unit)
            if version is None:
                return False
            self._waiters.setdefault(unit, []).append((version, callback))
            return True

    def pending(self) -> int:
        """Pieces handed over and not yet written."""
        with self._cv:
            return len(self._units)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything handed over is written (off the loop: tests, close)."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._units, timeout)

    def _put(self, unit: Unit) -> None:
        # under self._cv
        self._version += 1
        self._since.setdefault(unit, time.monotonic())
        self._units[unit] = self._version  # a unit already queued keeps its place
        self._cv.notify_all()

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        delay = self.retry_first_s
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._units or self._closing or self._stop)
                if self._stop or not self._units:
                    return
                unit, version = next(iter(self._units.items()))
                self._busy_since = time.monotonic()
                self._cv.notify_all()  # the watchdog starts its deadline
            try:
                if self._stall is not None:
                    self._stall()
                    if self._stop:  # closed while it hung: the recovery file has it
                        return
                self._write(unit)
            except StoreError as err:
                self._answered()
                self._failed(err.message, err.exit_code)
                with self._cv:
                    self._cv.wait_for(lambda: self._stop, delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            except Exception as err:  # noqa: BLE001 - a bug must not end the thread silently
                self._answered()
                self._failed(f"unexpected error: {err!r}", 0)
                with self._cv:
                    self._cv.wait_for(lambda: self._stop, delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            delay = self.retry_first_s
            self._answered()
            with self._cv:
                self.written += 1
                if self._units.get(unit) == version:
                    del self._units[unit]
                    self.lags.append(time.monotonic() - self._since.pop(unit))
                done: list[Written] = []
                if unit in self._waiters:  # what was handed over up to `version` is on disk
                    done = [cb for v, cb in self._waiters[unit] if v <= version]
                    later = [(v, cb) for v, cb in self._waiters[unit] if v > version]
                    if later:
                        self._waiters[unit] = later
                    else:
                        del self._waiters[unit]
                caught_up = self.failing and not self._units
                if caught_up:
                    self.failing = False
                self._cv.notify_all()
            for callback in done:
                try:
                    callback()
                except Exception as err:  # noqa: BLE001 - a face's bug must not stop the log
                    print(f"hiphook: the log's listener failed ({err!r})", file=sys.stderr)
            if caught_up:
                self._say(
                    LogNotice(
                        "caught_up",
                        "The session log has caught up: every finished step is saved.",
                    )
                )

    def _answered(self) -> None:
        with self._cv:
            self._busy_since = None
            self._hung = False

    def hung(self) -> bool:
        """A write is under way and has not answered for `hang_notice_s` or more."""
        with self._cv:
            since = self._busy_since
        return since is not None and time.monotonic() - since >= self.hang_notice_s

    def _watch(self) -> None:
        """The watchdog: a deadline on the write under way; says once when it passes."""
        while True:
            with self._cv:
                while True:
                    if self._stop:
                        return
                    since = self._busy_since
                    if since is None or self._hung:
                        self._cv.wait()
                        continue
                    left = since + self.hang_notice_s - time.monotonic()
                    if left > 0:
                        self._cv.wait(left)
                        continue
                    self._hung = True
                    first = not self.failing
                    self.failing = True
                    waited = time.monotonic() - since
                    self.reason = f"the disk has not answered for {max(1, round(waited))} s"
                    self.errors.append(self.reason)
                    pending = len(self._units)
                    break
            if first:
                self._say(
                    LogNotice(
                        "waiting",
                        f"The session log is waiting: {self.reason}. The run goes on; its "
                        "steps are kept and will be saved as soon as the disk answers.",
                        reason=self.reason,
                        pending=pending,
                    )
                )

    def _failed(self, message: str, code: int) -> None:
        with self._cv:
            self.errors.append(message)
            first = not self.failing
            self.failing = True
            self.reason = reason_words(code)
            pending = len(self._units)
        if first:
            self._say(
                LogNotice(
                    "waiting",
                    f"The session log is waiting: {self.reason}. The run goes on; its steps "
                    "are kept and will be saved as soon as the log can take them.",
                    reason=self.reason,
                    pending=pending,
                )
            )

    def _say(self, notice: LogNotice) -> None:
        if self.on_notice is not None:
            try:
                self.on_notice(notice)
            except Exception as err:  # noqa: BLE001 - a face's bug must not stop the log
                print(f"hiphook: {notice.text} ({err!r})", file=sys.stderr)

    def _row(self, s: _Session) -> dict[str, Any]:
        if s.row is None:
            s.row = s.start.row()
        return s.row

    def _write(self, unit: Unit) -> None:
        key, what, index = unit
        with self._cv:
            s = self._sessions[key]
            piece = s.steps.get(index) if what == "step" else None
            end = dict(s.end)
            after = dict(s.after)
        if what == "begin":
            row = self._row(s)  # the row a recovery file would keep: the same start, zone
            s.sid = self.store.begin(
                dataclasses.replace(s.start, started=row["started_utc"], tz=row["tz"])
            )
            return
        assert s.sid is not None  # its begin is ahead of it in the queue
        if what == "step" and piece is not None:
            record, verdict, ups, trace = piece
            try:
                self.store.record_step(s.sid, record, verdict, ups, trace)
            except TraceError:  # a curve that cannot be stored must not cost the step
                self.store.record_step(s.sid, record, verdict, ups, None)
        elif what == "end":
            self.store.end_session(
                s.sid, end["status"], ended=end["ended"], elapsed_s=end["elapsed_s"]
            )
        elif what == "after":
            self.store.update_session(
                s.sid,
                pain_after=after.get("pain_after"),
                notes=after.get("notes"),
                sensor_notice=after.get("sensor_notice"),
            )

    # ------------------------------------------------------------------ the end

    def close(self, wait_s: float | None = None) -> LogOutcome:
        """Give the log up to `wait_s` (`close_wait_s`) to take what is left, then save the
        rest to a recovery file. Blocking: call it off the loop, when the process is done
        with it."""
        wait_s = self.close_wait_s if wait_s is None else wait_s
        with self._cv:
            self._closing = True
            self._cv.notify_all()
            self._cv.wait_for(lambda: not self._units, wait_s)
            self._stop = True
            self._cv.notify_all()
        # A write under way ends within its busy timeout; a hung one is not waited for
        # (the thread is a daemon, and what it holds goes to the recovery file).
        self._thread.join(timeout=0.0 if self.hung() else 2.0)
        outcome = LogOutcome()
        with self._cv:  # a write under way when time ran out may have gone through
            keys = sorted({k for k, _, _ in self._units})
            outcome.pending = len(self._units)
        if keys:
            outcome.complete = False
            for key in keys:
                self._save(key, outcome)
        self.store.close()
        return outcome

    def _save(self, key: int, outcome: LogOutcome) -> None:
        data = self.recovery_data(key)
        text = json.dumps(data, indent=1)
        name = f"{self._stem()}.recovery-{self.uuid(key)[:8]}.json"
        why = ""
        for folder in self.recovery_dirs:
            path = folder / name
            try:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                tmp = path.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except OSError as err:
                why = why or (err.strerror or str(err))
                try:
                    tmp.unlink(missing_ok=True)
                except OSError:
                    pass
                continue
            outcome.recovery_files.append(str(path))
            outcome.message = (
                f"The session log could not take the last steps ({self.reason}). They are "
                f"saved in {path}: once the log works again, add them with "
                f"`hiphook import {path}`."
            )
            self._say(LogNotice("saved_to_file", outcome.message, self.reason, path=str(path)))
            return
        # Nowhere to write: the user's terminal is the last place the run can go.
        outcome.message = (
            f"The session log could not take the last steps ({self.reason}), and no "
            f"recovery file could be written ({why}). The run follows as one JSON line on "
            "stderr: save it to a file and add it with `hiphook import FILE`."
        )
        self._say(LogNotice("not_saved", outcome.message, self.reason))
        print(json.dumps(data), file=sys.stderr, flush=True)

    def _stem(self) -> str:
        path = self.location.path
        return path.name if path is not None else "hiphook"

    def recovery_data(self, key: int) -> dict[str, Any]:
        """One session whole, in the export format, marked as a recovery."""
        with self._cv:
            s = self._sessions[key]
            steps = dict(s.steps)
            end = dict(s.end)
            after = dict(s.after)
        row = dict(self._row(s))
        row["started_utc"] = row["started_utc"].isoformat()
        row["local_day"] = str(row["local_day"])
        row["status"] = end.get("status", "interrupted")
        row["ended_utc"] = end["ended"].isoformat() if end else None
        row["elapsed_s"] = end.get("elapsed_s")
        row["pain_after"] = after.get("pain_after")
        row["notes"] = after.get("notes") or ""
        row["sensor_notice"] = after.get("sensor_notice")
        out_steps = []
        for index in sorted(steps):
            record, verdict, ups, trace = steps[index]
            st: dict[str, Any] = {"index": index, **step_values(record, verdict, ups)}
            st = {f: st[f] for f in STEP_FIELDS}
            st["trace"] = None
            if trace is not None:
                try:
                    blob = encode_trace(trace)
                except TraceError:
                    blob = None
                if blob is not None:
                    st["trace"] = {
                        "codec": CODEC,
                        "rate_hz": trace.rate_hz,
                        "n_samples": len(trace.values),
                        "data": base64.b64encode(blob).decode("ascii"),
                    }
            out_steps.append(st)
        row["steps"] = out_steps
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "format_role": RECOVERY_ROLE,
            "sessions": [row],
        }


def default_dirs(store: Store) -> list[Path]:
    """Where a recovery file may go, in order: beside the log, the data folder, /tmp."""
    dirs: list[Path] = []
    if store.location.path is not None:
        dirs.append(store.location.path.parent)
    data = default_path().parent
    if data not in dirs:
        dirs.append(data)
    dirs.append(Path(tempfile.gettempdir()))
    return dirs


def find_recovery_files(target: str | os.PathLike[str] | None = None) -> list[Path]:
    """Recovery files waiting for `hiphook import`: beside the log and in the data folder."""
    loc = resolve(target)
    folders = [loc.path.parent] if loc.path is not None else []
    if default_path().parent not in folders:
        folders.append(default_path().parent)
    found: list[Path] = []
    for folder in folders:
        try:
            found.extend(sorted(folder.glob(RECOVERY_GLOB)))
        except OSError:
            continue
    return found

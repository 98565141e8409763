"""The run's side of the socket: off the boundary's path, and no watcher can hold it up.

The runner's listener only appends the event to a list and asks the loop to flush once
(`call_soon`), so the boundary's other listeners and the screen never wait for JSON.
The flush encodes the batch and a fresh view once, as bytes shared by every watcher,
and offers them to each watcher's bounded queue; a writer task per watcher drains its
queue into its socket. A watcher whose queue is full (stuck, or reading too slowly) is
told so in one last line and dropped: the run never waits for anyone.

The socket: a private folder (0700), the socket itself 0600. A lock file held with
`flock` for the run's life tells a live run from a killed one: whoever takes the lock
owns the name, and a socket left behind by a killed run is removed and replaced. A
second run while one is published is simply not published, and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.engine import Event, EventKind
from app.plain import coach_object, event_object
from app.publish.paths import (
    LOCK_NAME,
    MAX_SOCKET_PATH,
    SOCKET_NAME,
    ensure_private_dir,
    runtime_dir,
)
from app.publish.view import check_request, do_request, hello_object, view_object

if TYPE_CHECKING:
    from app.core.coach import CoachEvent
    from app.runner import SessionRunner

# Batches a watcher may be behind before it is dropped (a run has ~10 boundaries a
# minute at real speed; each batch is a boundary's events and a view, under 2 KB).
QUEUE_BATCHES = 256
# How long the end of a run waits for watchers to read the last lines.
CLOSE_WAIT_S = 1.0
# How long a dropped watcher's last lines wait to be read before its socket is cut.
DROP_ABORT_S = 10.0
# The longest request line a watcher may send.
REQUEST_LIMIT = 4096


def _line(obj: dict[str, object]) -> bytes:
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


class _Watcher:
    """One connected watcher: a bounded queue of lines and the task that writes them."""

    def __init__(
        self, writer: asyncio.StreamWriter, on_gone: Callable[[_Watcher], None], size: int
    ) -> None:
        self.writer = writer
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(size)
        self.control = False
        self.dropped = False
        self._on_gone = on_gone
        self.task = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while (data := await self.queue.get()) is not None:
                self.writer.write(data)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._on_gone(self)
            self.writer.close()

    def offer(self, data: bytes) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.drop("too slow: the run does not wait for a watcher; reconnect to go on")

    def drop(self, reason: str) -> None:
        """Tell the watcher why, then let it go; a stuck one is cut off after a while."""
        self.dropped = True
        self.task.cancel()
        self._on_gone(self)
        transport = self.writer.transport
        with contextlib.suppress(Exception):
            transport.write(_line({"event": "dropped", "reason": reason}))
            transport.close()
        loop = asyncio.get_running_loop()
        loop.call_later(DROP_ABORT_S, transport.abort)

    def end(self) -> None:
        if not self.dropped:
            try:
                self.queue.put_nowait(None)
            except asyncio.QueueFull:
                self.drop("the run ended before this watcher caught up")


class Publisher:
    """Offers one run's events and view on the socket, from `start(loop)` to its end."""

    def __init__(
        self,
        runner: SessionRunner,
        *,
        time_scale: float = 1.0,
        folder: Path | None = None,
        queue_batches: int = QUEUE_BATCHES,
    ) -> None:
        self.runner = runner
        self.queue_batches = queue_batches
        self.time_scale = time_scale
        self.folder = folder or runtime_dir()
        self.path = self.folder / SOCKET_NAME
        self.replaced_stale = False
        self.watchers: set[_Watcher] = set()
        self.dropped = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[dict[str, object] | Event] = []
        self._flush_scheduled = False
        self._started_line: bytes | None = None
        self._lock_fd: int | None = None
        self._sock: socket.socket | None = None
        self._sock_ino: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ended = False

    # ---------------------------------------------------------------- lifetime
    @property
    def live(self) -> bool:
        return self._sock is not None

    def bind(self) -> str | None:
        """Take the socket's name and bind it (files: from any thread, so a face can do it
        off the loop); returns why not. `start` binds when this was not called first."""
        if self._sock is not None:
            return None
        try:
            reason = self._bind()
        except OSError as exc:
            reason = f"cannot use {self.folder}: {exc.strerror or exc}"
        if reason is not None:
            self._release()
        return reason

    def start(self, loop: asyncio.AbstractEventLoop) -> str | None:
        """Bind the socket (unless `bind` did) and listen; returns why not (then the run
        goes on unpublished)."""
        self._loop = loop
        reason = self.bind()
        if reason is not None:
            return reason
        self.runner.subscribe(self.on_event)
        assert self._sock is not None
        server = asyncio.start_unix_server(self._accept, sock=self._sock, limit=REQUEST_LIMIT)
        task = loop.create_task(server)
        task.add_done_callback(self._serving)
        return None

    def _serving(self, task: asyncio.Task[asyncio.AbstractServer]) -> None:
        if task.cancelled() or task.exception() is not None:
            self._release()
            return
        self._server = task.result()
        if self._ended:
            self._server.close()

    def _bind(self) -> str | None:
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH:
            return f"the socket's path is too long for the system: {self.path}"
        ensure_private_dir(self.folder)
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return "another hiphook run is already shown to watchers"
        self._lock_fd = fd
        if os.path.lexists(self.path):  # we hold the lock, so its run is gone
            os.unlink(self.path)
            self.replaced_stale = True
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.fspath(self.path))
            os.chmod(self.path, 0o600)  # the folder is 0700 already: no window for others
            sock.listen(16)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._sock_ino = os.stat(self.path).st_ino
        return None

    def _release(self) -> None:
        """Remove the socket (if it is still ours) and free the name. Safe from any thread."""
        if self._sock_ino is not None:
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == self._sock_ino:
                    os.unlink(self.path)
            self._sock_ino = None
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None

    def close(self) -> None:
        """At the very end, from any thread (the loop may be gone): the name is freed."""
        self._ended = True
        self._release()

    async def aclose(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """On the loop: stop listening, let the watchers read the last lines, then close."""
        self._ended = True
        self._flush()
        self._release()
        for w in list(self.watchers):
            w.end()
        tasks = [w.task for w in self.watchers]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=wait_s)
            for t in late:
                t.cancel()

    # ---------------------------------------------------------------- events
    def on_event(self, ev: Event) -> None:
        """The runner's listener: a list append and at most one call_soon per batch."""
        self._pending.append(ev)
        self._schedule()

    def on_coach(self, c: CoachEvent) -> None:
        self._pending.append(coach_object(c))
        self._schedule()

    def _schedule(self) -> None:
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        parts: list[bytes] = []
        ended = False
        for item in pending:
            if isinstance(item, Event):
                line = _line(event_object(item, self.runner.clock, self.runner.engine.t()))
                if item.kind is EventKind.RUN_STARTED:
                    self._started_line = line
                ended = ended or item.kind in (EventKind.FINISHED, EventKind.ABORTED)
            else:
                line = _line(item)
            parts.append(line)
        parts.append(_line(view_object(self.runner)))
        data = b"".join(parts)
        for w in list(self.watchers):
            w.offer(data)
        if ended and not self._ended and self._loop is not None:
            self._loop.create_task(self.aclose())

    # ---------------------------------------------------------------- watchers
    def _gone(self, w: _Watcher) -> None:
        if w in self.watchers:
            self.watchers.discard(w)
            if w.dropped:
                self.dropped += 1

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._ended:
            writer.close()
            return
        w = _Watcher(writer, self._gone, self.queue_batches)
        self.watchers.add(w)
        greeting = [_line(hello_object(self.runner, self.time_scale))]
        if self._started_line is not None:
            greeting.append(self._started_line)
        greeting.append(_line(view_object(self.runner)))
        w.offer(b"".join(greeting))
        try:
            while not w.dropped:
                try:
                    raw = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    w.drop(f"a request line longer than {REQUEST_LIMIT} bytes")
                    return
                if not raw:
                    return
                self._handle(w, raw)
        except (ConnectionError, OSError):
            return
        finally:
            w.end()

    def _handle(self, w: _Watcher, raw: bytes) -> None:
        """One line from a watcher: its hello, or a request the run checks first."""
        try:
            msg = json.loads(raw)
        except ValueError:
            w.offer(_line({"event": "refused", "reason": "not a JSON line"}))
            return
        if not isinstance(msg, dict):
            w.offer(_line({"event": "refused", "reason": "not a JSON object"}))
            return
        if "hello" in msg:
            w.control = bool(msg.get("control"))
            return
        request = msg.get("request")
        if not w.control:
            reason: str | None = "this watcher is read-only (start it with --control)"
        else:
            reason = check_request(self.runner, request)
        if reason is not None:
            w.offer(_line({"event": "refused", "request": request, "reason": reason}))
            return
        assert isinstance(request, str)
        do_request(self.runner, request)

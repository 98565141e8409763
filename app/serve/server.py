"""`hiphook serve` / `run --serve`: the run's view as one small page, for a phone.

One follower connects to the run's socket (app/publish) like any watcher and turns its
lines into a `Display` (app/watch/model); every browser gets that display as
Server-Sent Events and draws it with the page's own few lines of script, counting the
time down between events as the terminal watcher does. So however many browsers look,
the run has one watcher, and the page needs nothing from anywhere else: no web fonts,
no CDN, and a Content-Security-Policy that lets it fetch nothing but its own events.

Every URL starts with a random token: `http://HOST:PORT/TOKEN/`. A request without
the right token gets 403 and an empty body, whatever it asks for; with the token, only
the page (`/TOKEN/`) and its event stream (`/TOKEN/events`) exist.

The HTTP is a few dozen lines over asyncio streams rather than a framework: GET of two
paths, with bounded request heads, is all a viewer needs, and it adds no dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hmac
import json
import secrets
import socket
import struct
import threading
import time
from importlib.resources import files
from pathlib import Path

from app.publish.client import RunConnection, connect
from app.watch.model import WatchModel

# The longest request head accepted, and how long a client may take to send it.
HEAD_LIMIT = 8192
HEAD_TIMEOUT_S = 10.0
# A browser's stream may fall this many displays behind before it is closed (it reconnects).
CLIENT_QUEUE = 64
KEEPALIVE_S = 15.0
RETRY_S = 0.5

SECURITY_HEADERS = (
    "Cache-Control: no-store\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
)
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def page_html() -> bytes:
    return files("app.serve").joinpath("page.html").read_bytes()


class WebViewer:
    """Serves the published run's view on `host`; `follow_pid` limits it to one run.

    `follow_pid` set (`run --serve`): only that process's run is shown, and serving
    stops when it ends. None (`hiphook serve`): whatever run is going on, "no run"
    between runs, until `stop()`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        follow_pid: int | None = None,
        socket_file: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.follow_pid = follow_pid
        self.socket_file = socket_file
        self.token = secrets.token_urlsafe(18)
        self.model = WatchModel()
        self.clients: set[asyncio.Queue[bytes | None]] = set()
        self.refused = 0
        self.ended = threading.Event()  # set from the loop, waited on from any thread
        self._page = page_html()
        self._server: asyncio.AbstractServer | None = None
        self._stopping: asyncio.Event | None = None
        self._followed = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/{self.token}/"

    # ---------------------------------------------------------------- lifetime
    async def start(self) -> None:
        """Bind (raises OSError with the reason) and start following the run."""
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(
            self._http, self.host, self.port, limit=HEAD_LIMIT
        )
        sock = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        asyncio.get_running_loop().create_task(self._follow())

    async def serve(self) -> None:
        """Until stop() (or, following one run, its end)."""
        assert self._stopping is not None
        await self._stopping.wait()
        await self._shutdown()

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    async def _shutdown(self) -> None:
        """Stop listening and end every browser's stream (they see the connection close)."""
        if self._server is not None:
            self._server.close()
        for q in list(self.clients):
            while True:  # make room: the end matters more than what it was behind on
                try:
                    q.put_nowait(None)
                    break
                except asyncio.QueueFull:
                    q.get_nowait()
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    # ---------------------------------------------------------------- the run
    async def _follow(self) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            conn = await connect(self.socket_file)
            if conn is None:
                await asyncio.sleep(RETRY_S)
                continue
            mine = await self._read(conn)
            await conn.close()
            if mine and self.follow_pid is not None:
                self.ended.set()
                self.stop()
                return
            await asyncio.sleep(RETRY_S)

    async def _read(self, conn: RunConnection) -> bool:
        """Follow one connection to its end; False when it was another process's run."""
        async for msg in conn.messages():
            if msg.get("event") == "hello" and self.follow_pid is not None:
                if msg.get("pid") != self.follow_pid:
                    if not self.model.notice:  # this run could not publish: say why
                        self.model.notice = (
                            "Another hiphook run is shown to watchers, so this one cannot "
                            "be: end that one first."
                        )
                        self._broadcast()
                    return False
            self.model.feed(msg, time.monotonic())
            if msg.get("event") in ("view", "dropped"):
                self._broadcast()
        self.model.ended()
        self._broadcast()
        if self.follow_pid is None:
            self.model.reset()  # between runs: "no run" until the next one starts
            self._broadcast()
        return True

    def _display_event(self) -> bytes:
        data = json.dumps(self.model.display_dict(time.monotonic()))
        return f"data: {data}\n\n".encode()

    def _broadcast(self) -> None:
        data = self._display_event()
        for q in list(self.clients):
            try:
                q.put_nowait(data)
            except asyncio.QueueFull:  # a browser that stopped reading: it reconnects
                self.clients.discard(q)
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(None)

    # ---------------------------------------------------------------- HTTP
    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                return
            except TimeoutError:
                return
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                await self._reply(writer, 400, b"")
                return
            method, target = parts[0], parts[1]
            path = target.split("?", 1)[0]
            prefix = f"/{self.token}/"
            if not hmac.compare_digest(path[: len(prefix)].encode(), prefix.encode()):
                self.refused += 1
                await self._reply(writer, 403, b"")
                return
            rest = path[len(prefix) :]
            if method not in ("GET", "HEAD"):
                await self._reply(writer, 405, b"")
            elif rest == "":
                body = b"" if method == "HEAD" else self._page
                await self._reply(
                    writer,
                    200,
                    body,
                    f"Content-Type: text/html; charset=utf-8\r\nContent-Security-Policy: {CSP}\r\n",
                    length=len(self._page),
                )
            elif rest == "events" and method == "GET":
                await self._events(writer)
            else:
                await self._reply(writer, 404, b"")
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # Shutting down with a browser connected. Python 3.11's stream callback asks a
            # cancelled handler for its exception and logs the CancelledError as an error
            # (3.12 checks first), so the handler ends normally instead: the server is
            # closing and nothing waits on this task.
            return
        finally:
            writer.close()

    async def _reply(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        headers: str = "",
        *,
        length: int | None = None,
    ) -> None:
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}.get(
            status, "Method Not Allowed"
        )
        size = len(body) if length is None else length
        writer.write(
            (
                f"HTTP/1.1 {status} {reason}\r\nContent-Length: {size}\r\n"
                f"{headers}{SECURITY_HEADERS}Connection: close\r\n\r\n"
            ).encode()
            + body
        )
        await writer.drain()

    async def _events(self, writer: asyncio.StreamWriter) -> None:
        q: asyncio.Queue[bytes | None] = asyncio.Queue(CLIENT_QUEUE)
        writer.write(
            (
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                f"{SECURITY_HEADERS}Connection: close\r\n\r\n"
            ).encode()
            + b"retry: 1000\n\n"
            + self._display_event()
        )
        await writer.drain()
        self.clients.add(q)
        try:
            while True:
                try:
                    data = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                except TimeoutError:
                    data = b": keepalive\n\n"
                if data is None:
                    return
                writer.write(data)
                await writer.drain()
        finally:
            self.clients.discard(q)


class ServeThread(threading.Thread):
    """The web viewer on a thread of its own, with its own loop: `run --serve` keeps it
    off the run's loop entirely."""

    def __init__(self, viewer: WebViewer) -> None:
        super().__init__(name="hiphook-serve", daemon=True)
        self.viewer = viewer
        self.ready = threading.Event()
        self.error: OSError | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            await self.viewer.start()
        except OSError as exc:
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        await self.viewer.serve()

    def stop(self, wait_s: float = 3.0) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.viewer.stop)
        self.join(wait_s)


def lan_address() -> str | None:
    """This machine's first IPv4 address that is not loopback (Linux), else None.

    Read from the interfaces themselves: nothing is sent anywhere to find it.
    """
    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            if name == "lo":
                continue
            try:
                req = struct.pack("256s", name.encode()[:15])
                res = fcntl.ioctl(s.fileno(), siocgifaddr, req)
            except OSError:
                continue
            addr = socket.inet_ntoa(res[20:24])
            if not addr.startswith("127."):
                return addr
    return None

"""Serve the device model on a real pseudo-terminal (and optionally loopback TCP).

The host opens the pty with pyserial exactly as it would a USB port. Closing the master
end is an unplug; a replug opens a fresh pty, which usually gets another /dev/pts name,
just as a USB device may come back as another /dev/ttyACM. A stable symlink (like udev's
/dev/serial/by-id) always points at the current one, so hosts can reopen by identity.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pty
import random
import select
import socket
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from app.core import protocol as p

from .device import DeviceModel
from .scenarios import Scenario, make_scenario

_MAX_WAIT = 0.05  # the loop wakes at least this often to check the clock


class Simulator:
    """A simulated Hip Hook, running in a background thread until `stop()`."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        rate_hz: int = 100,
        tcp_port: int | None = None,
        serial: str = "HHSIM0001",
        start_ms: int = 0,
        link_dir: str | Path | None = None,
        record_writes: bool = False,
    ) -> None:
        if not p.RATE_MIN_HZ <= rate_hz <= p.RATE_MAX_HZ:
            raise ValueError(
                f"rate must be from {p.RATE_MIN_HZ} to {p.RATE_MAX_HZ} Hz, not {rate_hz}"
            )
        if tcp_port is not None and not 0 <= tcp_port <= 65535:
            raise ValueError(f"TCP port must be from 0 to 65535, not {tcp_port}")
        self.scenario = scenario
        self.model = DeviceModel(scenario, rate_hz=rate_hz, serial=serial, start_ms=start_ms)
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self._master: int | None = None
        self._slave: int | None = None
        self._tty = ""
        self._linedir = Path(link_dir) if link_dir else Path(tempfile.mkdtemp(prefix="hiphook-"))
        self._own_linedir = link_dir is None
        self._link = self._linedir / f"usb-HipHook_Sim_{serial}-if00"
        self._rx = b""
        self._noise = random.Random(scenario.seed + 1)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tcp: socket.socket | None = None
        self._client: socket.socket | None = None
        self._client_rx = b""
        self._plugged_at = 0.0
        self._unplugged_at: float | None = None
        self.unplugs = 0
        # (seq, monotonic time the line left the simulator), for latency measurements
        self.write_log: list[tuple[int, float]] | None = [] if record_writes else None
        if tcp_port is not None:
            self._tcp = socket.create_server(("127.0.0.1", tcp_port))
            self._tcp.setblocking(False)
        self._plug()

    # -- public API -----------------------------------------------------------------------

    @property
    def port(self) -> str:
        """Stable path to open (a symlink to the current pty, like /dev/serial/by-id)."""
        return str(self._link)

    @property
    def tty(self) -> str:
        """The current /dev/pts/N behind `port` (changes on every replug)."""
        return self._tty

    @property
    def tcp_url(self) -> str | None:
        if self._tcp is None:
            return None
        return f"socket://127.0.0.1:{self._tcp.getsockname()[1]}"

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def now(self) -> float:
        return time.monotonic() - self._t0

    def start(self) -> Simulator:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="firmware-sim", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            self._unplug()
            for s in (self._client, self._tcp):
                if s is not None:
                    s.close()
            self._client = self._tcp = None
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._own_linedir:
            with contextlib.suppress(OSError):
                self._linedir.rmdir()

    def set_phase(self, phase: str) -> None:
        """Follow the routine: "position" (unloaded), "press" (loaded), "lever", "rest"."""
        with self._lock:
            self.model.set_phase(phase, self.now())

    def place_weight(self, grams: float) -> None:
        with self._lock:
            self.model.place_weight(grams)

    def unplug(self) -> None:
        """Pull the cable: the host's port fails, the by-id link disappears."""
        with self._lock:
            self._unplug()
        self._wake()

    def replug(self) -> None:
        """Plug back in: a fresh pty, the device powers up again (not streaming)."""
        with self._lock:
            if self._master is None:
                self._plug()
        self._wake()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plumbing -------------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _plug(self) -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no line editing before the host configures it
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._tty = os.ttyname(slave)
        tmp = self._link.with_name(self._link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(self._tty, tmp)
        os.replace(tmp, self._link)
        self._rx = b""
        now = self.now()
        self._plugged_at = now
        self._unplugged_at = None
        self.model.power_cycle(now)

    def _unplug(self) -> None:
        if self._master is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self._link.unlink()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)  # type: ignore[arg-type]
        self._master = self._slave = None
        self._unplugged_at = self.now()
        self.unplugs += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                fds = [self._wake_r]
                if self._master is not None:
                    fds.append(self._master)
                if self._tcp is not None:
                    fds.append(self._tcp.fileno())
                if self._client is not None:
                    fds.append(self._client.fileno())
                wait = min(_MAX_WAIT, max(0.0, self.model.next_due() - self.now()))
            try:
                ready, _, _ = select.select(fds, [], [], wait)
            except (OSError, ValueError):
                continue  # an fd closed under us by unplug(); look again
            with self._lock:
                self._step(ready)

    def _step(self, ready: list[int]) -> None:
        if self._wake_r in ready:
            with contextlib.suppress(OSError):
                os.read(self._wake_r, 512)
        if self._master is not None and self._master in ready:
            self._read_pty()
        if self._tcp is not None and self._tcp.fileno() in ready:
            self._accept()
        if self._client is not None and self._client.fileno() in ready:
            self._read_client()
        now = self.now()
        self._auto_unplug(now)
        if self._master is None and self._client is None:
            return
        out = self.model.due(now)
        if out:
            self._send(out)

    def _auto_unplug(self, now: float) -> None:
        sc = self.scenario
        if sc.unplug_every <= 0:
            return
        if self._master is not None and now - self._plugged_at >= sc.unplug_every:
            self._unplug()
        elif (
            self._master is None
            and self._unplugged_at is not None
            and now - self._unplugged_at >= sc.unplug_for
        ):
            self._plug()

    def _read_pty(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError:
            return  # EIO: nobody has the slave open besides us; nothing to read
        self._rx = self._commands(self._rx + data, self._send)

    def _accept(self) -> None:
        assert self._tcp is not None
        try:
            conn, _ = self._tcp.accept()
        except BlockingIOError:
            return
        if self._client is not None:
            self._client.close()  # one host at a time, the newest wins
        conn.setblocking(False)
        self._client, self._client_rx = conn, b""

    def _read_client(self) -> None:
        assert self._client is not None
        try:
            data = self._client.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._client.close()
            self._client = None
            return
        self._client_rx = self._commands(self._client_rx + data, self._send)

    def _commands(self, buf: bytes, reply: Callable[[bytes], None]) -> bytes:
        """Run every complete command line in `buf`; return the incomplete rest (bounded)."""
        *lines, rest = buf.split(b"\n")
        for line in lines:
            answer = self.model.handle(line, self.now())
            if answer:
                reply(answer)
        return rest[-p.MAX_LINE :]

    def _send(self, data: bytes) -> None:
        if self.scenario.noise > 0:
            data = self._corrupt(data)
        if self.write_log is not None:
            stamp = time.monotonic()
            for line in data.split(b"\n"):
                if line[:1] == b"S":
                    comma = line.find(b",")
                    with contextlib.suppress(ValueError):
                        self.write_log.append((int(line[1:comma]), stamp))
        if self._master is not None:
            try:
                os.write(self._master, data)
            except BlockingIOError:
                pass  # nobody reading and the buffer is full: the UART drops it
            except OSError as exc:
                if exc.errno not in (errno.EIO, errno.EAGAIN):
                    raise
        if self._client is not None:
            try:
                self._client.send(data)
            except BlockingIOError:
                pass
            except OSError:
                self._client.close()
                self._client = None

    def _corrupt(self, data: bytes) -> bytes:
        """Line noise: flipped bits, bursts of garbage, and runaway over-long lines."""
        rng = self._noise
        out = []
        for line in data.split(b"\n")[:-1]:
            if rng.random() < self.scenario.noise:
                kind = rng.randrange(3)
                if kind == 0 and line:
                    buf = bytearray(line)
                    buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(7)
                    line = bytes(buf)
                elif kind == 1:
                    line = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12))) + line
                else:
                    line = bytes(rng.randint(33, 126) for _ in range(rng.randint(80, 300)))
            out.append(line + b"\n")
        return b"".join(out)


def start_simulator(
    scenario: str | Scenario = "steady",
    *,
    rate: int = 100,
    tcp_port: int | None = None,
    profile: str | Path | None = None,
    seed: int = 0,
    serial: str = "HHSIM0001",
    record_writes: bool = False,
    time_scale: float = 1.0,
) -> Simulator:
    """Start a simulator in a background thread; open `handle.port` with pyserial.

    The handle has .port, .tty, .tcp_url, .set_phase(), .place_weight(), .unplug(),
    .replug() and .stop().
    """
    if isinstance(scenario, str):
        scenario = make_scenario(scenario, profile=profile, seed=seed)
    sim = Simulator(
        scenario, rate_hz=rate, tcp_port=tcp_port, serial=serial, record_writes=record_writes
    )
    sim.model.scenario_scale = time_scale
    return sim.start()

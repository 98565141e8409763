"""The serial transport: one reader thread owns the port and knows nothing of the format.

Shaped like pyserial's `serial.threaded.ReaderThread`: it opens the port by URL
(`serial.serial_for_url`, so a device path, `socket://`, `rfc2217://` and `loop://` are
all one setting), reads in chunks, and tells a protocol object `connection_made`,
`data_received` and `connection_lost`. Unlike `ReaderThread` it reopens the same device
by its stable identity after an unplug, and it reads with a timeout whatever the
transport: `read(CHUNK)` returns what arrived within `read_timeout`, where the
`read(in_waiting or 1)` of `ReaderThread` reads one byte per pass over `socket://`
(pyserial's socket `in_waiting` says 1 whenever anything is there).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, Protocol

import serial

from .baud import AUTO_BAUDS, OPEN_ERRORS, detect_baud
from .discovery import StableIdentity, identify_port

log = logging.getLogger(__name__)

CHUNK = 4096  # bytes per read at most: ~2 s of a 100 Hz device, 0.2 s at 1 kHz


class SensorLost(Exception):
    """The port failed or went silent; the transport will reconnect."""


class LinkProtocol(Protocol):
    """What the transport calls, always on its reader thread. Any of these may raise
    `SensorLost` (or anything else) to drop the connection; the transport reconnects."""

    def open_failed(self, failures: list[tuple[str, BaseException]]) -> None:
        """No candidate port opened this round: each one tried, with why (may be empty)."""

    def connection_made(self, transport: SerialTransport) -> None:
        """The port is open; the protocol may write at once."""

    def data_received(self, data: bytes, now: float) -> None:
        """Bytes from one read; `now` is `time.monotonic()` when the read returned."""

    def read_timed_out(self, now: float) -> None:
        """A read returned nothing within the read timeout."""

    def connection_lost(self, exc: BaseException | None) -> None:
        """The port is closed; `exc` says why (None when the transport was stopped)."""


class SerialTransport:
    """Open `url`, keep it open, and feed what it reads to `protocol` until `stop()`.

    `baud` None: find the rate at the first open (`--baud auto`) and keep it after.
    """

    def __init__(
        self,
        url: str,
        protocol: LinkProtocol,
        *,
        baud: int | None,
        read_timeout: float = 0.004,
        retry_interval: float = 0.2,
        reconnect: bool = True,
    ) -> None:
        self.url = url
        self.protocol = protocol
        self.baud = baud
        self.read_timeout = read_timeout
        self.retry_interval = retry_interval
        self.reconnect = reconnect
        self.identity: StableIdentity | None = None
        self.port_url = ""  # the candidate that opened
        self._port: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._drop: SensorLost | None = None
        self._thread: threading.Thread | None = None

    # -- any thread -----------------------------------------------------------------------

    def start(self) -> SerialTransport:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sensor-reader", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port; safe from any thread, twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._close()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        """The reader thread is still at work (it ends on stop, or after one failed try
        when not reconnecting)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def write(self, data: bytes) -> None:
        """Write whole, under a lock, so two writers never interleave on the wire."""
        with self._write_lock:
            port = self._port
            if port is None:
                raise SensorLost("not connected")
            port.write(data)

    def set_baudrate(self, baud: int) -> None:
        with self._write_lock:
            port = self._port
            if port is None:
                raise SensorLost("not connected")
            port.baudrate = baud
            self.baud = baud

    def drop(self, why: str) -> None:
        """Ask the reader to drop this connection (and reconnect): after its next read."""
        self._drop = SensorLost(why)

    # -- reader thread --------------------------------------------------------------------

    def read_chunk(self, port: serial.SerialBase) -> bytes:
        """One read: whatever arrived within the port's timeout, up to CHUNK bytes."""
        return bytes(port.read(CHUNK))

    def _run(self) -> None:
        self.identity = identify_port(self.url)
        while not self._stop.is_set():
            error: BaseException | None = None
            try:
                if self._open():
                    self.protocol.connection_made(self)
                    self._read_loop()
            except Exception as exc:  # SensorLost, a port error, or a protocol bug
                error = exc
            finally:
                self._close()
            if self.port_url:
                self.port_url = ""
                self.protocol.connection_lost(None if self._stop.is_set() else error)
            if not self.reconnect:
                break
            self._stop.wait(self.retry_interval)

    def _open(self) -> bool:
        """Open the first candidate that opens, retrying until one does or we stop."""
        assert self.identity is not None
        while not self._stop.is_set():
            failures: list[tuple[str, BaseException]] = []
            for url in self.identity.candidates():
                try:
                    self._port = self._open_url(url)
                except OPEN_ERRORS as exc:
                    failures.append((url, exc))
                    continue
                self.port_url = url
                self._drop = None
                return True
            self.protocol.open_failed(failures)
            if not self.reconnect:
                return False
            self._stop.wait(self.retry_interval)
        return False

    def _open_url(self, url: str) -> serial.SerialBase:
        if self.baud is None:  # `--baud auto`: the first usual rate at which lines decode
            found = detect_baud(url)
            if found is None:
                rates = ", ".join(map(str, AUTO_BAUDS))
                raise serial.SerialException(
                    f"nothing decodes at {rates} baud (check the sketch's Serial.begin() "
                    "rate and give it with --baud N)"
                )
            self.baud = found
        kwargs: dict[str, Any] = {"baudrate": self.baud, "timeout": self.read_timeout}
        if not url.startswith("rfc2217://"):  # its handler refuses a write timeout
            kwargs["write_timeout"] = 1.0
        if "://" not in url:
            kwargs["exclusive"] = True
        port = serial.serial_for_url(url, **kwargs)
        with contextlib.suppress(serial.SerialException, OSError):
            port.reset_input_buffer()
        return port

    def _read_loop(self) -> None:
        protocol = self.protocol
        read = self.read_chunk
        clock = time.monotonic
        while not self._stop.is_set():
            port = self._port
            if port is None:
                return
            data = read(port)
            now = clock()
            if data:
                protocol.data_received(data, now)
            else:
                protocol.read_timed_out(now)
            if self._drop is not None:
                raise self._drop

    def _close(self) -> None:
        with self._write_lock:
            port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

"""The serial link: one reader thread owns the port, decodes chunks, delivers batches.

The app never touches the port. It gets `SensorBatch`es through `on_batch` and
`LinkStatus` snapshots through `on_status` (both called on the reader thread; pass
functions that hop to your event loop, e.g. with `loop.call_soon_threadsafe`). Commands
(tare, rate, calibrate) are queued to the reader thread, which writes them between reads.

When the sensor is unplugged or goes silent the link says "sensor lost — reconnecting",
keeps trying to reopen the same device by its stable identity, and reports the gap.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import serial

from app.core import protocol as p

from .discovery import StableIdentity, identify_port, permission_hint

log = logging.getLogger(__name__)

CONNECTING = "connecting"
CONNECTED = "connected"
LOST = "lost"
RECONNECTING = "reconnecting"
CLOSED = "closed"

LOST_MESSAGE = "sensor lost — reconnecting"


@dataclass(frozen=True, slots=True)
class SensorBatch:
    """Samples that arrived together. Samples are (seq, device_ms, force_cn) tuples; for a
    DIY sensor seq is the link's own count and device_ms the host's clock in ms."""

    received: float  # time.monotonic() when the last bytes of the batch were read
    samples: list[tuple[int, int, int]]
    lever: list[p.LeverEvent]
    kind: str  # "device" or "diy"


@dataclass(frozen=True, slots=True)
class Gap:
    """Host monotonic times the sensor was away; `end` is None while it still is."""

    start: float
    end: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True, slots=True)
class LinkStatus:
    state: str = CONNECTING
    message: str = ""
    port: str = ""
    kind: str | None = None  # "device" or "diy" once known
    identity: p.Identity | None = None
    rate_hz: float = 0.0  # measured
    last_force_cn: int | None = None
    lever: bool | None = None
    samples: int = 0
    dropped: int = 0
    bad_lines: int = 0
    checksum_errors: int = 0
    overlong: int = 0
    gaps: tuple[Gap, ...] = ()
    clock_offset_ms: float | None = None  # host ms minus device ms, lowest seen
    reader_cpu_s: float = 0.0

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED

    def summary(self) -> dict[str, Any]:
        """A small JSON-friendly dict for periodic reports."""
        return {
            "state": self.state,
            "rate_hz": round(self.rate_hz, 1),
            "last_force_n": None if self.last_force_cn is None else self.last_force_cn / 100,
            "dropped": self.dropped,
            "bad_lines": self.bad_lines + self.checksum_errors + self.overlong,
            "gaps": len(self.gaps),
        }


class SensorLost(Exception):
    """The port failed or went silent; the reader will reconnect."""


class _Job:
    def __init__(self, name: str, arg: int | None) -> None:
        self.name = name
        self.arg = arg
        self.done = threading.Event()
        self.result: p.Ack | p.Refusal | p.Identity | None = None

    def finish(self, result: p.Ack | p.Refusal | p.Identity | None) -> None:
        self.result = result
        self.done.set()


BatchCallback = Callable[[SensorBatch], None]
StatusCallback = Callable[[LinkStatus], None]


@dataclass
class _Rate:
    """Measured sample rate over windows of about a second."""

    since: float = 0.0
    count: int = 0
    value: float = 0.0

    def add(self, n: int, now: float) -> None:
        if self.since == 0.0:
            self.since = now
        self.count += n
        span = now - self.since
        if span >= 1.0:
            self.value = self.count / span
            self.since, self.count = now, 0


@dataclass
class _Pending:
    samples: list[tuple[int, int, int]] = field(default_factory=list)
    lever: list[p.LeverEvent] = field(default_factory=list)


class SensorLink:
    """Open a sensor by path or pyserial URL and stream it until `stop()`."""

    def __init__(
        self,
        url: str,
        on_batch: BatchCallback,
        on_status: StatusCallback | None = None,
        *,
        rate_hz: int | None = None,
        baud: int = p.DEFAULT_BAUD,
        handshake_timeout: float = 1.5,
        silence_timeout: float = 1.0,
        batch_interval: float = 0.004,
        retry_interval: float = 0.2,
        diy_scale_cn: float = 100.0,
        reconnect: bool = True,
    ) -> None:
        self.url = url
        self.on_batch = on_batch
        self.on_status = on_status
        self.want_rate = rate_hz
        self.baud = baud
        self.handshake_timeout = handshake_timeout
        self.silence_timeout = silence_timeout
        self.batch_interval = batch_interval
        self.retry_interval = retry_interval
        self.reconnect = reconnect
        self.decoder = p.Decoder(plain_scale_cn=diy_scale_cn)
        self._identity: StableIdentity | None = None
        self._port: serial.SerialBase | None = None
        self._port_baud = baud
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._waiting: list[_Job] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._status = LinkStatus(port=url)
        self._pending = _Pending()
        self._rate = _Rate()
        self._kind: str | None = None
        self._plain_seen = 0
        self._diy_seq = 0
        self._last_rx = 0.0
        self._last_flush = 0.0
        self._samples = 0
        self._last_force: int | None = None
        self._lever: bool | None = None
        self._offset: float | None = None
        self._gap_start: float | None = None
        self._gaps: list[Gap] = []
        self._callback_failed = False
        self._cpu = 0.0

    # -- public ---------------------------------------------------------------------------

    def start(self) -> SensorLink:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sensor-reader", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port; safe to call from any thread, twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._close()
        self._set(CLOSED, "sensor closed")

    def status(self) -> LinkStatus:
        """A snapshot with fresh counters (cheap; fine for a 1 Hz summary)."""
        with self._lock:
            base = self._status
        return self._with_counters(base)

    def request(
        self, name: str, arg: int | None = None, timeout: float = 2.0
    ) -> p.Ack | p.Refusal | p.Identity | None:
        """Send a host command through the reader thread and wait for the reply.

        Returns None on timeout or when no protocol device is connected (a DIY sensor
        takes no commands). RATE also switches the baud rate when the link budget needs it.
        START, STOP and BAUD belong to the link itself and are refused here.
        """
        if name.upper() not in ("ID", "TARE", "CAL", "RATE"):
            raise ValueError(f"{name!r} is not a command for the link's users")
        if self._kind != "device" or not self._status.connected:
            return None
        job = _Job(name.upper(), arg)
        self._jobs.put(job)
        job.done.wait(timeout)
        return job.result

    def tare(self) -> bool:
        return isinstance(self.request("TARE"), p.Ack)

    def calibrate(self, grams: int) -> p.Ack | p.Refusal | p.Identity | None:
        return self.request("CAL", grams)

    def set_rate(self, hz: int) -> p.Ack | p.Refusal | p.Identity | None:
        result = self.request("RATE", hz, timeout=4.0)
        if isinstance(result, p.Ack):
            self.want_rate = hz  # re-applied after a reconnect
        return result

    # -- status ---------------------------------------------------------------------------

    def _with_counters(self, base: LinkStatus) -> LinkStatus:
        d = self.decoder
        return replace(
            base,
            kind=self._kind,
            rate_hz=self._rate.value,
            last_force_cn=self._last_force,
            lever=self._lever,
            samples=self._samples,
            dropped=d.dropped,
            bad_lines=d.bad_lines,
            checksum_errors=d.checksum_errors,
            overlong=d.overlong,
            gaps=tuple(self._gaps),
            clock_offset_ms=self._offset,
            reader_cpu_s=self._cpu,
        )

    def _set(self, state: str, message: str, **changes: Any) -> None:
        with self._lock:
            if self._status.state == CLOSED:
                return
            self._status = replace(self._status, state=state, message=message, **changes)
            snapshot = self._status
        if state != CLOSED:
            log.info("sensor %s: %s", state, message)
        if self.on_status is not None:
            try:
                self.on_status(self._with_counters(snapshot))
            except Exception:  # a broken callback must not kill the reader
                log.exception("sensor status callback failed")

    # -- reader thread --------------------------------------------------------------------

    def _run(self) -> None:
        self._identity = identify_port(self.url)
        while not self._stop.is_set():
            try:
                self._connect()
                self._stream()
            except SensorLost as exc:
                self._lost(str(exc))
            except (serial.SerialException, OSError) as exc:
                self._lost(str(exc))
            finally:
                self._close()
                self._fail_jobs()
            if not self.reconnect:
                break
            self._stop.wait(self.retry_interval)
        self._cpu = time.thread_time()

    def _lost(self, why: str) -> None:
        if self._stop.is_set():
            return
        if self._status.state == CONNECTED:
            self._flush(time.monotonic(), force=True)
            self._gap_start = time.monotonic()
            self._gaps.append(Gap(self._gap_start))
            log.info("sensor lost: %s", why)
            self._set(LOST, LOST_MESSAGE)
        elif self._gap_start is None and self._status.message != why:
            self._set(CONNECTING, why)

    def _connect(self) -> None:
        """Open the port (retrying until it exists) and do the handshake."""
        assert self._identity is not None
        while not self._stop.is_set():
            candidates = self._identity.candidates()
            error: BaseException | None = None
            for url in candidates:
                try:
                    self._open(url)
                    break
                except (serial.SerialException, OSError, ValueError) as exc:
                    error = exc
                    hint = permission_hint(url, exc)
                    if hint:
                        self._set(self._waiting_state(), hint)
            if self._port is not None:
                break
            if not candidates:
                self._set(self._waiting_state(), "looking for a sensor (none found)")
            elif error is not None and permission_hint(candidates[-1], error) is None:
                msg = LOST_MESSAGE if self._gap_start is not None else f"cannot open: {error}"
                if self._status.message != msg:
                    self._set(self._waiting_state(), msg)
            self._stop.wait(self.retry_interval)
        if self._stop.is_set():
            raise SensorLost("stopped")
        self._handshake()

    def _waiting_state(self) -> str:
        return RECONNECTING if self._gap_start is not None else CONNECTING

    def _open(self, url: str) -> None:
        kwargs: dict[str, Any] = {"baudrate": self.baud, "timeout": 0.1, "write_timeout": 1.0}
        if "://" not in url:
            kwargs["exclusive"] = True
        port = serial.serial_for_url(url, **kwargs)
        self._port = port
        self._port_baud = self.baud
        with contextlib.suppress(serial.SerialException, OSError):
            port.reset_input_buffer()
        self.decoder.reset()
        self._pending = _Pending()
        self._plain_seen = 0
        self._set(self._waiting_state(), f"opened {url}", port=url)

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

    def _write(self, data: bytes) -> None:
        assert self._port is not None
        self._port.write(data)

    def _handshake(self) -> None:
        """Ask who is there; a DIY sensor never answers but prints bare numbers."""
        self._write(p.encode_command("ID"))
        found = self._pump(
            lambda it: isinstance(it, p.Identity) or self._plain_seen >= 3,
            self.handshake_timeout,
        )
        if isinstance(found, p.Identity):
            self._kind = "device"
            if found.protocol != p.PROTOCOL_VERSION:
                raise SensorLost(
                    f"sensor speaks protocol v{found.protocol}; this app speaks "
                    f"v{p.PROTOCOL_VERSION} (update the app or the firmware)"
                )
            if self._identity is not None and not self._identity.serial_number:
                # Firmware that reports its USB serial here can be found by it later.
                self._identity.serial_number = found.serial
            if self.want_rate and self.want_rate != found.rate_hz:
                result = self._apply_rate(self.want_rate)
                if not isinstance(result, p.Ack):
                    log.warning("sensor refused rate %s: %s", self.want_rate, result)
            ack = self._exchange("START")
            if not isinstance(ack, p.Ack):
                raise SensorLost("no answer to START")
            self._connected(found)
        elif self._plain_seen >= 3:
            self._kind = "diy"
            self._connected(None)
        else:
            raise SensorLost("no answer from the sensor (is it a Hip Hook, and powered?)")

    def _connected(self, ident: p.Identity | None) -> None:
        now = time.monotonic()
        self._last_rx = now
        gap_note = ""
        self._rate = _Rate()
        previous = self._status.identity
        if self._gap_start is not None:
            gap = Gap(self._gap_start, now)
            self._gaps[-1] = gap
            self._gap_start = None
            gap_note = f" (back after {gap.seconds:.1f} s)"
        if ident is not None:
            what = f"{ident.model} {ident.serial} fw {ident.firmware}"
            if previous is not None and previous.serial != ident.serial:
                what += f" (a different sensor from {previous.serial})"
        else:
            what = "a DIY sensor (plain numbers)"
        self._set(CONNECTED, f"connected to {what}{gap_note}", identity=ident)

    def _apply_rate(self, hz: int) -> p.Ack | p.Refusal | p.Identity | None:
        """Set the rate, first moving to a baud rate that carries it if needed."""
        if not p.RATE_MIN_HZ <= hz <= p.RATE_MAX_HZ:
            return p.Refusal("RATE", "RANGE")
        if not p.rate_fits(hz, self._port_baud):
            baud = p.min_baud_for(hz)
            if baud is None:
                return p.Refusal("RATE", "BUDGET")
            ack = self._exchange("BAUD", baud)
            if not isinstance(ack, p.Ack):
                return ack
            assert self._port is not None
            old = self._port_baud
            self._port.baudrate = baud
            self._port_baud = baud
            if not isinstance(self._exchange("ID"), p.Identity):
                self._port.baudrate = old  # the device falls back on its own too
                self._port_baud = old
                return p.Refusal("BAUD", "NOCONFIRM")
        return self._exchange("RATE", hz)

    def _exchange(
        self, name: str, arg: int | None = None, timeout: float = 1.0
    ) -> p.Ack | p.Refusal | p.Identity | None:
        self._write(p.encode_command(name, arg))

        def matches(item: p.Item) -> bool:
            if name == "ID":
                return isinstance(item, p.Identity)
            return isinstance(item, p.Ack | p.Refusal) and item.command in (name, "?")

        found = self._pump(matches, timeout)
        if isinstance(found, p.Ack | p.Refusal | p.Identity):
            return found
        return None

    def _pump(self, want: Callable[[p.Item], bool], timeout: float) -> p.Item | None:
        """Read and deliver as usual until an item satisfies `want` or time runs out."""
        deadline = time.monotonic() + timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            for item in self._read_once():
                if want(item):
                    return item
            if self._plain_seen >= 3 and want(p.PlainForce(0)):
                return None
        return None

    def _read_once(self) -> list[p.Item]:
        """One chunked read; returns the non-sample items (replies) it decoded."""
        port = self._port
        assert port is not None
        waiting = port.in_waiting
        data = port.read(waiting if waiting else 1)
        now = time.monotonic()
        replies: list[p.Item] = []
        if data:
            self._last_rx = now
            replies = self._ingest(data, now)
        self._flush(now, force=not data)
        return replies

    def _stream(self) -> None:
        interval = self.batch_interval
        while not self._stop.is_set():
            self._run_jobs()
            port = self._port
            assert port is not None
            waiting = port.in_waiting
            data = port.read(waiting if waiting else 1)
            now = time.monotonic()
            if data:
                self._last_rx = now
                for item in self._ingest(data, now):
                    self._resolve(item)
                self._flush(now)
                if interval > 0:
                    time.sleep(interval)  # let a few more lines gather: fewer, fuller reads
            else:
                self._flush(now, force=True)
                if now - self._last_rx > self.silence_timeout:
                    raise SensorLost(f"silent for {now - self._last_rx:.1f} s")

    def _run_jobs(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job.name == "RATE" and job.arg is not None:
                job.finish(self._apply_rate(job.arg))
            else:
                self._waiting.append(job)
                self._write(p.encode_command(job.name, job.arg))

    def _resolve(self, item: p.Item) -> None:
        for job in self._waiting:
            if (job.name == "ID" and isinstance(item, p.Identity)) or (
                isinstance(item, p.Ack | p.Refusal) and item.command in (job.name, "?")
            ):
                self._waiting.remove(job)
                job.finish(item)  # type: ignore[arg-type]
                return

    def _fail_jobs(self) -> None:
        for job in self._waiting:
            job.finish(None)
        self._waiting.clear()
        while True:
            try:
                self._jobs.get_nowait().finish(None)
            except queue.Empty:
                return

    def _ingest(self, data: bytes, now: float) -> list[p.Item]:
        """Decode a chunk into the pending batch; hand back replies for the caller."""
        items = self.decoder.feed(data)
        if not items:
            return []
        samples = self._pending.samples
        replies: list[p.Item] = []
        n = 0
        for item in items:
            kind = type(item)
            if kind is tuple:
                samples.append(item)  # type: ignore[arg-type]
                n += 1
            elif kind is p.PlainForce:
                self._plain_seen += 1
                self._diy_seq += 1
                samples.append((self._diy_seq, int(now * 1000), item.force_cn))  # type: ignore[union-attr]
                n += 1
            elif kind is p.LeverEvent:
                self._pending.lever.append(item)  # type: ignore[arg-type]
                self._lever = item.engaged  # type: ignore[union-attr]
            else:
                replies.append(item)
        if n:
            self._samples += n
            self._rate.add(n, now)
            last = samples[-1]
            self._last_force = last[2]
            if self._kind == "device":
                offset = now * 1000 - last[1]
                if self._offset is None or offset < self._offset:
                    self._offset = offset
        return replies

    def _flush(self, now: float, force: bool = False) -> None:
        pending = self._pending
        if not pending.samples and not pending.lever:
            return
        if not force and now - self._last_flush < self.batch_interval:
            return
        if self._kind is None:
            return  # still finding out what is on the line; deliver once we know
        self._pending = _Pending()
        self._last_flush = now
        self._cpu = time.thread_time()
        try:
            self.on_batch(SensorBatch(now, pending.samples, pending.lever, self._kind))
        except Exception:
            if not self._callback_failed:
                self._callback_failed = True
                log.exception("sensor batch callback failed")

"""The sensor protocol object: handshake, replies, batching and stats over a transport.

`SensorLink` is the protocol half of the pair (`transport.SerialTransport` is the other,
as `serial.threaded` splits `ReaderThread` from `Protocol`). The app never touches the
port. It gets `SensorBatch`es through `on_batch` and `LinkStatus` snapshots through
`on_status` (called on the link's threads; pass functions that hop to your event loop,
e.g. with `loop.call_soon_threadsafe`). Commands (tare, rate, calibrate) are written from
the caller's thread under the transport's write lock; the reader matches the replies.

When the sensor is unplugged or goes silent the link says "sensor lost — reconnecting",
the transport keeps trying to reopen the same device by its stable identity, and the
gap is reported.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import serial

from app.core import protocol as p

from .discovery import permission_hint
from .spec import open_error_message
from .status import (
    CLOSED,
    CONNECTED,
    CONNECTING,
    LOST,
    LOST_MESSAGE,
    RECONNECTING,
    BatchCallback,
    Gap,
    LinkStatus,
    Sample,
    SensorBatch,
    StatusCallback,
)
from .transport import SensorLost, SerialTransport

log = logging.getLogger(__name__)

DIY_LINES = 3  # plain numbers before the handshake gives up waiting for an identity
Reply = p.Ack | p.Refusal | p.Identity


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
    samples: list[Sample] = field(default_factory=list)
    lever: list[p.LeverEvent] = field(default_factory=list)


class _Waiter:
    """One command waiting for its reply (matched on the reader thread)."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.done = threading.Event()
        self.reply: Reply | None = None

    def matches(self, item: Reply) -> bool:
        if self.command == "ID":
            return isinstance(item, p.Identity)
        return not isinstance(item, p.Identity) and item.command in (self.command, "?")

    def finish(self, reply: Reply | None) -> None:
        self.reply = reply
        self.done.set()


class SensorLink:
    """Open a sensor by path or pyserial URL and stream it until `stop()`."""

    def __init__(
        self,
        url: str,
        on_batch: BatchCallback,
        on_status: StatusCallback | None = None,
        *,
        rate_hz: int | None = None,
        baud: int | None = p.DEFAULT_BAUD,
        handshake_timeout: float = 1.5,
        silence_timeout: float = 1.0,
        batch_interval: float = 0.004,
        retry_interval: float = 0.2,
        diy_scale_cn: float = 100.0,
        reconnect: bool = True,
        transport: type[SerialTransport] = SerialTransport,
    ) -> None:
        self.url = url
        self.on_batch = on_batch
        self.on_status = on_status
        self.want_rate = rate_hz
        self.handshake_timeout = handshake_timeout
        self.silence_timeout = silence_timeout
        self.batch_interval = batch_interval
        self.decoder = p.Decoder(plain_scale_cn=diy_scale_cn)
        # The reader's read timeout is the batching window: one batch per read.
        self.transport = transport(
            url,
            self,
            baud=baud,
            read_timeout=batch_interval,
            retry_interval=retry_interval,
            reconnect=reconnect,
        )
        self._lock = threading.Lock()  # the status snapshot and the waiters
        self._exchange_lock = threading.Lock()  # one command and its reply at a time
        self._waiters: list[_Waiter] = []
        self._status = LinkStatus(port=url)
        self._pending = _Pending()
        self._unsure: list[Sample] = []  # plain readings before we know what is there
        self._rate = _Rate()
        self._kind: str | None = None
        self._streaming = False  # connected and announced: batches may go out
        self._generation = 0  # connections made; a stale handshake gives up
        self._handshaker: threading.Thread | None = None
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

    # -- public ---------------------------------------------------------------------------

    def start(self) -> SensorLink:
        self.transport.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port; safe to call from any thread, twice."""
        self.transport.stop(timeout)
        self._fail_waiters()
        shaker = self._handshaker
        if shaker is not None and shaker is not threading.current_thread():
            shaker.join(timeout)
        self._set(CLOSED, "sensor closed")

    def status(self) -> LinkStatus:
        """A snapshot with fresh counters (cheap; fine for a 1 Hz summary)."""
        with self._lock:
            base = self._status
        return self._with_counters(base)

    def request(self, name: str, arg: int | None = None, timeout: float = 2.0) -> Reply | None:
        """Send a host command and wait for the reply.

        Returns None on timeout or when no protocol device is connected (a DIY sensor
        takes no commands). RATE also switches the baud rate when the link budget needs it.
        START, STOP and BAUD belong to the link itself and are refused here.
        """
        name = name.upper()
        if name not in ("ID", "TARE", "CAL", "RATE"):
            raise ValueError(f"{name!r} is not a command for the link's users")
        if self._kind != "device" or not self._status.connected:
            return None
        try:
            with self._exchange_lock:
                if name == "RATE" and arg is not None:
                    return self._apply_rate(arg, timeout)
                return self._exchange(name, arg, timeout)
        except (SensorLost, serial.SerialException, OSError):
            return None

    def tare(self) -> bool:
        return isinstance(self.request("TARE"), p.Ack)

    def calibrate(self, grams: int) -> Reply | None:
        return self.request("CAL", grams)

    def set_rate(self, hz: int) -> Reply | None:
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
            ignored=d.ignored,
            gaps=tuple(self._gaps),
            clock_offset_ms=self._offset,
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

    def _waiting_state(self) -> str:
        return RECONNECTING if self._gap_start is not None else CONNECTING

    # -- transport callbacks (reader thread) ----------------------------------------------

    def open_failed(self, failures: list[tuple[str, BaseException]]) -> None:
        waiting = self._waiting_state()
        for url, exc in failures:
            hint = permission_hint(url, exc)
            if hint:
                self._set(waiting, hint)
        if not failures:
            msg = "looking for a sensor (none found)"
        elif permission_hint(*failures[-1]) is None:
            msg = LOST_MESSAGE if self._gap_start is not None else open_error_message(*failures[-1])
        else:
            return
        if self._status.message != msg:
            self._set(waiting, msg)

    def connection_made(self, transport: SerialTransport) -> None:
        self.decoder.reset()
        self.decoder.accept_plain = True
        self._pending = _Pending()
        self._unsure = []
        self._plain_seen = 0
        self._kind = None
        self._streaming = False
        self._generation += 1
        self._set(self._waiting_state(), f"opened {transport.port_url}", port=transport.port_url)
        self._handshaker = threading.Thread(
            target=self._handshake,
            args=(self._generation,),
            name="sensor-handshake",
            daemon=True,
        )
        self._handshaker.start()

    def data_received(self, data: bytes, now: float) -> None:
        self._last_rx = now
        for item in self._ingest(data, now):
            self._resolve(item)
        self._flush(now)

    def read_timed_out(self, now: float) -> None:
        self._flush(now, force=True)
        if self._streaming and now - self._last_rx > self.silence_timeout:
            raise SensorLost(f"silent for {now - self._last_rx:.1f} s")

    def connection_lost(self, exc: BaseException | None) -> None:
        self._generation += 1  # any handshake still running is for a port now closed
        self._fail_waiters()
        if exc is None or self.transport.stopped:
            return
        why = str(exc)
        if self._status.state == CONNECTED:
            self._flush(time.monotonic(), force=True)
            self._gap_start = time.monotonic()
            self._gaps.append(Gap(self._gap_start))
            log.info("sensor lost: %s", why)
            self._streaming = False
            self._set(LOST, LOST_MESSAGE)
        elif self._gap_start is None and self._status.message != why:
            self._set(CONNECTING, why)
        self._streaming = False

    # -- handshake (its own short-lived thread: the reader keeps delivering replies) -----

    def _handshake(self, generation: int) -> None:
        try:
            with self._exchange_lock:
                self._shake(generation)
        except (SensorLost, serial.SerialException, OSError) as exc:
            if generation == self._generation:
                self.transport.drop(str(exc))

    def _shake(self, generation: int) -> None:
        """Ask who is there; a DIY sensor never answers but prints bare numbers."""
        found = self._exchange("ID", timeout=self.handshake_timeout)
        if generation != self._generation:
            return
        if isinstance(found, p.Identity):
            if found.protocol != p.PROTOCOL_VERSION:
                raise SensorLost(
                    f"sensor speaks protocol v{found.protocol}; this app speaks "
                    f"v{p.PROTOCOL_VERSION} (update the app or the firmware)"
                )
            # From here on a line without a valid checksum is noise, never a reading.
            self._kind = "device"
            identity = self.transport.identity
            if identity is not None and not identity.serial_number:
                # Firmware that reports its USB serial here can be found by it later.
                identity.serial_number = found.serial
            if self.want_rate and self.want_rate != found.rate_hz:
                result = self._apply_rate(self.want_rate)
                if not isinstance(result, p.Ack):
                    log.warning("sensor refused rate %s: %s", self.want_rate, result)
            if not isinstance(self._exchange("START"), p.Ack):
                raise SensorLost("no answer to START")
            if generation == self._generation:
                self._connected(found)
        elif self._plain_seen >= DIY_LINES:
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
        self._streaming = True  # after the status: a batch never precedes "connected"

    def _apply_rate(self, hz: int, timeout: float = 1.0) -> Reply | None:
        """Set the rate, first moving to a baud rate that carries it if needed; `timeout`
        is for each reply."""
        if not p.RATE_MIN_HZ <= hz <= p.RATE_MAX_HZ:
            return p.Refusal("RATE", "RANGE")
        old = self.transport.baud or p.DEFAULT_BAUD  # set by now: the port is open
        if not p.rate_fits(hz, old):
            baud = p.min_baud_for(hz)
            if baud is None:
                return p.Refusal("RATE", "BUDGET")
            ack = self._exchange("BAUD", baud, timeout)
            if not isinstance(ack, p.Ack):
                return ack
            self.transport.set_baudrate(baud)
            if not isinstance(self._exchange("ID", timeout=timeout), p.Identity):
                self.transport.set_baudrate(old)  # the device falls back on its own too
                return p.Refusal("BAUD", "NOCONFIRM")
        return self._exchange("RATE", hz, timeout)

    def _exchange(self, name: str, arg: int | None = None, timeout: float = 1.0) -> Reply | None:
        """Write one command and wait for its reply (None on timeout or a lost port)."""
        waiter = _Waiter(name)
        with self._lock:
            self._waiters.append(waiter)
        try:
            self.transport.write(p.encode_command(name, arg))
            waiter.done.wait(timeout)
        finally:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return waiter.reply

    def _resolve(self, item: p.Item) -> None:
        if not isinstance(item, p.Ack | p.Refusal | p.Identity):
            return
        with self._lock:
            for waiter in self._waiters:
                if waiter.matches(item):
                    self._waiters.remove(waiter)
                    waiter.finish(item)
                    return

    def _fail_waiters(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.finish(None)

    # -- decoding and batching (reader thread) --------------------------------------------

    def _ingest(self, data: bytes, now: float) -> list[p.Item]:
        """Decode a chunk into the pending batch; hand back the replies."""
        kind = self._kind
        samples = self._pending.samples
        n = 0
        if kind is not None and self._unsure:
            if kind == "device":
                self.decoder.bad_lines += len(self._unsure)  # noise after all
            else:
                samples.extend(self._unsure)
                n = len(self._unsure)
            self._unsure = []
        if kind == "device" and self.decoder.accept_plain:
            self.decoder.accept_plain = False  # only checksummed lines from now on
        items = self.decoder.feed(data)
        replies: list[p.Item] = []
        for item in items:
            if isinstance(item, tuple):
                samples.append(Sample(*item))
                n += 1
            elif isinstance(item, p.PlainForce):
                self._plain_seen += 1
                self._diy_seq += 1
                reading = Sample(self._diy_seq, int(now * 1000), item.force_cn)
                if kind is None:
                    self._unsure.append(reading)  # a device's noise, or a DIY sensor?
                    continue
                samples.append(reading)
                n += 1
            elif isinstance(item, p.LeverEvent):
                self._pending.lever.append(item)
                self._lever = item.engaged
            else:
                replies.append(item)
        if kind is None and self._plain_seen >= DIY_LINES:
            self._fail_waiters()  # plain numbers, no identity: stop waiting for one
        if n:
            self._samples += n
            self._rate.add(n, now)
            last = samples[-1]
            self._last_force = last.force_cn
            if kind == "device":
                offset = now * 1000 - last.ms
                if self._offset is None or offset < self._offset:
                    self._offset = offset
        return replies

    def _flush(self, now: float, force: bool = False) -> None:
        pending = self._pending
        if not pending.samples and not pending.lever:
            return
        if not force and now - self._last_flush < self.batch_interval:
            return
        if not self._streaming or self._kind is None:
            return  # still finding out what is on the line; deliver once we know
        self._pending = _Pending()
        self._last_flush = now
        try:
            self.on_batch(SensorBatch(now, pending.samples, pending.lever, self._kind))
        except Exception:
            if not self._callback_failed:
                self._callback_failed = True
                log.exception("sensor batch callback failed")

"""A bare number is a reading only from a DIY sensor.

One flipped bit (`*` -> newline) used to turn a frame's checksum into a line of its own,
read as a DIY force (`2980` -> 29.80 N... or 2,980 N at another scale). Once the link
knows a protocol device is on the line, a line without a valid checksum is a bad line.
Here a device on a real pty sends frames with every one-bit flip and many two- and
three-bit flips; the link must never hand over a reading that was not sent.
"""

from __future__ import annotations

import os
import pty
import random
import threading
import tty
from collections.abc import Iterator

import pytest

from app.core import protocol as p
from app.sensor import Sample, SensorBatch, SensorLink
from tests.support.waiting import wait_for

IDENT = p.Identity(p.PROTOCOL_VERSION, "HipHook-T", "1.0", "HHT0001", 100, p.DEFAULT_BAUD)


def digit_checksum_frames(n: int) -> list[bytes]:
    """Sample frames whose checksum is all decimal digits: the ones a `*` flipped to a
    newline would leave as a plausible bare number."""
    out: list[bytes] = []
    seq = 0
    while len(out) < n:
        frame = p.encode_sample(seq, 1000 + 10 * seq, 2000 + seq)
        if frame[-5:-1].isdigit() and int(frame[-5:-1]) < 3000:  # in range as newtons
            out.append(frame)
        seq += 1
    return out


def flip(frame: bytes, bits: list[int]) -> bytes:
    buf = bytearray(frame)
    for bit in bits:
        buf[bit // 8] ^= 1 << (bit % 8)
    return bytes(buf)


def corrupted_stream(frames: list[bytes], seed: int = 7) -> bytes:
    """Each corruption between two good frames: every 1-bit flip, and random 2/3-bit ones."""
    rng = random.Random(seed)
    good = p.encode_sample(60000, 5, 100)
    parts: list[bytes] = []
    for frame in frames:
        nbits = len(frame) * 8
        for bit in range(nbits):
            parts += [flip(frame, [bit]), good]
        for k in (2, 3):
            for _ in range(300):
                parts += [flip(frame, rng.sample(range(nbits), k)), good]
    return b"".join(parts)


class Device:
    """The far end of a real pty: answers ID and START, then plays `stream`."""

    def __init__(self, stream: bytes) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.stream = stream
        self.sent_all = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rx = b""
        started = False
        while not started:
            rx += os.read(self.master, 1024)
            *lines, rx = rx.split(b"\n")
            for line in lines:
                cmd = p.parse_command(line)
                if isinstance(cmd, p.Command) and cmd.name == "ID":
                    os.write(self.master, p.encode_identity(IDENT))
                elif isinstance(cmd, p.Command) and cmd.name == "START":
                    os.write(self.master, p.encode_ack("START"))
                    started = True
        view = memoryview(self.stream)
        while view:
            view = view[os.write(self.master, view[:4096]) :]
        self.sent_all.set()

    def close(self) -> None:
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def frames() -> list[bytes]:
    return digit_checksum_frames(4)


@pytest.fixture
def device(frames: list[bytes]) -> Iterator[Device]:
    dev = Device(corrupted_stream(frames) + p.encode_sample(60001, 6, 101))
    yield dev
    dev.close()


def test_the_stream_holds_the_corruption_that_fooled_the_old_link(frames: list[bytes]) -> None:
    """Without the rule, a `*` flipped to a newline reads as a DIY force."""
    star = frames[0].rfind(b"*") * 8 + 5  # 0x2A ^ 0x20 = 0x0A
    split = flip(frames[0], [star])
    assert b"\n" in split[:-1]
    items = p.Decoder().feed(split)
    assert any(isinstance(i, p.PlainForce) for i in items)
    strict = p.Decoder()
    strict.accept_plain = False
    assert strict.feed(split) == [] and strict.bad_lines == 2


def test_a_protocol_device_never_yields_a_reading_it_did_not_send(
    device: Device, frames: list[bytes]
) -> None:
    sent = {Sample(*item) for item in p.Decoder().feed(b"".join(frames))}
    sent |= {Sample(60000, 5, 100), Sample(60001, 6, 101)}
    lock = threading.Lock()
    got: list[Sample] = []

    def on_batch(batch: SensorBatch) -> None:
        assert batch.kind == "device"
        with lock:
            got.extend(batch.samples)

    link = SensorLink(device.path, on_batch, silence_timeout=30).start()
    try:
        assert wait_for(lambda: link.status().connected), link.status()
        assert device.sent_all.wait(20)
        assert wait_for(lambda: Sample(60001, 6, 101) in got, 10)  # the last line is in
        with lock:
            stray = [s for s in got if s not in sent]
        assert stray == []
        assert len(got) > 1000  # the good frames between corruptions got through
        st = link.status()
        assert st.bad_lines + st.checksum_errors > 1000
    finally:
        link.stop()

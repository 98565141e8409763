"""Every transport at the device's rate: the simulator at 100 Hz over a real pty, a real
loopback `socket://` and a real `rfc2217://` server (pyserial's PortManager) in front of
the pty. The link reads in chunks with a timeout whatever the transport; the reader of
old, `read(in_waiting or 1)`, got ~10 Hz over `socket://`, where `in_waiting` says 1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from app.sensor import Sample, SensorBatch, SensorLink
from firmware_sim import Simulator, start_simulator
from tests.support.rfc2217_bridge import Rfc2217Bridge
from tests.support.waiting import wait_for

RATE_HZ = 100
WINDOW_S = 4.0


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[tuple[float, Sample]] = []

    def batch(self, b: SensorBatch) -> None:
        with self.lock:
            self.got.extend((b.received, s) for s in b.samples)

    def between(self, t0: float, t1: float) -> list[Sample]:
        with self.lock:
            return [s for t, s in self.got if t0 <= t < t1]

    def seqs(self) -> set[int]:
        with self.lock:
            return {s.seq for _, s in self.got}


@contextmanager
def url_for(transport: str) -> Iterator[tuple[str, Simulator]]:
    sim = start_simulator("steady", rate=RATE_HZ, tcp_port=0, record_writes=True)
    sim.set_phase("press")
    try:
        if transport == "pty":
            yield sim.port, sim
        elif transport == "socket":
            assert sim.tcp_url is not None
            yield sim.tcp_url, sim
        else:
            with Rfc2217Bridge(sim.port) as bridge:
                yield bridge.url, sim
    finally:
        sim.stop()


@pytest.mark.parametrize("transport", ["pty", "socket", "rfc2217"])
def test_the_link_reads_at_the_devices_rate(transport: str) -> None:
    arrivals = Arrivals()
    with url_for(transport) as (url, sim):
        link = SensorLink(url, arrivals.batch).start()
        try:
            assert wait_for(lambda: link.status().connected), link.status()
            assert wait_for(lambda: len(arrivals.seqs()) >= 20)
            log = sim.write_log
            assert log is not None
            t0 = time.monotonic()
            time.sleep(WINDOW_S)  # a measuring window, not a wait for a state
            t1 = time.monotonic()
            written = [seq for seq, stamp in list(log) if t0 <= stamp < t1]
            # Everything written in the window arrives (a reader behind the device never
            # catches up, and fails here).
            assert wait_for(lambda: set(written) <= arrivals.seqs(), 2.0), (
                f"{len(set(written) - arrivals.seqs())} of {len(written)} samples missing"
            )
            delivered = arrivals.between(t0, t1)
            device_hz = len(written) / (t1 - t0)
            link_hz = len(delivered) / (t1 - t0)
            assert device_hz == pytest.approx(RATE_HZ, rel=0.02)
            # The reader keeps pace (the old one-byte-a-pass reader gave ~10 of 100 Hz). Its
            # arrival times are the machine's scheduling too: on a loaded machine a batch lands
            # after the window's end, so the 1 % target is bench_sensor.py's to measure, and
            # this bound only tells a reader that keeps up from one that falls behind.
            assert link_hz == pytest.approx(device_hz, rel=0.2), (link_hz, device_hz)
            assert link.status().dropped == 0
        finally:
            link.stop()

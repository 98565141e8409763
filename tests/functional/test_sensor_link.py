"""The host link against the simulator over a real pseudo-terminal (no pyserial fakes)."""

from __future__ import annotations

import argparse
import errno
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from app.core import protocol as p
from app.sensor import (
    CONNECTED,
    LOST,
    LOST_MESSAGE,
    LinkStatus,
    SensorBatch,
    SensorLink,
    open_sensor,
    permission_hint,
)
from app.sensor.cli import register
from firmware_sim import Simulator, start_simulator
from tests.support.waiting import wait_for


class Recorder:
    """Collects what the reader thread hands over, as an event loop would."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[SensorBatch] = []
        self.statuses: list[LinkStatus] = []

    def batch(self, b: SensorBatch) -> None:
        with self.lock:
            self.batches.append(b)

    def status(self, s: LinkStatus) -> None:
        with self.lock:
            self.statuses.append(s)

    def samples(self) -> list[tuple[int, int, int]]:
        with self.lock:
            return [s for b in self.batches for s in b.samples]

    def levers(self) -> list[p.LeverEvent]:
        with self.lock:
            return [e for b in self.batches for e in b.lever]

    def forces_n(self, last: int) -> list[float]:
        return [s[2] / 100 for s in self.samples()[-last:]]


@pytest.fixture
def rig() -> Iterator[tuple[Simulator, SensorLink, Recorder]]:
    sim = start_simulator("steady", rate=100)
    rec = Recorder()
    link = SensorLink(sim.port, rec.batch, rec.status).start()
    assert wait_for(lambda: link.status().connected)
    yield sim, link, rec
    link.stop()
    sim.stop()


def test_handshake_and_streaming(rig: tuple[Simulator, SensorLink, Recorder]) -> None:
    sim, link, rec = rig
    st = link.status()
    assert st.kind == "device" and st.identity is not None
    assert st.identity.serial == "HHSIM0001"
    assert wait_for(lambda: len(rec.samples()) >= 100)
    seqs = [s[0] for s in rec.samples()]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(b.kind == "device" for b in rec.batches)
    assert wait_for(lambda: 80 <= link.status().rate_hz <= 120)
    assert link.status().dropped == 0
    assert rec.statuses[-1].state == CONNECTED


def test_phase_drives_force_and_tare_zeroes_it(
    rig: tuple[Simulator, SensorLink, Recorder],
) -> None:
    sim, link, rec = rig
    sim.set_phase("press")
    assert wait_for(lambda: min(rec.forces_n(20) or [0]) > 140)
    assert link.tare()
    n = len(rec.samples())
    assert wait_for(lambda: len(rec.samples()) > n + 30)
    assert all(abs(f) < 3 for f in rec.forces_n(20))


def test_rate_change_and_baud_negotiation(rig: tuple[Simulator, SensorLink, Recorder]) -> None:
    sim, link, rec = rig
    assert link.set_rate(200) == p.Ack("RATE", "200")
    assert wait_for(lambda: 180 <= link.status().rate_hz <= 220, 5)
    assert link.set_rate(1000) == p.Ack("RATE", "1000")
    assert sim.model.baud == p.min_baud_for(1000)  # moved to a baud that carries 1 kHz
    assert wait_for(lambda: link.status().rate_hz >= 900, 5)
    assert link.set_rate(5) == p.Refusal("RATE", "RANGE")
    assert link.status().dropped == 0


def test_lever_events(rig: tuple[Simulator, SensorLink, Recorder]) -> None:
    sim, link, rec = rig
    sim.set_phase("lever")
    assert wait_for(lambda: any(e.engaged for e in rec.levers()))
    assert link.status().lever is True
    sim.set_phase("position")
    assert wait_for(lambda: rec.levers()[-1].engaged is False)


def test_calibration_through_the_link(rig: tuple[Simulator, SensorLink, Recorder]) -> None:
    sim, link, rec = rig
    sim.set_phase("rest")
    assert link.tare()
    assert link.calibrate(5000) == p.Refusal("CAL", "NOLOAD")
    sim.place_weight(5000)
    time.sleep(0.1)
    assert link.calibrate(5000) == p.Ack("CAL", "5000")
    n = len(rec.samples())
    assert wait_for(lambda: len(rec.samples()) > n + 50)
    mean = sum(rec.forces_n(50)) / 50
    assert mean == pytest.approx(5 * 9.80665, rel=0.01)


def test_unplug_and_replug_mid_stream(rig: tuple[Simulator, SensorLink, Recorder]) -> None:
    sim, link, rec = rig
    assert wait_for(lambda: len(rec.samples()) > 20)
    sim.unplug()
    assert wait_for(lambda: link.status().state != CONNECTED, 3)
    assert any(s.state == LOST and s.message == LOST_MESSAGE for s in rec.statuses)
    time.sleep(0.5)  # away for a while; the link keeps trying
    sim.replug()
    back = time.monotonic()
    assert wait_for(lambda: link.status().connected, 2.0), link.status()
    assert time.monotonic() - back < 2.0
    gaps = link.status().gaps
    assert len(gaps) == 1 and gaps[0].end is not None
    assert gaps[0].seconds is not None and gaps[0].seconds >= 0.5
    assert "back after" in link.status().message
    n = len(rec.samples())
    assert wait_for(lambda: len(rec.samples()) > n + 20)  # streaming again
    assert link.status().dropped == 0  # a restarted device is not a drop


def test_silent_device_is_treated_as_lost(rig: tuple[Simulator, SensorLink, Recorder]) -> None:
    sim, link, rec = rig
    link.silence_timeout = 0.3
    with sim._lock:  # the device hangs: still plugged, says nothing
        sim.model.streaming = False
        sim.model.handle = lambda line, now: b""  # type: ignore[method-assign]
    assert wait_for(lambda: any(s.state == LOST for s in rec.statuses), 3)


def test_diy_plain_numbers() -> None:
    sim = start_simulator("diy", rate=80)
    rec = Recorder()
    link = SensorLink(sim.port, rec.batch, rec.status).start()
    try:
        sim.set_phase("press")
        assert wait_for(lambda: link.status().connected)
        assert link.status().kind == "diy" and link.status().identity is None
        assert wait_for(lambda: min(rec.forces_n(10) or [0]) > 100)
        assert all(b.kind == "diy" for b in rec.batches)
        assert link.tare() is False  # a DIY sketch takes no commands
    finally:
        link.stop()
        sim.stop()


def test_line_noise_is_counted_and_streaming_goes_on() -> None:
    sim = start_simulator("noise", rate=200, seed=5)
    rec = Recorder()
    link = SensorLink(sim.port, rec.batch, rec.status).start()
    try:
        assert wait_for(lambda: link.status().connected, 5)
        assert wait_for(lambda: len(rec.samples()) >= 400, 10)
        st = link.status()
        assert st.bad_lines + st.checksum_errors + st.overlong > 0
        assert st.state == CONNECTED
        assert all(p.FORCE_MIN_CN <= s[2] <= p.FORCE_MAX_CN for s in rec.samples())
    finally:
        link.stop()
        sim.stop()


def test_socket_url() -> None:
    sim = start_simulator("steady", rate=100, tcp_port=0)
    rec = Recorder()
    assert sim.tcp_url is not None
    link = SensorLink(sim.tcp_url, rec.batch, rec.status).start()
    try:
        assert wait_for(lambda: len(rec.samples()) >= 20)
    finally:
        link.stop()
        sim.stop()


def test_missing_port_keeps_trying_without_hanging(tmp_path: Path) -> None:
    rec = Recorder()
    link = SensorLink(str(tmp_path / "ttyNOPE"), rec.batch, rec.status).start()
    assert wait_for(lambda: bool(rec.statuses))
    assert "cannot open" in rec.statuses[-1].message
    started = time.monotonic()
    link.stop()
    assert time.monotonic() - started < 2


def test_broken_callback_does_not_kill_the_reader() -> None:
    sim = start_simulator("steady", rate=100)
    calls = []

    def explode(batch: SensorBatch) -> None:
        calls.append(batch)
        raise RuntimeError("app bug")

    link = SensorLink(sim.port, explode).start()
    try:
        assert wait_for(lambda: len(calls) >= 20)
        assert link.status().connected
    finally:
        link.stop()
        sim.stop()


def test_open_sensor_sim_and_phase() -> None:
    rec = Recorder()
    session = open_sensor("sim", rec.batch, rec.status, scenario="weak")
    assert session is not None
    try:
        session.set_phase("press")
        assert wait_for(lambda: len(rec.samples()) > 50 and rec.forces_n(1)[0] > 30)
        assert max(rec.forces_n(20)) < 100  # the weak hold stays weak
    finally:
        session.close()
    assert open_sensor("none", rec.batch) is None


def test_permission_hint_names_the_fix(tmp_path: Path) -> None:
    dev = tmp_path / "ttyACM0"
    dev.touch()
    exc = serial.SerialException(errno.EACCES, f"could not open port {dev}: Permission denied")
    hint = permission_hint(str(dev), exc)
    assert hint is not None and "usermod -aG" in hint and str(dev) in hint
    assert permission_hint(str(dev), FileNotFoundError(errno.ENOENT, "gone")) is None


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hiphook")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_monitor_prints_readings() -> None:
    sim = start_simulator("steady", rate=100)
    try:
        args = parse(["sensor", "monitor", sim.port, "--seconds", "1.2"])
        out = io.StringIO()
        assert args.func(args, out=out) == 0
        text = out.getvalue()
        assert "connected to HipHook-SIM" in text
        assert " Hz " in text and "dropped 0" in text
    finally:
        sim.stop()


def test_cli_monitor_missing_port_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parse(["sensor", "monitor", "/dev/ttyDOESNOTEXIST"])
    assert args.func(args) == 2
    assert "no such port" in capsys.readouterr().err


def test_cli_scan_runs() -> None:
    args = parse(["sensor", "scan", "--all"])
    assert args.func(args, out=io.StringIO()) in (0, 1)

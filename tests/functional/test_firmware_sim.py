"""The simulated Hip Hook: device model on its own, then served on a real pty and TCP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import mean

import pytest
import serial

from app.core import protocol as p
from firmware_sim import DeviceModel, ProfileError, make_scenario, start_simulator
from firmware_sim.scenarios import Profile
from tests.support.cli import hiphook, start

ROOT = Path(__file__).resolve().parents[2]


def decode(data: bytes) -> list[p.Item]:
    return p.Decoder().feed(data)


def forces(items: list[p.Item]) -> list[float]:
    return [it[2] / 100 for it in items if type(it) is tuple]  # type: ignore[index]


def run(model: DeviceModel, start: float, end: float) -> list[p.Item]:
    out: list[p.Item] = []
    dec = p.Decoder()
    t = start
    while t < end:
        out += dec.feed(model.due(t))
        t += 0.05
    return out


def command(model: DeviceModel, line: bytes, now: float = 0.0) -> p.Item | None:
    return p.decode_line(model.handle(line, now)[:-1])


def test_identify_and_commands() -> None:
    dev = DeviceModel(make_scenario("steady"), rate_hz=100, serial="HH42")
    ident = command(dev, b"ID")
    assert isinstance(ident, p.Identity)
    assert (ident.serial, ident.protocol, ident.rate_hz, ident.baud) == ("HH42", 1, 100, 115200)
    assert command(dev, b"RATE 5") == p.Refusal("RATE", "RANGE")
    assert command(dev, b"RATE 1000") == p.Refusal("RATE", "BUDGET")  # 115200 cannot carry it
    assert command(dev, b"BAUD 460800") == p.Ack("BAUD", "460800")
    assert command(dev, b"RATE 1000") == p.Ack("RATE", "1000")
    assert command(dev, b"JUMP") == p.Refusal("JUMP", "UNKNOWN")
    assert command(dev, b"RATE 100*0000") == p.Refusal("?", "CHECKSUM")


def test_unconfirmed_baud_change_falls_back() -> None:
    dev = DeviceModel(make_scenario("steady"))
    dev.handle(b"BAUD 921600", 0.0)
    assert dev.baud == 921600
    dev.due(5.0)  # nothing heard at the new rate for 5 s
    assert dev.baud == p.DEFAULT_BAUD


def test_streams_samples_at_the_rate_and_follows_phases() -> None:
    dev = DeviceModel(make_scenario("steady"), rate_hz=50)
    dev.handle(b"START", 0.0)
    dev.set_phase("position", 0.0)
    idle = forces(run(dev, 0.0, 2.0))
    dev.set_phase("press", 2.0)
    pressed = run(dev, 2.0, 6.0)
    samples = [it for it in pressed if type(it) is tuple]
    assert len(idle) == pytest.approx(100, abs=5)
    assert len(samples) == pytest.approx(200, abs=5)
    assert max(idle) < 20
    assert min(forces(pressed)[-50:]) > 140  # a steady hold of about 150 N
    seqs = [s[0] for s in samples]  # type: ignore[index]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_lever_phase_sends_events_and_heartbeats() -> None:
    dev = DeviceModel(make_scenario("steady"), rate_hz=20)
    dev.handle(b"START", 0.0)
    dev.set_phase("lever", 0.0)
    events = [it for it in run(dev, 0.0, 3.0) if isinstance(it, p.LeverEvent)]
    assert events and all(e.engaged for e in events)
    assert len(events) >= 3  # one on change, then one a second
    dev.set_phase("position", 3.0)
    later = [it for it in run(dev, 3.0, 3.5) if isinstance(it, p.LeverEvent)]
    assert later[0].engaged is False


def test_tare_and_calibration() -> None:
    dev = DeviceModel(make_scenario("steady"), rate_hz=100)
    dev.set_phase("rest", 0.0)
    dev.handle(b"START", 0.0)
    assert abs(mean(forces(run(dev, 0.0, 1.0)))) > 2  # an untared cell reads off zero
    assert command(dev, b"TARE", 1.0) == p.Ack("TARE")
    assert abs(mean(forces(run(dev, 1.0, 2.0)))) < 0.5
    assert command(dev, b"CAL 10000", 2.0) == p.Refusal("CAL", "NOLOAD")
    dev.place_weight(10_000)  # 10 kg: 98.07 N
    raw = mean(forces(run(dev, 2.0, 3.0)))
    assert raw == pytest.approx(98.07 * 1.03, rel=0.01)  # the cell's gain error shows
    assert command(dev, b"CAL 10000", 3.0) == p.Ack("CAL", "10000")
    calibrated = mean(forces(run(dev, 3.0, 4.0)))
    assert calibrated == pytest.approx(98.07, rel=0.005)


def test_hold_scenarios_differ_as_named() -> None:
    def pressed(name: str) -> list[float]:
        sc = make_scenario(name)
        return [sc.at("press", t / 10, t / 10)[0] for t in range(0, 600)]

    steady, weak, tiring, lifts = (pressed(n) for n in ("steady", "weak", "tiring", "lifts"))
    assert max(weak) < 0.5 * max(steady)
    assert tiring[-1] < 0.5 * max(tiring)
    assert min(lifts[100:]) < 10 < 100 < max(lifts)
    assert min(steady[20:]) == max(steady[20:])


def test_profile_scenario(tmp_path: Path) -> None:
    path = tmp_path / "hold.csv"
    path.write_text("# t, N, lever\n0,0\n2,100\n4,100,1\n5,0\n", encoding="utf-8")
    prof = Profile.load(path)
    assert prof.at("position", 0, 1.0) == (50.0, False)
    assert prof.at("position", 0, 4.5) == (50.0, True)
    assert prof.at("position", 0, 99.0) == (0.0, False)
    path.write_text("0,0\n1,nan\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=":2:"):
        Profile.load(path)
    with pytest.raises(ProfileError):
        make_scenario("profile")


def test_diy_sketch_prints_plain_numbers_and_ignores_commands() -> None:
    dev = DeviceModel(make_scenario("diy"), rate_hz=80)
    assert dev.handle(b"ID", 0.0) == b""
    dev.set_phase("press", 0.0)
    items = run(dev, 0.0, 3.0)
    assert items and all(isinstance(it, p.PlainForce) for it in items)
    assert items[-1].force_cn > 10_000  # type: ignore[union-attr]


@pytest.fixture
def sim() -> Iterator[object]:
    handle = start_simulator("steady", rate=100, tcp_port=0)
    yield handle
    handle.stop()


def read_until(
    port: serial.SerialBase, dec: p.Decoder, want: Callable[[list[p.Item]], bool], timeout: float
) -> list[p.Item]:
    items: list[p.Item] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end and not want(items):
        items += dec.feed(port.read(port.in_waiting or 1))
    return items


def test_served_on_a_real_pty(sim: object) -> None:
    handle = sim  # type: ignore[assignment]
    assert os.path.realpath(handle.port) == handle.tty  # type: ignore[attr-defined]
    assert handle.tty.startswith("/dev/pts/")  # type: ignore[attr-defined]
    with serial.serial_for_url(handle.port, timeout=0.05) as port:  # type: ignore[attr-defined]
        dec = p.Decoder()
        port.write(p.encode_command("ID") + p.encode_command("START"))
        items = read_until(port, dec, lambda its: sum(type(i) is tuple for i in its) >= 20, 5)
        assert isinstance(items[0], p.Identity)
        assert sum(type(i) is tuple for i in items) >= 20
        assert dec.bad_lines == dec.checksum_errors == 0


def test_unplug_fails_the_port_and_replug_gives_a_new_pty(sim: object) -> None:
    handle = sim  # type: ignore[assignment]
    first = handle.tty  # type: ignore[attr-defined]
    port = serial.serial_for_url(handle.port, timeout=0.05)  # type: ignore[attr-defined]
    try:
        handle.unplug()  # type: ignore[attr-defined]
        assert not os.path.exists(handle.port)  # type: ignore[attr-defined]
        with pytest.raises((serial.SerialException, OSError)):
            for _ in range(50):
                port.read(port.in_waiting or 1)
        handle.replug()  # type: ignore[attr-defined]
        # The old pts is still held by our port, so the device comes back elsewhere.
        assert handle.tty != first  # type: ignore[attr-defined]
    finally:
        port.close()
    assert os.path.realpath(handle.port) == handle.tty  # type: ignore[attr-defined]
    with serial.serial_for_url(handle.port, timeout=0.05) as again:  # type: ignore[attr-defined]
        again.write(p.encode_command("ID"))
        items = read_until(again, p.Decoder(), bool, 3)
        assert isinstance(items[0], p.Identity)


def test_loopback_tcp(sim: object) -> None:
    url = sim.tcp_url  # type: ignore[attr-defined]
    assert url is not None and url.startswith("socket://127.0.0.1:")
    with serial.serial_for_url(url, timeout=0.05) as port:
        port.write(p.encode_command("ID"))
        items = read_until(port, p.Decoder(), bool, 3)
        assert isinstance(items[0], p.Identity)


def test_line_noise_is_survivable_over_the_pty() -> None:
    handle = start_simulator("noise", rate=200, seed=3)
    try:
        with serial.serial_for_url(handle.port, timeout=0.05) as port:
            dec = p.Decoder()
            port.write(p.encode_command("START"))
            items = read_until(port, dec, lambda its: len(its) >= 400, 10)
            assert sum(type(i) is tuple for i in items) >= 300
            assert dec.bad_lines + dec.checksum_errors + dec.overlong > 0
    finally:
        handle.stop()


def test_python_m_firmware_sim_prints_the_port_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "--scenario", "weak"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()
        assert os.path.exists(path)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert not os.path.exists(path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_profile_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("0,zero\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "--scenario", "profile", "--profile", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "bad.csv:1" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_hiphook_sim_is_found_by_scan_and_auto_while_it_runs(stop: signal.Signals) -> None:
    from app.sensor import find_auto
    from app.sensor.discovery import announced_sims

    proc = start("sim", cwd=ROOT)
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()  # printed once it is announced
        assert [s.device for s in announced_sims()] == [path]
        scan = hiphook("sensor", "scan", timeout=60)
        assert scan.returncode == 0 and path in scan.stdout
        assert "Hip Hook" in scan.stdout and "simulator" in scan.stdout
        assert find_auto() == path
        proc.send_signal(stop)
        assert proc.wait(timeout=10) == 0
        assert announced_sims() == [] and find_auto() is None
        files = list((Path(os.environ["HIPHOOK_RUNTIME_DIR"]) / "sims").glob("*"))
        assert files == []  # gone, not merely skipped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_file_left_by_a_killed_simulator_is_not_a_sensor(tmp_path: Path) -> None:
    from app.sensor.discovery import announced_sims
    from app.sensor.discovery import runtime_dir as host_runtime_dir
    from firmware_sim.announce import announce, runtime_dir

    assert runtime_dir() == host_runtime_dir()  # the two copies of the rule agree
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    port = tmp_path / "port"
    port.touch()  # the port is there: only the dead pid makes it stale
    path = announce(str(port), None, "HHSIM0009")
    assert path is not None
    assert [s.device for s in announced_sims()] == [str(port)]  # while "running"
    body = path.read_text().replace(str(os.getpid()), dead.stdout.strip())
    path.write_text(body)
    assert announced_sims() == []

"""The reference firmware (firmware/) on an emulated ATmega328P, driven through the app's
own link and codec: hardware in the loop, in CI.

The board (firmware/sim/board.c) runs the real .elf on simavr with an HX711 model and a
bouncing lever, and bridges the UART to a pty. The toolchain is a system package: these
tests skip without it locally and fail without it in CI (CI=true).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import mean

import pytest
import serial

from app.core import protocol as p
from app.sensor import SensorBatch, SensorLink
from tests.support.cli import start as start_hiphook

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
G = 9.80665
# The board's load cell reads this many newtons with nothing on it, untared (23000 counts
# at the firmware's uncalibrated 2000 counts per newton).
UNTARED_ZERO_N = 11.5


def missing_toolchain() -> str | None:
    for tool in ("make", "cc", "avr-gcc", "avr-objcopy", "avr-size"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install gcc-avr avr-libc)"
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        return "simavr headers are missing (apt-get install simavr libsimavr-dev libelf-dev)"
    return None


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the firmware and the emulated board once, outside the source tree."""
    reason = missing_toolchain()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"CI must run the firmware on the emulator, but {reason}; .ci/run installs them"
            )
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("firmware-build")
    done = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE), f"BUILD={out}", "all", "sim"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


class Board:
    """One emulated board process: its pty path, stdin controls, reset, clean stop."""

    def __init__(self, build: Path, log: Path, *args: str) -> None:
        self.log_path = log
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [str(build / "board"), *args, str(build / "hiphook.elf")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line.startswith("/"):
            self.stop()
            raise AssertionError(f"board printed no pty path: {line!r} {log.read_text()}")
        self.path = line

    def control(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def reset(self) -> None:
        """The reset button: RAM starts over, EEPROM stays."""
        self.proc.send_signal(signal.SIGUSR1)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.log_path.read_text()


@pytest.fixture
def boards(build: Path, tmp_path: Path) -> Iterator[Callable[..., Board]]:
    boards: list[Board] = []

    def make(*args: str) -> Board:
        b = Board(build, tmp_path / f"board{len(boards)}.log", *args)
        boards.append(b)
        return b

    yield make
    for b in boards:
        b.stop()


class Collector:
    """What the link delivers, with a condition variable to wait for states."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.samples: list[tuple[int, int, int]] = []
        self.lever: list[p.LeverEvent] = []
        self.states: list[str] = []

    def on_batch(self, batch: SensorBatch) -> None:
        with self.cond:
            self.samples += batch.samples
            self.lever += batch.lever
            self.cond.notify_all()

    def on_status(self, status: object) -> None:
        with self.cond:
            self.states.append(status.state)  # type: ignore[attr-defined]
            self.cond.notify_all()

    def wait(self, what: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not what():
                left = deadline - time.monotonic()
                assert left > 0, "timed out waiting for the emulated board"
                self.cond.wait(left)

    def mark(self) -> int:
        with self.cond:
            return len(self.samples)

    def next_forces(self, n: int, after: int | None = None, timeout: float = 10.0) -> list[float]:
        start = self.mark() if after is None else after
        self.wait(lambda: len(self.samples) >= start + n, timeout)
        with self.cond:
            return [cn / 100 for _, _, cn in self.samples[start : start + n]]


@pytest.fixture
def links() -> Iterator[Callable[..., tuple[SensorLink, Collector]]]:
    links: list[SensorLink] = []

    def open_link(path: str, **options: object) -> tuple[SensorLink, Collector]:
        got = Collector()
        link = SensorLink(path, got.on_batch, got.on_status, **options)  # type: ignore[arg-type]
        links.append(link)
        link.start()
        got.wait(lambda: link.status().connected)
        return link, got

    yield open_link
    for link in links:
        link.stop()


BoardFactory = Callable[..., Board]
LinkFactory = Callable[..., tuple[SensorLink, Collector]]


def test_the_build_uses_well_under_half_the_chip(build: Path) -> None:
    out = subprocess.run(
        ["avr-size", "-A", str(build / "hiphook.elf")], capture_output=True, text=True, check=True
    ).stdout
    size = {m[1]: int(m[2]) for m in re.finditer(r"^\.(\w+)\s+(\d+)", out, re.M)}
    flash = size["text"] + size.get("data", 0)
    ram = size.get("data", 0) + size.get("bss", 0)
    assert flash < 16 * 1024, out  # of 32 KiB
    assert ram < 1024, out  # of 2 KiB; the stack needs the rest
    assert (build / "hiphook.hex").read_text().startswith(":")


def test_handshake_and_streaming_through_the_link(boards: BoardFactory, links: LinkFactory) -> None:
    board = boards()
    link, got = links(board.path)
    ident = link.status().identity
    assert ident is not None
    assert (ident.protocol, ident.model, ident.firmware) == (1, "HipHook-AVR", "1.0.0")
    assert (ident.rate_hz, ident.baud) == (80, 115200)
    assert re.fullmatch(r"HH[0-9A-F]{6}", ident.serial)
    got.wait(lambda: len(got.samples) >= 100)
    seqs = [s for s, _, _ in got.samples[:100]]
    assert seqs == list(range(seqs[0], seqs[0] + 100))
    gaps = [b - a for (_, a, _), (_, b, _) in zip(got.samples, got.samples[1:100], strict=False)]
    # 80 SPS on the device's own clock: a conversion is seen at the next wake-up (the
    # 1 ms tick, or sooner while a line is going out), so single gaps jitter by a tick.
    assert 11 <= min(gaps) and max(gaps) <= 14, gaps
    assert (got.samples[99][1] - got.samples[0][1]) / 99 == pytest.approx(12.5, abs=0.05)
    status = link.status()
    assert (status.dropped, status.bad_lines, status.checksum_errors, status.overlong) == (0,) * 4
    assert got.lever and got.lever[0].engaged is False


def test_ten_emulated_seconds_flat_out_lose_nothing(boards: BoardFactory) -> None:
    """The emulator runs as fast as the host allows: every sample of 10 s of device time
    arrives, in order, with good checksums (bench/bench_firmware.py does 60 s)."""
    board = boards("--seconds", "12")
    dec = p.Decoder()
    samples: list[tuple[int, int, int]] = []
    with serial.Serial(board.path, 115200, timeout=0.05) as port:
        assert reply(port, dec, b"START") == p.Ack("START", "80")
        board.control("speed 0")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError):
                break  # the board reached 12 s and closed its pty
            if not data and board.proc.poll() is not None:
                break
            samples += [it for it in dec.feed(data) if type(it) is tuple]  # type: ignore[misc]
    assert board.proc.wait(10) == 0
    span_s = (samples[-1][1] - samples[0][1]) / 1000
    assert span_s > 10
    assert len(samples) - 1 == pytest.approx(span_s * 80, abs=1)
    assert [s for s, _, _ in samples] == list(range(samples[0][0], samples[0][0] + len(samples)))
    assert (dec.dropped, dec.bad_lines, dec.checksum_errors, dec.overlong) == (0, 0, 0, 0)


def test_rate_change_and_rates_no_hx711_gives(boards: BoardFactory, links: LinkFactory) -> None:
    board = boards()
    link, got = links(board.path)
    assert link.set_rate(10) == p.Ack("RATE", "10")
    start = got.mark()
    got.wait(lambda: len(got.samples) >= start + 4)
    with got.cond:
        ms = [m for _, m, _ in got.samples[start + 1 : start + 4]]
    assert [b - a for a, b in zip(ms, ms[1:], strict=False)] == [100, 100]
    assert link.set_rate(100) == p.Refusal("RATE", "RANGE")  # fits the baud, not the HX711
    # 500 Hz would need 460800 baud, which a 16 MHz UART cannot make: the switch is refused.
    assert link.set_rate(500) == p.Refusal("BAUD", "RANGE")
    assert isinstance(link.request("ID"), p.Identity)
    assert link.request("ID").rate_hz == 10  # type: ignore[union-attr]
    assert link.set_rate(80) == p.Ack("RATE", "80")
    assert link.status().connected and link.status().dropped == 0


def test_a_board_with_its_rate_pin_grounded_owns_up_to_10_hz(
    boards: BoardFactory, links: LinkFactory
) -> None:
    """Many HX711 boards tie RATE to ground; the firmware notices and says 10 Hz."""
    board = boards("--rate-pin-grounded")
    link, got = links(board.path)
    got.wait(lambda: len(got.samples) >= 6)
    with got.cond:
        ms = [m for _, m, _ in got.samples[1:6]]
    assert {b - a for a, b in zip(ms, ms[1:], strict=False)} <= {99, 100, 101}
    ident = link.request("ID")
    assert isinstance(ident, p.Identity) and ident.rate_hz == 10
    assert link.set_rate(80) == p.Refusal("RATE", "RANGE")
    assert link.set_rate(10) == p.Ack("RATE", "10")


def test_tare_takes_the_present_load_as_zero(
    boards: BoardFactory, links: LinkFactory, tmp_path: Path
) -> None:
    profile = tmp_path / "forty.csv"
    profile.write_text("# seconds,newtons[,lever]: firmware_sim's profile format\n0,40\n")
    board = boards("--profile", str(profile))
    link, got = links(board.path)
    before = mean(got.next_forces(8))
    assert before == pytest.approx(40 * 2193 / 2000 + UNTARED_ZERO_N, abs=1.0)
    assert link.tare()
    after = got.next_forces(16, after=got.mark() + 2)
    assert abs(mean(after)) < 0.2 and max(map(abs, after)) < 0.5


def test_calibration_survives_a_reset_and_a_power_cycle(
    boards: BoardFactory, links: LinkFactory, tmp_path: Path
) -> None:
    eeprom = tmp_path / "eeprom.bin"
    board = boards("--eeprom", str(eeprom))
    board.control("force 0")
    link, got = links(board.path)
    assert link.calibrate(50) == p.Refusal("CAL", "RANGE")
    assert link.tare()
    assert link.calibrate(2000) == p.Refusal("CAL", "NOLOAD")  # nothing on the tool
    board.control("weight 2000")
    got.wait(lambda: mean(got.next_forces(4)) > 15)
    assert link.calibrate(2000) == p.Ack("CAL", "2000")
    want = 2000 * G / 1000
    assert mean(got.next_forces(16, after=got.mark() + 2)) == pytest.approx(want, abs=0.1)
    serial_no = link.status().identity.serial  # type: ignore[union-attr]

    # The reset button: the link hears nothing for a second, reconnects, starts again.
    board.reset()
    got.wait(lambda: "lost" in got.states and got.states[-1] == "connected", timeout=15)
    assert mean(got.next_forces(16)) == pytest.approx(want, abs=0.1)
    link.stop()

    # A power cycle: a new emulator with the EEPROM the last one saved.
    board.stop()
    board = boards("--eeprom", str(eeprom))
    board.control("weight 2000")
    link, got = links(board.path)
    assert link.status().identity.serial == serial_no  # type: ignore[union-attr]
    assert mean(got.next_forces(16, after=got.mark() + 2)) == pytest.approx(want, abs=0.1)
    board.control("weight 0")
    got.wait(lambda: abs(mean(got.next_forces(4))) < 0.3)


def test_lever_events_are_debounced_and_repeated(boards: BoardFactory, links: LinkFactory) -> None:
    board = boards()
    board.control("lever 0")
    link, got = links(board.path)
    board.control("lever 1")
    got.wait(lambda: any(e.engaged for e in got.lever))
    board.control("lever 0")
    got.wait(lambda: not got.lever[-1].engaged and any(e.engaged for e in got.lever))
    # heartbeats while held: wait for two more lines after the release
    n = len(got.lever)
    got.wait(lambda: len(got.lever) >= n + 1, timeout=5)
    states = [e.engaged for e in got.lever]
    changes = [a for a, b in zip(states, states[1:], strict=False) if a != b]
    assert changes == [False, True], states  # one press, one release: the bounce is gone
    beats = [e.ms for e in got.lever[n - 1 :]]
    assert 950 <= beats[1] - beats[0] <= 1050
    assert link.status().lever is False


def reply(port: serial.Serial, dec: p.Decoder, line: bytes) -> p.Item | None:
    """Send one raw line and return the first non-sample item that comes back."""
    port.write(line + b"\n")
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        for item in dec.feed(port.read(port.in_waiting or 1)):
            if type(item) is not tuple and type(item) is not p.LeverEvent:
                return item
    return None


BAD_LINES = [
    b"bogus",
    b"RATE",
    b"ID 5",
    b"RATE 5x",
    b"RATE  80",
    b"FAR TOO LONG",
    b"TOOLONGWORD",
    b"RATE 12345678",
    b"ID*0000",
    b"ID*" + b"%04x" % p.crc16(b"ID"),
    b"ID *%04X" % p.crc16(b"ID "),
    b"A" * 70,
    b"RATE " + b"9" * 200,
    b"\x00ID",
    b"R\xc3\xa9TE 80",
    b"STOP 1",
    b"CAL",
    b"*",
]


def test_bad_commands_are_refused_as_the_protocol_module_says(boards: BoardFactory) -> None:
    board = boards()
    dec = p.Decoder()
    with serial.Serial(board.path, 115200, timeout=0.05) as port:
        for line in BAD_LINES:
            want = p.parse_command(line)
            assert isinstance(want, p.Refusal), line
            assert reply(port, dec, line) == want, line
        # device-level refusals: what the protocol allows, this board cannot do
        assert reply(port, dec, b"RATE 5") == p.Refusal("RATE", "RANGE")
        assert reply(port, dec, b"RATE -5") == p.Refusal("RATE", "RANGE")
        assert reply(port, dec, b"RATE 100") == p.Refusal("RATE", "RANGE")
        assert reply(port, dec, b"CAL 99") == p.Refusal("CAL", "RANGE")
        assert reply(port, dec, b"CAL 200001") == p.Refusal("CAL", "RANGE")
        assert reply(port, dec, b"BAUD 9600") == p.Refusal("BAUD", "RANGE")
        assert reply(port, dec, b"BAUD 921600") == p.Refusal("BAUD", "RANGE")
        # and the good ones, typed by a person: any case, no checksum, stray spaces
        assert reply(port, dec, b"BAUD 115200") == p.Ack("BAUD", "115200")
        assert reply(port, dec, b"\t rate 10\r") == p.Ack("RATE", "10")
        assert reply(port, dec, p.encode_command("RATE", 80)[:-1]) == p.Ack("RATE", "80")
        ident = reply(port, dec, b"id")
        assert isinstance(ident, p.Identity) and ident.rate_hz == 80
    assert (dec.bad_lines, dec.checksum_errors, dec.overlong) == (0, 0, 0)


ROUTINE = """
name = "emulated"
[[step]]
kind = "timed"
name = "Position"
instruction = "Find the spot."
seconds = 10
[[step]]
kind = "press"
name = "Press"
instruction = "Hold."
seconds = 30
[[step]]
kind = "action"
name = "Lever"
instruction = "Push the lever."
seconds = 600
"""


def test_a_whole_press_judged_from_the_emulated_board(boards: BoardFactory, tmp_path: Path) -> None:
    """The app opens the board's pty as a USB port; the world follows the routine."""
    board = boards()
    board.control("force 0")
    board.control("lever 0")
    routine = tmp_path / "r.toml"
    routine.write_text(ROUTINE)
    app = start_hiphook(
        "run",
        "--plain",
        "--json",
        "--routine",
        str(routine),
        "--time-scale",
        "10",
        "--sensor",
        board.path,
        "--db",
        str(tmp_path / "log.db"),
    )
    events: list[dict] = []  # type: ignore[type-arg]
    try:
        assert app.stdout is not None
        for raw in app.stdout:
            ev = json.loads(raw)
            events.append(ev)
            if ev["event"] == "step_started" and ev["step"] == 1:
                board.control("force 150")
            if ev["event"] == "step_started" and ev["step"] == 2:
                board.control("force 0")
                board.control("lever 1")
        assert app.wait(30) == 0, app.stderr.read() if app.stderr else ""
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    (verdict,) = [e for e in events if e["event"] == "verdict"]
    assert verdict["verdict"] == "confirmed" and verdict["share"] >= 0.9, verdict
    assert any(e["event"] == "lever" for e in events)
    assert events[-1]["event"] in ("summary", "sensor_summary", "finished"), events[-1]


def test_make_emulate_prints_the_pty_and_plays_a_profile(build: Path, tmp_path: Path) -> None:
    """`make -C firmware emulate`, as a maker runs it: path on its own line, Ctrl-C ends it."""
    profile = tmp_path / "lever.csv"
    profile.write_text("0,0,0\n0.3,0,1  # the lever goes down at 0.3 s\n")
    proc = subprocess.Popen(
        ["make", "-C", str(FIRMWARE), f"BUILD={build}", "emulate", f"ARGS=--profile {profile}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        # make says which directory it enters (and what it builds) before the board runs;
        # the path is the line of its own that follows.
        path, seen = "", []
        deadline = time.monotonic() + 60
        while not path.startswith("/dev/") and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
            path = proc.stdout.readline().strip() if ready else ""
            seen.append(path)
        assert path.startswith("/dev/"), seen
        dec = p.Decoder()
        with serial.Serial(path, 115200, timeout=0.05) as port:
            assert isinstance(reply(port, dec, b"ID"), p.Identity)
            assert reply(port, dec, b"START") == p.Ack("START", "80")
            deadline = time.monotonic() + 10
            engaged = False
            while not engaged and time.monotonic() < deadline:
                items = dec.feed(port.read(port.in_waiting or 1))
                engaged = any(type(i) is p.LeverEvent and i.engaged for i in items)
            assert engaged
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches make and the board alike
        proc.wait(10)
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_bad_profile_is_refused_with_the_line(build: Path, tmp_path: Path) -> None:
    profile = tmp_path / "bad.csv"
    profile.write_text("0,10\n2,20\n1,5\n")
    done = subprocess.run(
        [str(build / "board"), "--profile", str(profile), str(build / "hiphook.elf")],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 2
    assert f"{profile}:3: times must not go backwards" in done.stderr
    assert done.stdout == ""

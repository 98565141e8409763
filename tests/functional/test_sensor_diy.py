"""Real DIY sketches over real pseudo-terminals: the shapes HX711 sketches print, mixed
with their header lines and garbage, and `--baud N|auto`.

A pty carries bytes whatever its baud setting, but it shares one termios with its master
end: the peer below reads the speed the host set on the port and writes the sketch's text
only when it is the sketch's rate, and framing garbage (bytes with the high bit set, as a
UART misreads a wrong rate) otherwise. So these tests prove the host's choice of rate is
made from what decodes, and that it sets that rate on the port; not that a real UART at a
wrong rate gives exactly these bytes.
"""

from __future__ import annotations

import argparse
import io
import termios
import threading
from collections.abc import Callable

import pytest

from app.core import protocol as p
from app.sensor import SensorBatch, SensorLink
from app.sensor.baud import detect_baud
from app.sensor.cli import register
from tests.support.sketch import SPEEDS, sketch
from tests.support.waiting import wait_for

# Each shape: the line for reading i, the number it prints, and cN per unit printed
# (g 9.80665 mN, kg 9.80665 N, lb 4.44822162 N; no unit: the default 1 N per unit).
SHAPES: dict[str, tuple[Callable[[int], bytes], Callable[[int], float], float]] = {
    "label and grams": (
        lambda i: b"Reading: %d.5 g\r\n" % (1000 + i),
        lambda i: 1000 + i + 0.5,
        0.980665,
    ),
    "bare kilograms": (lambda i: b"%d.25 kg\r\n" % (i % 50), lambda i: i % 50 + 0.25, 980.665),
    "HX711 label": (lambda i: b"HX711: %d.34\r\n" % (i % 90), lambda i: i % 90 + 0.34, 100.0),
    "library pair": (
        lambda i: b"one reading:\t%d.3\t| average:\t12.12345\r\n" % (i % 70),
        lambda i: i % 70 + 0.3,
        100.0,
    ),
    "pounds": (lambda i: b"Weight = %d lbs\r\n" % (i % 40), lambda i: i % 40, 444.822162),
    "newtons": (lambda i: b"%d.0 N\r\n" % (i % 200), lambda i: i % 200, 100.0),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_sketch_shape_reads_as_forces_over_a_pty(shape: str) -> None:
    line, number, cn_per_unit = SHAPES[shape]
    allowed = {round(number(i) * cn_per_unit) for i in range(2000)}
    got: list[int] = []
    lock = threading.Lock()

    def on_batch(batch: SensorBatch) -> None:
        with lock:
            got.extend(s.force_cn for s in batch.samples)

    with sketch(line) as board:
        link = SensorLink(board.path, on_batch).start()
        try:
            assert wait_for(lambda: len(got) >= 40, 8), link.status()
            st = link.status()
        finally:
            link.stop()
    assert st.kind == "diy"
    with lock:
        assert set(got) <= allowed, set(got) - allowed  # every reading one that was printed
    assert st.ignored >= 3  # the header lines: counted, not fatal
    assert st.bad_lines >= 3  # the noise lines
    assert st.state == "connected"


def test_header_lines_from_a_protocol_device_are_bad_lines() -> None:
    dec = p.Decoder()
    dec.accept_plain = False
    assert dec.feed(b"HX711 scale demo\r\nReading: 12.3 g\r\n") == []
    assert dec.bad_lines == 2 and dec.ignored == 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hiphook")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def reading(i: int) -> bytes:
    return b"Reading: %d.0 g\r\n" % (2000 + i % 100)


def test_detect_baud_keeps_the_first_rate_at_which_lines_decode() -> None:
    with sketch(reading, baud=57600) as board:
        tried: list[str] = []
        assert detect_baud(board.path, report=tried.append) == 57600
    assert tried == ["trying 9600 baud", "trying 38400 baud", "trying 57600 baud"]


def test_monitor_baud_auto_finds_the_sketchs_rate_and_reads() -> None:
    with sketch(reading, baud=38400) as board:
        args = parse(["sensor", "monitor", board.path, "--baud", "auto", "--seconds", "2.5"])
        out = io.StringIO()
        assert args.func(args, out=out) == 0
    text = out.getvalue()
    assert "# 38400 baud: lines decode" in text
    assert "a DIY sensor" in text
    readings = [ln for ln in text.splitlines() if " Hz " in ln and not ln.startswith("#")]
    assert readings, text
    # 2000-2099 g is 19.6-20.6 N: the monitor shows the decoded force.
    assert all(19.0 < float(ln.split()[0]) < 21.0 for ln in readings), text


def test_monitor_explicit_baud_opens_at_that_rate() -> None:
    with sketch(reading, baud=9600) as board:
        args = parse(["sensor", "monitor", board.path, "--baud", "9600", "--seconds", "2"])
        out = io.StringIO()
        assert args.func(args, out=out) == 0
        assert "a DIY sensor" in out.getvalue()
        assert SPEEDS[termios.tcgetattr(board.master)[4]] == 9600


def test_monitor_baud_auto_says_so_when_no_rate_decodes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with sketch(reading, baud=19200) as board:  # not one of the usual rates
        args = parse(["sensor", "monitor", board.path, "--baud", "auto", "--seconds", "1"])
        assert args.func(args, out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "9600, 38400, 57600 or 115200" in err and "--baud N" in err


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "0", "-1", "ten"])
def test_diy_scale_refuses_what_is_not_a_scale(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["sensor", "monitor", "/dev/null"], ["sensor", "calibrate"]):
        with pytest.raises(SystemExit) as exc:
            parse([*command, f"--diy-scale={bad}"])
        assert exc.value.code == 2
        assert "positive number of newtons per unit" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["fast", "0", "-9600", "9600.5"])
def test_baud_refuses_what_is_not_a_rate(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(["sensor", "monitor", "/dev/null", f"--baud={bad}"])
    assert exc.value.code == 2
    assert "baud rate" in capsys.readouterr().err


def test_a_link_given_no_baud_finds_the_rate_on_its_reader_thread() -> None:
    """`--baud auto` in the coach: the link finds the rate itself, off the event loop."""
    got: list[SensorBatch] = []
    with sketch(reading, baud=57600) as board:
        link = SensorLink(board.path, got.append, baud=None).start()
        try:
            assert wait_for(lambda: link.status().connected, timeout=20)
            assert link.transport.baud == 57600
            assert wait_for(lambda: sum(len(b.samples) for b in got) >= 5)
        finally:
            link.stop()

"""`--sensor` values: a malformed one refused with what was expected, and a port that will
not open named at the start with what to do, by the real link against real files."""

from __future__ import annotations

import argparse
import io
import socket
import threading
import time

import pytest

from app.sensor import LinkStatus, SensorLink
from app.sensor.cli import register
from app.sensor.spec import SensorSpec, parse_sensor_spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "--sensor is empty"),
        ("   ", "--sensor is empty"),
        ("ttyACM0", "is not a path"),
        ("ptmx", "did you mean /dev/ptmx?"),  # exists on every Linux box
        ("socket://127.0.0.1", "needs HOST:PORT"),
        ("socket://127.0.0.1:0", "needs HOST:PORT"),
        ("socket://:7777", "needs HOST:PORT"),
        ("rfc2217://host:99999", "needs HOST:PORT"),
        ("telnet://host:23", "unknown URL scheme"),
    ],
)
def test_malformed_values_say_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected.replace("?", r"\?")) as exc:
        parse_sensor_spec(text)
    msg = str(exc.value)
    assert "/dev/" in msg or "://127.0.0.1:7777" in msg  # the forms expected, an example


def test_well_formed_values() -> None:
    assert parse_sensor_spec(" AUTO ") == SensorSpec("auto", "auto")
    assert parse_sensor_spec("sim").kind == "sim"
    assert parse_sensor_spec("/dev/ttyACM0") == SensorSpec("path", "/dev/ttyACM0")
    assert parse_sensor_spec("socket://127.0.0.1:1").kind == "url"
    assert parse_sensor_spec("loop://").kind == "url"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hiphook")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


@pytest.mark.parametrize("value", ["", "ttyACM0", "socket://nohost"])
def test_monitor_refuses_a_malformed_sensor_with_exit_2(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(["sensor", "monitor", value])
    assert args.func(args, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.startswith("sensor monitor: ") and "Traceback" not in err
    assert "/dev/" in err or "socket://127.0.0.1:7777" in err  # what was expected


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("/dev/null", "not a serial port"),
        ("socket://127.0.0.1:{closed}", "nothing is listening"),
        ("/dev/ttyHIPHOOKGONE", "no such port"),
    ],
)
def test_the_link_names_a_port_that_will_not_open(url: str, why: str) -> None:
    url = url.format(closed=closed_port())  # at run time: every worker collects the same ids
    seen: list[LinkStatus] = []
    got = threading.Event()

    def on_status(s: LinkStatus) -> None:
        seen.append(s)
        if "cannot open" in s.message:
            got.set()

    link = SensorLink(url, lambda b: None, on_status, retry_interval=0.05).start()
    try:
        assert got.wait(5), [s.message for s in seen]
    finally:
        link.stop()
    msg = next(s.message for s in seen if "cannot open" in s.message)
    assert url in msg and why in msg
    assert "hiphook sensor scan" in msg and "/dev/serial/by-id" in msg


def test_monitor_says_at_the_start_why_the_port_will_not_open() -> None:
    args = parse(["sensor", "monitor", "/dev/null", "--seconds", "0.6"])
    out = io.StringIO()
    t0 = time.monotonic()
    assert args.func(args, out=out) == 0
    assert time.monotonic() - t0 < 5
    first = out.getvalue().splitlines()[0]
    assert "cannot open the sensor at /dev/null: it is not a serial port" in first

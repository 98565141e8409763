"""Home's Sensor line, driven with the Pilot against a real simulator on a real pty: the
choice is shown with its state, changed with a key, remembered, probed off the event
loop, and used by a run started from Home."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from app import cli
from app.sensor.probe import CANNOT_OPEN, SensorState
from app.settings import Settings
from app.tui.screens.home import HomeScreen
from app.tui.widgets.sensor_choice import SensorChoice, choices
from app.tui.widgets.status_line import StatusLine
from firmware_sim import start_simulator
from tests.support.tui import drive, make_app, screen_text, settle, start_run


def remember(**changes: str) -> None:
    settings = Settings.load()
    for key, value in changes.items():
        setattr(settings, key, value)
    assert settings.save() is None


def saved() -> dict[str, object]:
    return dict(json.loads(Path(os.environ["HIPHOOK_CONFIG"]).read_text()))


async def until(pilot: Pilot[int], pred: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Let the app run until `pred()` holds; `timeout` bounds a hung state."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        await pilot.pause(0.02)
    return pred()


async def probed(pilot: Pilot[int]) -> SensorChoice:
    """Wait for the Sensor line's probe (a thread worker) to finish, then repaint."""
    choice = pilot.app.screen.query_one(SensorChoice)
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)
    assert choice.state is not None
    return choice


def test_home_shows_none_by_default_with_its_key_in_the_footer() -> None:
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await probed(pilot)
        text = screen_text(app)
        assert "Sensor       none: presses are timed, not checked   (c to change)" in text
        assert "c Sensor" in text  # the footer names the key

    drive(app, body)


def test_c_cycles_the_choices_and_each_is_remembered() -> None:
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        choice = await probed(pilot)
        order = choices(choice.ports)
        seen = []
        for _ in order:
            await pilot.press("c")
            await probed(pilot)
            seen.append(choice.spec)
            assert saved()["sensor"] == choice.spec
        assert seen == [*order[1:], order[0]]  # auto, the ports, sim, and round to none
        assert "sim" in seen and "auto" in seen

    drive(app, body)


def test_a_remembered_port_shows_connected_at_its_rate_and_not_calibrated() -> None:
    with start_simulator("steady", rate=100) as sim:
        remember(sensor=sim.port)
        app, _clock = make_app(None)

        async def body(pilot: Pilot[int]) -> None:
            choice = await probed(pilot)
            assert choice.state is not None and choice.state.kind == "connected"
            assert 90 <= choice.state.rate_hz <= 115
            text = " ".join(screen_text(app).split())  # a long path wraps the line
            assert "connected at 1" in text and "Hz" in text
            assert "not calibrated" in text

        drive(app, body)


def test_a_calibrated_sensor_does_not_say_not_calibrated() -> None:
    with start_simulator("steady", rate=100) as sim:
        remember(sensor=sim.port, band="60,140,5")
        app, _clock = make_app(None)

        async def body(pilot: Pilot[int]) -> None:
            choice = await probed(pilot)
            assert choice.state is not None and "connected at" in choice.state.words
            assert "calibrated" not in choice.state.words

        drive(app, body)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("socket://127.0.0.1:1", "nothing is listening"),
        ("/dev/null", "not a serial port"),
        ("/dev/ttyACM9", "not found"),
    ],
)
def test_a_port_that_will_not_open_is_named_on_home(spec: str, words: str) -> None:
    remember(sensor=spec)
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        choice = await probed(pilot)
        assert choice.state is not None and not choice.state.usable

        def shown() -> str:
            return " ".join(screen_text(app).split())  # the line may wrap

        def named() -> bool:  # the reason, the port and what to do, once all are painted
            text = shown()
            return words in text and spec in text and "sensor scan" in text

        assert await until(pilot, named), shown()  # painted after the probe, maybe in parts

    drive(app, body)


def test_the_probe_runs_off_the_loop_and_home_paints_before_it_ends() -> None:
    release = threading.Event()
    started = threading.Event()

    def slow_probe(spec: str) -> SensorState:
        started.set()
        release.wait(10)
        return SensorState(spec, CANNOT_OPEN, "cannot open the sensor at /dev/x: test")

    class SlowHome(HomeScreen):
        def sensor_choice(self) -> SensorChoice:
            return SensorChoice("/dev/x", probe=slow_probe, ports=lambda: ())

    app, _clock = make_app(None)
    app.go_home = lambda: app.push_screen(SlowHome(app.today, app.home_loader, app.options))  # type: ignore[method-assign]

    async def body(pilot: Pilot[int]) -> None:
        assert started.wait(5)
        await settle(pilot)
        text = screen_text(app)  # painted, and the keys answer, while the probe blocks
        assert "Sensor       checking…" in text and "Streak" in text
        await pilot.press("s")
        await settle(pilot)
        assert "Tight side   left" in screen_text(app)
        release.set()
        await probed(pilot)
        assert "cannot open the sensor at /dev/x: test" in screen_text(app)

    drive(app, body)


def test_a_run_started_from_home_uses_the_chosen_sensor() -> None:
    with start_simulator("steady", rate=100) as sim:
        remember(sensor=sim.port, side="left")
        app, _clock = make_app(None)

        async def body(pilot: Pilot[int]) -> None:
            await probed(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await start_run(pilot)
            session = app.session
            assert session is not None and session.sensor is not None
            assert session.sensor.spec == sim.port
            sensor = session.sensor
            assert await until(pilot, lambda: sensor.status is not None and sensor.status.connected)

        drive(app, body)


def test_auto_hands_the_run_the_port_it_found() -> None:
    choice = SensorChoice("auto", probe=lambda s: SensorState(s, "connected", "ok", "/dev/a"))
    choice.state = SensorState("auto", "connected", "ok", "/dev/a")
    assert choice.run_spec == "/dev/a"
    choice.state = SensorState("auto", "not found", "no")
    assert choice.run_spec == "auto"


def test_hiphook_sensor_sets_homes_sensor(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(cli, "_run_tui", lambda options, *a, **k: opened.append(options) or 0)
    assert cli.main(["--sensor", "socket://127.0.0.1:7777", "--baud", "9600"]) == 0
    assert saved()["sensor"] == "socket://127.0.0.1:7777"
    assert getattr(opened[0], "baud", None) == 9600
    assert cli.main(["--sensor", "AUTO"]) == 0
    assert saved()["sensor"] == "auto"


def test_hiphook_sensor_refuses_a_malformed_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--sensor", "ttyACM0"]) == 2
    assert "is not a path" in capsys.readouterr().err
    assert not Path(os.environ["HIPHOOK_CONFIG"]).exists()


def free_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_run_names_a_port_that_will_not_open_on_its_status_line_until_it_answers() -> None:
    port = free_port()
    url = f"socket://127.0.0.1:{port}"
    remember(sensor=url, side="left")
    app, _clock = make_app(None)

    async def body(pilot: Pilot[int]) -> None:
        await probed(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = await start_run(pilot)
        line = screen.query_one(StatusLine)
        assert await until(pilot, lambda: "Cannot open the sensor at" in line.text)
        assert url in line.text and "nothing is listening" in line.text
        assert line.kind == "warning"
        with start_simulator("steady", tcp_port=port):  # the sensor comes up after all
            assert await until(pilot, lambda: line.text == "", timeout=15)

    drive(app, body)

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from app.sensor.calibrate import STAGES, band_problem
from app.settings import Settings
from firmware_sim import start_simulator
from firmware_sim.scenarios import Profile
from tests.support.cli import command, environment, hiphook
from tests.support.terminal import Terminal


def test_calibration_with_the_simulator_saves_a_band_that_runs_use() -> None:
    before = hiphook("sensor", "calibrate", "--show")
    assert "not calibrated" in before.stdout
    out = hiphook(
        "sensor", "calibrate", "--sensor", "sim", "--yes", "--seconds", "0.5", "--timeout", "20"
    )
    assert out.returncode == 0, out.stderr
    # the simulated body ramps onto the tool in 1.5 s: the reading waited for it to settle,
    # so it holds only the still force (the sensor's 0.3 N noise), none of the ramp
    waited, taken = out.stdout.split("Lie face down", 1)[1].split("relaxed:", 1)
    assert "settling" in waited
    assert float(taken.split("spread", 1)[1].split()[0]) < 1.0
    band = Settings.load().pressure_band()
    assert band.calibrated
    # the simulated user lies at ~150 N and presses ~50 N harder: the band sits around it
    assert band.low < 150 < band.high and band.high > 190
    shown = hiphook("sensor", "calibrate", "--show")
    assert f"{band.low:.0f}–{band.high:.0f} N" in shown.stdout and "— calibrated" in shown.stdout
    saved = json.loads(Path(os.environ["HIPHOOK_CONFIG"]).read_text())
    assert saved["band"]


def test_calibration_without_a_sensor_is_refused_cleanly() -> None:
    out = hiphook("sensor", "calibrate", "--sensor", "none", "--yes")
    assert out.returncode == 2 and "needs a sensor" in out.stderr
    assert "Traceback" not in out.stderr
    assert not Settings.load().pressure_band().calibrated


def test_a_device_that_keeps_pressing_is_refused_not_saved_as_a_band() -> None:
    """The readings of a sensor pressed all along barely differ: no 159-159 N band."""
    with start_simulator("steady") as sim:
        sim.set_phase("press")  # loaded before, during and after: nobody took it off
        out = hiphook(
            "sensor",
            "calibrate",
            "--sensor",
            sim.port,
            "--yes",
            "--seconds",
            "0.5",
        )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "no band saved" in out.stderr and "read the same" in out.stderr
    assert "Traceback" not in out.stderr
    assert "now " in out.stdout  # the live force was shown while each reading was taken
    assert not Settings.load().pressure_band().calibrated


def test_band_problem_names_each_senseless_set_of_readings() -> None:
    assert band_problem([10.0, 150.0, 200.0], [1.0, 2.0, 2.0]) is None
    assert "read the same" in (band_problem([159.0, 159.1, 159.2], [0.5, 0.5, 0.5]) or "")
    # a step smaller than three noise widths is no step
    assert "read the same" in (band_problem([10.0, 20.0, 25.0], [6.0, 6.0, 6.0]) or "")
    assert "lying relaxed" in (band_problem([10.0, 10.5, 200.0], [0.3, 0.3, 0.3]) or "")
    assert "read less than lying relaxed" in (
        band_problem([10.0, 150.0, 120.0], [1.0, 1.0, 1.0]) or ""
    )


def test_monitor_tare_on_a_loaded_sensor_warns_and_does_not_zero() -> None:
    with start_simulator("steady") as sim:
        sim.set_phase("press")
        out = hiphook("sensor", "monitor", sim.port, "--tare", "--seconds", "2.5")
    assert out.returncode == 0, out.stderr
    assert "not zeroed" in out.stdout and "take the load off" in out.stdout
    readings = [line for line in out.stdout.splitlines() if " Hz " in line]
    forces = [float(line.split()[0]) for line in readings if not line.startswith("#")]
    assert forces and max(forces) > 20  # still reads the load: it was not zeroed


def test_a_force_that_never_settles_times_out_with_what_to_do() -> None:
    """Someone shifting on the tool all along: no reading is taken, nothing is saved."""
    times = [i * 0.25 for i in range(400)]
    shifting = Profile(times=times, forces=[100.0 + 40.0 * (i % 2) for i in range(400)])
    shifting.levers = [False] * 400
    with start_simulator(shifting) as sim:
        out = hiphook(
            "sensor",
            "calibrate",
            "--sensor",
            sim.port,
            "--yes",
            "--seconds",
            "0.5",
            "--timeout",
            "2",
        )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "did not settle within 2 s during the 'empty' reading" in out.stderr
    assert "keep still and try again" in out.stderr and "Traceback" not in out.stderr
    assert "settling (it moves by" in out.stdout  # the live force said so meanwhile
    assert "relaxed" not in out.stdout.split("Take everything off", 1)[1].split("\n", 1)[0]
    assert not Settings.load().pressure_band().calibrated


def test_calibration_on_a_terminal_waits_for_enter_at_each_reading() -> None:
    """As a user runs it: on a real terminal each reading starts when Enter is pressed
    (the prompt is there only on a terminal), the live force is rewritten on one line
    meanwhile, and the band is saved."""
    term = Terminal(
        command("sensor", "calibrate", "--sensor", "sim", "--seconds", "0.5", "--timeout", "20"),
        environment(),
    )
    prompt = "Press Enter when you are in place"
    prompts: list[int] = []
    try:
        for _ in STAGES:
            term.wait_for(prompt)
            prompts.append(len(term.seen))
            term.type("\r")  # Enter, as a terminal sends it
        assert term.wait_exit(60) == 0, term.text()
    finally:
        term.close()
    text = term.seen.decode(errors="replace")
    for (name, *_), at in zip(STAGES, prompts, strict=True):
        assert text.find(f"{name}:", at) >= at, (name, text)  # taken after its Enter
    # a terminal's newline is \r\n: a bare \r is the live force line rewritten in place
    assert re.search(r"\r(?!\n)", text.split(prompt, 1)[1]), text
    assert Settings.load().pressure_band().calibrated

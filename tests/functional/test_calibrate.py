from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.settings import Settings


def hiphook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_calibration_with_the_simulator_saves_a_band_that_runs_use() -> None:
    before = hiphook("sensor", "calibrate", "--show")
    assert "not calibrated" in before.stdout
    out = hiphook(
        "sensor", "calibrate", "--sensor", "sim", "--yes", "--settle", "1.6", "--seconds", "0.5"
    )
    assert out.returncode == 0, out.stderr
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

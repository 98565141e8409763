"""Building the parser (what `--version`, `--help` and every Tab press do first) loads no
command's machinery: each heavy module waits for the command that uses it.

A fresh interpreter, as a real start is; what it costs is bench/bench_startup.py's job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each is a command's machinery, and cost every start-up before it was loaded late.
HEAVY = (
    "asyncio",  # the run, watch and serve event loops
    "ssl",  # the web viewer's server
    "app.core.engine",
    "app.session",
    "app.serve.server",
    "app.publish.client",
    "app.sensor.link",
    "app.sensor.transport",
    "app.sensor.discovery",
    "serial.tools.list_ports",
    "firmware_sim.server",
    "firmware_sim.device",
    "textual",
    "sqlalchemy",
    "apscheduler",
)

PROBE = """
import json, sys
import app.cli
parser = app.cli.build_parser()
parser.parse_args(["history", "--json"])
parser.parse_args(["sim", "--rate", "50"])
print(json.dumps(sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)))
"""


def test_building_and_parsing_the_command_line_loads_no_commands_machinery() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []


def test_the_lazy_packages_still_give_every_name_and_refuse_unknown_ones() -> None:
    import app.sensor
    import firmware_sim

    for package in (app.sensor, firmware_sim):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
        try:
            package.no_such_name  # noqa: B018
        except AttributeError as exc:
            assert "no_such_name" in str(exc)
        else:
            raise AssertionError(f"{package.__name__} gave a name it does not have")

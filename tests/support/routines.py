"""Short routine files for runs of `hiphook run` in tests: a few timed steps, so a run at
a high time scale lasts a second or two of real time, not the twenty of a built-in."""

from __future__ import annotations

from pathlib import Path

from app.core.routine import Routine, Step, StepKind

STEP = '\n[[step]]\nkind = "timed"\nname = "Step {i}"\ninstruction = "Lie still."\nseconds = {s}\n'


def timed_routine(folder: Path, steps: int, seconds: float, name: str = "short") -> Path:
    """A routine file of `steps` timed steps of `seconds` each; returns its path."""
    path = folder / f"{name}.toml"
    text = f'name = "{name}"\ntitle = "Short"\n' + "".join(
        STEP.format(i=i + 1, s=seconds) for i in range(steps)
    )
    path.write_text(text, encoding="utf-8")
    return path


def timed_steps(steps: int, seconds: float, name: str = "timed") -> Routine:
    """The same routine in memory, for a runner built in the test's own process."""
    return Routine(
        name=name,
        title=name.capitalize(),
        version=1,
        description="",
        steps=tuple(
            Step(StepKind.TIMED, f"s{i}", "Lie still.", seconds=seconds) for i in range(steps)
        ),
    )

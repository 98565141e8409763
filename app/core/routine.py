"""The routine as data: steps, sides, variants, and the TOML loader.

Built-in routines are TOML files read by the same loader as a user's own, so a
user's file can do whatever the built-ins do, and a built-in is a worked example.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

SIDES = ("left", "right")


class StepKind(StrEnum):
    """What a step asks of the runner, and so how the engine times it."""

    TIMED = "timed"  # a plain timed step, e.g. getting into position
    PRESS = "press"  # a timed, sustained pressure; judged by the sensor when there is one
    ACTION = "action"  # waits for the user (Enter) or the sensor's lever event
    HOLDS = "holds"  # reps of push / relax
    REPS = "reps"  # paced reps of up / down


# The two phase names of each repeating kind, in order.
PHASES: dict[StepKind, tuple[str, str]] = {
    StepKind.HOLDS: ("push", "relax"),
    StepKind.REPS: ("up", "down"),
}


class RoutineError(ValueError):
    """A routine file that cannot be used; the message names the file, the key and the fault."""


@dataclass(frozen=True)
class Step:
    kind: StepKind
    name: str
    instruction: str
    howto: str = ""
    seconds: float = 0.0  # TIMED/PRESS: duration; ACTION: estimate for the plan's total
    reps: int = 0
    push_s: float = 0.0  # HOLDS: push; REPS: up
    relax_s: float = 0.0  # HOLDS: relax; REPS: down
    side: str | None = None  # "tight", "other", "left", "right" or None

    @property
    def is_timed(self) -> bool:
        return self.kind is not StepKind.ACTION

    @property
    def planned_s(self) -> float:
        """Seconds the engine will time (0 for an action step, which waits)."""
        if self.kind in PHASES:
            return self.reps * (self.push_s + self.relax_s)
        if self.kind is StepKind.ACTION:
            return 0.0
        return self.seconds

    @property
    def estimate_s(self) -> float:
        """Seconds to count for the routine's total, including a guess for actions."""
        return self.seconds if self.kind is StepKind.ACTION else self.planned_s

    def boundaries(self) -> list[tuple[float, int, str]]:
        """Phase boundaries inside the step as (offset_s, rep, phase), in time order."""
        if self.kind not in PHASES:
            return []
        a, b = PHASES[self.kind]
        out: list[tuple[float, int, str]] = []
        per = self.push_s + self.relax_s
        for rep in range(self.reps):
            out.append((rep * per, rep + 1, a))
            out.append((rep * per + self.push_s, rep + 1, b))
        return out

    def title(self) -> str:
        return f"{self.name} ({self.side})" if self.side in SIDES else self.name


@dataclass(frozen=True)
class Progression:
    """Beginner presses grow week by week from start_s up to max_s."""

    start_s: float
    add_s: float
    every_days: int
    max_s: float

    def press_seconds(self, days_since_start: int) -> float:
        weeks = max(0, days_since_start) // self.every_days
        return min(self.max_s, self.start_s + weeks * self.add_s)


@dataclass(frozen=True)
class Routine:
    name: str
    title: str
    version: int
    description: str
    steps: tuple[Step, ...]
    progression: Progression | None = None
    source: str = ""
    sided: bool = field(default=False)

    @property
    def total_s(self) -> float:
        return sum(s.estimate_s for s in self.steps)

    @property
    def timed_total_s(self) -> float:
        return sum(s.planned_s for s in self.steps)

    def for_side(self, tight: str) -> Routine:
        """Resolve "tight"/"other" to a real hip, so every step names left or right."""
        if tight not in SIDES:
            raise ValueError(f"side must be left or right, not {tight!r}")
        other = SIDES[1 - SIDES.index(tight)]
        mapping = {"tight": tight, "other": other}
        steps = tuple(replace(s, side=mapping.get(s.side or "", s.side)) for s in self.steps)
        return replace(self, steps=steps)

    def at_day(self, days_since_start: int) -> Routine:
        """Apply the progression (if any): press steps take that day's hold time."""
        if self.progression is None:
            return self
        return self.with_press_seconds(self.progression.press_seconds(days_since_start))

    def with_press_seconds(self, secs: float) -> Routine:
        """Every press step at `secs` (the progression's choice, by calendar or evidence)."""
        steps = tuple(
            replace(s, seconds=secs) if s.kind is StepKind.PRESS else s for s in self.steps
        )
        return replace(self, steps=steps)


# --------------------------------------------------------------------------- loading

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
_STEP_KEYS = {
    "kind",
    "name",
    "instruction",
    "howto",
    "seconds",
    "reps",
    "push_s",
    "relax_s",
    "up_s",
    "down_s",
    "side",
}
_MAX_STEP_S = 3600.0
_MAX_REPS = 500


_STEP_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*step[ \t]*\]\]")


def _step_lines(text: str, count: int) -> list[int | None]:
    """Line of each [[step]] table, found in one pass (for error messages).

    One pass, not a rescan per step: a 10,000-step file took a minute that way. The
    search is textual, so a header-like line inside a multi-line string would shift
    the count; when the headers found do not match the steps parsed, no line is given
    rather than a wrong one.
    """
    lines = [i for i, line in enumerate(text.split("\n"), start=1) if _STEP_HEADER.match(line)]
    if len(lines) != count:
        return [None] * count
    return list(lines)


def _number(where: str, key: str, value: Any, *, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoutineError(f"{where}: '{key}' must be a number of seconds, not {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < lo or v > hi:
        raise RoutineError(f"{where}: '{key}' = {value!r} is out of range ({lo:g} to {hi:g})")
    return v


def _text(where: str, key: str, value: Any, *, required: bool) -> str:
    if value is None:
        if required:
            raise RoutineError(f"{where}: '{key}' is missing")
        return ""
    if not isinstance(value, str):
        raise RoutineError(f"{where}: '{key}' must be text, not {value!r}")
    if required and not value.strip():
        raise RoutineError(f"{where}: '{key}' is empty")
    return value.strip()


def _step(where: str, raw: Any) -> Step:
    if not isinstance(raw, dict):
        raise RoutineError(f"{where}: each [[step]] must be a table")
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        known = ", ".join(sorted(_STEP_KEYS))
        raise RoutineError(f"{where}: unknown key '{unknown[0]}' (known: {known})")
    kind_raw = raw.get("kind")
    try:
        kind = StepKind(str(kind_raw))
    except ValueError:
        kinds = ", ".join(k.value for k in StepKind)
        raise RoutineError(f"{where}: 'kind' = {kind_raw!r} is not one of {kinds}") from None
    name = _text(where, "name", raw.get("name"), required=True)
    instruction = _text(where, "instruction", raw.get("instruction"), required=True)
    howto = _text(where, "howto", raw.get("howto"), required=False)
    side = raw.get("side")
    if side is not None and side not in ("tight", "other", "left", "right"):
        raise RoutineError(f"{where}: 'side' = {side!r} must be tight, other, left or right")
    seconds = reps = push = relax = 0.0
    if kind in (StepKind.TIMED, StepKind.PRESS):
        if "seconds" not in raw:
            raise RoutineError(f"{where}: a {kind} step needs 'seconds'")
        seconds = _number(where, "seconds", raw["seconds"], lo=1, hi=_MAX_STEP_S)
    elif kind is StepKind.ACTION:
        seconds = _number(where, "seconds", raw.get("seconds", 10), lo=0, hi=_MAX_STEP_S)
    else:
        a_key, b_key = ("push_s", "relax_s") if kind is StepKind.HOLDS else ("up_s", "down_s")
        for k in ("push_s", "relax_s", "up_s", "down_s"):
            if k in raw and k not in (a_key, b_key):
                raise RoutineError(
                    f"{where}: '{k}' does not apply to a {kind} step (use {a_key}, {b_key})"
                )
        if "reps" not in raw:
            raise RoutineError(f"{where}: a {kind} step needs 'reps'")
        r = raw["reps"]
        if isinstance(r, bool) or not isinstance(r, int) or not 1 <= r <= _MAX_REPS:
            raise RoutineError(
                f"{where}: 'reps' = {r!r} must be a whole number from 1 to {_MAX_REPS}"
            )
        reps = r
        if a_key not in raw or b_key not in raw:
            raise RoutineError(f"{where}: a {kind} step needs '{a_key}' and '{b_key}'")
        push = _number(where, a_key, raw[a_key], lo=0.5, hi=600)
        relax = _number(where, b_key, raw[b_key], lo=0.5, hi=600)
    return Step(
        kind=kind,
        name=name,
        instruction=instruction,
        howto=howto,
        seconds=seconds,
        reps=int(reps),
        push_s=push,
        relax_s=relax,
        side=side,
    )


def parse_routine(text: str, source: str = "<routine>") -> Routine:
    """Parse and validate a routine; every fault raises RoutineError naming where it is."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoutineError(f"{source}: not valid TOML: {exc}") from None
    name = data.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise RoutineError(
            f"{source}: top-level 'name' must be a short lower-case name like \"my-routine\", "
            f"not {name!r}"
        )
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RoutineError(f"{source}: 'version' must be a whole number ≥ 1, not {version!r}")
    title = _text(source, "title", data.get("title", name), required=True)
    description = _text(source, "description", data.get("description"), required=False)
    known_top = {"name", "title", "version", "description", "step", "progression"}
    unknown = sorted(set(data) - known_top)
    if unknown:
        raise RoutineError(f"{source}: unknown top-level key '{unknown[0]}'")
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise RoutineError(f"{source}: no steps; add at least one [[step]] table")
    steps = []
    for i, raw in enumerate(raw_steps):
        where = f"{source}, step {i + 1}"
        try:
            steps.append(_step(where, raw))
        except RoutineError as exc:  # only now is the line worth finding
            line = _step_lines(text, len(raw_steps))[i]
            if line is None:
                raise
            raise RoutineError(str(exc).replace(where, f"{where} (line {line})", 1)) from None
    progression = None
    if "progression" in data:
        p = data["progression"]
        where = f"{source}, [progression]"
        if not isinstance(p, dict):
            raise RoutineError(f"{where}: must be a table")
        start = _number(where, "start_s", p.get("start_s"), lo=1, hi=_MAX_STEP_S)
        maximum = _number(where, "max_s", p.get("max_s"), lo=start, hi=_MAX_STEP_S)
        add = _number(where, "add_s", p.get("add_s"), lo=0, hi=_MAX_STEP_S)
        every = p.get("every_days", 7)
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise RoutineError(f"{where}: 'every_days' must be a whole number ≥ 1")
        progression = Progression(start_s=start, add_s=add, every_days=every, max_s=maximum)
    sided = any(s.side in ("tight", "other") for s in steps)
    return Routine(
        name=name,
        title=title,
        version=version,
        description=description,
        steps=tuple(steps),
        progression=progression,
        source=source,
        sided=sided,
    )


def builtin_names() -> list[str]:
    files = resources.files("app.routines")
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml"))


def load_routine(name_or_path: str) -> Routine:
    """A built-in by name, or a user's TOML file by path."""
    if name_or_path in builtin_names():
        res = resources.files("app.routines").joinpath(f"{name_or_path}.toml")
        return parse_routine(res.read_text(encoding="utf-8"), source=f"built-in '{name_or_path}'")
    path = Path(name_or_path)
    if not path.exists():
        raise RoutineError(
            f"{name_or_path}: no such routine; built-ins are {', '.join(builtin_names())}, "
            "or give the path of a .toml file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RoutineError(f"{path}: cannot be read: {exc}") from None
    return parse_routine(text, source=str(path))

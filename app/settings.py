"""Small remembered choices (tight side, routine, beginner start) in a JSON file.

Kept apart from the session log so the first screen can read them without loading the
database layer. `HIPHOOK_CONFIG` points elsewhere (tests, a second user).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from app.core.pressure import DEFAULT_BAND, Band


def settings_path() -> Path:
    env = os.environ.get("HIPHOOK_CONFIG")
    if env:
        return Path(env)
    return Path(user_config_dir("hiphook")) / "settings.json"


@dataclass
class Settings:
    side: str | None = None
    routine: str = "daily"  # a built-in's name or a routine file's absolute path
    recent_routines: str | None = None  # routine files picked before, one per line
    beginner_started: str | None = None  # ISO date of the first beginner run
    cues: str | None = None
    band: str | None = None  # "low,high,hysteresis" in newtons, from `sensor calibrate`
    pacing: str | None = None  # "on" / "off": pacing words in long presses
    volume: str | None = None  # "0".."100"
    voice: str | None = None  # the speech engine's voice name
    sensor: str | None = None  # Home's sensor: none, auto, sim, a port or URL (`--sensor`)
    # What `load` ignored, in words for the user; never saved.
    problems: list[str] = field(default_factory=list, repr=False, compare=False)

    def pressure_band(self) -> Band:
        """The calibrated target band, or the default one (which says it is uncalibrated)."""
        if self.band:
            try:
                low, high, hyst = (float(x) for x in self.band.split(","))
                return Band(low=low, high=high, hysteresis=hyst, calibrated=True)
            except ValueError:
                pass
        return DEFAULT_BAND

    @classmethod
    def load(cls) -> Settings:
        """Unreadable or damaged settings fall back to defaults, field by field: they are
        only preferences. What was ignored, and why, is in `problems` (the next save
        writes the file back without it, so it is said once)."""
        path = settings_path()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, RecursionError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "it is not valid JSON"
            s = cls()
            s.problems.append(f"Settings in {path} could not be read ({why}); using defaults.")
            return s
        if not isinstance(raw, dict):
            s = cls()
            s.problems.append(f"Settings in {path} are not a JSON object; using defaults.")
            return s
        clean: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            if f.name not in raw or f.name == "problems":
                continue  # unknown keys (a newer hiphook's) are left alone
            value = raw[f.name]
            why = _field_problem(f.name, value)
            if why is None:
                clean[f.name] = value
            else:
                problems.append(f"Setting {f.name!r} in {path} ignored: {why}; using the default.")
        s = cls(**clean)
        s.problems = problems
        return s

    def save(self) -> str | None:
        """Write atomically; returns a message instead of raising when it cannot."""
        path = settings_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            data = asdict(self)
            data.pop("problems", None)
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            return f"could not save settings to {path}: {exc.strerror or exc}"
        return None


CUE_MODES = ("auto", "none", "bell", "tone", "voice")


def _field_problem(name: str, value: object) -> str | None:
    """Why a stored value cannot be used (None: it can), in words for the user."""
    if value is None:
        return "it cannot be empty" if name == "routine" else None
    if not isinstance(value, str):
        return f"it must be text, not {type(value).__name__}"
    lines_ok = name == "recent_routines"  # one path per line
    limit = 64_000 if lines_ok else 4096
    if len(value) > limit or any(ord(c) < 32 and not (lines_ok and c == "\n") for c in value):
        return "it is too long or holds control characters"
    if name == "side" and value not in ("left", "right"):
        return f"{value!r} is not left or right"
    if name == "routine" and not value.strip():
        return "it is empty"
    if name == "cues" and value not in CUE_MODES:
        return f"{value!r} is not one of {', '.join(CUE_MODES)}"
    if name == "pacing" and value not in ("on", "off"):
        return f"{value!r} is not on or off"
    if name == "volume" and not (value.isdigit() and 0 <= int(value) <= 100):
        return f"{value!r} is not a whole number from 0 to 100"
    if name == "beginner_started":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a date (YYYY-MM-DD)"
    if name == "band":
        try:
            low, high, hyst = (float(x) for x in value.split(","))
        except ValueError:
            return f"{value!r} is not three numbers (low,high,hysteresis in newtons)"
        if not all(math.isfinite(x) and x >= 0 for x in (low, high, hyst)) or low >= high:
            return f"{value!r} is not a band (0 <= low < high, hysteresis >= 0)"
    return None

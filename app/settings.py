"""Small remembered choices (tight side, routine, beginner start) in a JSON file.

Kept apart from the session log so the first screen can read them without loading the
database layer. `HIPHOOK_CONFIG` points elsewhere (tests, a second user).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from app.core.pressure import DEFAULT_BAND, Band


def settings_path() -> Path:
    env = os.environ.get("HIPHOOK_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

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
        """Unreadable or damaged settings fall back to defaults: they are only preferences."""
        try:
            raw = json.loads(settings_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {
            k: v for k, v in raw.items() if k in known and (v is None or isinstance(v, str))
        }
        s = cls(**clean)
        if s.side not in (None, "left", "right"):
            s.side = None
        return s

    def save(self) -> str | None:
        """Write atomically; returns a message instead of raising when it cannot."""
        path = settings_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            return f"could not save settings to {path}: {exc.strerror or exc}"
        return None

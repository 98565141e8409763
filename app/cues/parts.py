"""What the cue player needs of its parts, and what it reports to the faces.

The protocols are the sound bank's and the stream's (app/cues/render.py,
app/cues/stream.py) as the player uses them, so tests can stand in at that boundary;
`CueRecord` is one sound handed to the stream, which the plain face prints as a line;
`CueFallback` is what the player says when a part fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.cues import Cue


class SoundBank(Protocol):
    """What the player needs of app.cues.render.SoundBank."""

    def prepare(self, cues: Iterable[Cue], say: Callable[[str], None] | None = None) -> None: ...
    def sound(self, cue: Cue) -> Any: ...
    def duration(self, cue: Cue) -> float: ...


class Stream(Protocol):
    """What the player needs of app.cues.stream.AudioStream."""

    latency_s: float

    def play_at(self, sound: Any, at: float) -> int: ...
    def cancel_from(self, at: float) -> int: ...
    def drain(self, timeout: float = 3.0) -> bool: ...
    def close(self, fade_s: float = 0.03) -> None: ...


OpenStream = Callable[[Callable[[str], None]], Stream]


@dataclass(frozen=True)
class CueRecord:
    """One sound handed to the stream (or taken back): for the plain face's "cue" line.

    `planned_t` is the moment it belongs to (its boundary, or when the coach spoke),
    `start_t` where the plan put it, `t` when it was scheduled, all in run seconds.
    """

    text: str
    tone: str
    planned_t: float
    start_t: float
    t: float
    role: str
    cancelled: bool = False

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "event": "cue",
            "text": self.text,
            "tone": self.tone,
            "planned_t": round(self.planned_t, 4),
            "start_t": round(self.start_t, 4),
            "t": round(self.t, 4),
            "role": self.role,
        }
        if self.cancelled:
            out["cancelled"] = True
        return out


# The player of the sounds a sound bank renders: the one output stream.
STREAM = "the sound stream"


def tones_through(player: str) -> str:
    """What plays when words cannot, naming the player: one wording for every fallback
    ("tones through aplay", "tones through the sound stream"), whoever says it."""
    return f"tones through {player}"


class CueFallback(str):
    """A cue part that failed (or is missing), said once: the sentence a face shows, and
    for a program (`hiphook run --json`) the part and what plays from now on.

    It is a `str`, so every `note` (the status line, stderr, a test's list) takes it as
    the sentence it is, unchanged; only a face that prints JSON asks for `to_dict()`.
    """

    part: str
    now: str

    def __new__(cls, text: str, *, part: str, now: str) -> CueFallback:
        said = super().__new__(cls, text)
        said.part = part  # what failed: "sound stream", "paplay", "espeak-ng", "speech engine"
        said.now = now  # what plays from now on: "tones through aplay", "the terminal bell"
        return said

    def to_dict(self) -> dict[str, object]:
        """The `note` line `--json` prints (docs/architecture.md, Events)."""
        return {
            "event": "note",
            "kind": "cue_fallback",
            "part": self.part,
            "now": self.now,
            "text": str(self),
        }

"""Short generated tones, written as WAV with the standard library only.

Each kind of cue has its own pattern (pitch and rhythm), so the tones can be told apart
by ear without words: effort rises, release falls, counts are short clicks.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from pathlib import Path

from app.core.cues import Cue, Tone

RATE = 22050
AMPLITUDE = 0.45  # of full scale: clearly audible, never clipping
_FADE_S = 0.008  # fade in and out so notes do not click

# (frequency Hz or 0 for silence, seconds) per note.
PATTERNS: dict[Tone, tuple[tuple[float, float], ...]] = {
    Tone.START: ((660, 0.12), (0, 0.04), (880, 0.18)),
    Tone.END: ((880, 0.12), (0, 0.04), (660, 0.18)),
    Tone.COUNT: ((1000, 0.09),),
    Tone.PUSH: ((990, 0.25),),
    Tone.RELAX: ((440, 0.25),),
    Tone.UP: ((523, 0.1), (784, 0.15)),
    Tone.DOWN: ((784, 0.1), (523, 0.15)),
    Tone.PAUSE: ((587, 0.2),),
    Tone.RESUME: ((587, 0.08), (0, 0.05), (587, 0.08)),
    Tone.FINISH: ((523, 0.14), (659, 0.14), (784, 0.14), (1047, 0.3)),
    Tone.STOP: ((392, 0.3),),
    # Pressure: a slip is three low pips (hard to miss), back in the band a rising pair,
    # too hard a high pair, the verdict a short chime, a lost sensor a long low note.
    Tone.SLIP: ((330, 0.1), (0, 0.05), (330, 0.1), (0, 0.05), (330, 0.1)),
    Tone.HELD: ((660, 0.1), (990, 0.15)),
    Tone.EASE: ((1175, 0.08), (0, 0.05), (1175, 0.08)),
    Tone.VERDICT: ((784, 0.12), (988, 0.12), (784, 0.2)),
    Tone.SENSOR: ((294, 0.45),),
    Tone.PACE: ((587, 0.1), (0, 0.05), (880, 0.1)),  # pacing in a long press: a soft pair
}


def tone_samples(tone: Tone, rate: int = RATE) -> array[int]:
    """Signed 16-bit mono samples of one tone pattern."""
    out = array("h")
    peak = AMPLITUDE * 32767
    fade = max(1, int(_FADE_S * rate))
    for freq, secs in PATTERNS[tone]:
        n = int(secs * rate)
        for i in range(n):
            if freq <= 0:
                out.append(0)
                continue
            env = min(1.0, i / fade, (n - 1 - i) / fade)
            out.append(int(peak * env * math.sin(2 * math.pi * freq * i / rate)))
    return out


def render_tone_wav(cue: Cue | Tone, path: str | Path, rate: int = RATE) -> Path:
    """Write the cue's tone to `path` as a mono 16-bit WAV; returns the path."""
    tone = cue.tone if isinstance(cue, Cue) else cue
    samples = tone_samples(tone, rate)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path

"""Audible cues, so the routine can be followed with eyes closed.

`cue_for(event, routine)` says what each engine event should sound like and
`app.core.cueplan` when each sound starts (both pure, in the core); `attach_cues(runner,
mode)` plays the plan through one audio stream, or the best subprocess backend left.
"""

from app.core.cues import Cue, Tone, cue_for, cue_for_coach
from app.cues.players import (
    MODES,
    BellBackend,
    CuePlayer,
    CueRecord,
    ToneBackend,
    VoiceBackend,
    attach_cues,
    build_chain,
)
from app.cues.tones import render_tone_wav

__all__ = [
    "MODES",
    "BellBackend",
    "Cue",
    "CuePlayer",
    "CueRecord",
    "Tone",
    "ToneBackend",
    "VoiceBackend",
    "attach_cues",
    "build_chain",
    "cue_for",
    "cue_for_coach",
    "render_tone_wav",
]

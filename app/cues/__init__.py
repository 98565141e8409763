"""Audible cues, so the routine can be followed with eyes closed.

`cue_for(event, routine)` says what each engine event should sound like (pure);
`attach_cues(runner, mode)` plays them through the best available backend.
"""

from app.core.cues import Cue, Tone, cue_for, cue_for_coach
from app.cues.players import (
    MODES,
    BellBackend,
    CuePlayer,
    ToneBackend,
    VoiceBackend,
    attach_cues,
    build_chain,
)
from app.cues.tones import render_tone_wav

__all__ = [
    "MODES", "BellBackend", "Cue", "CuePlayer", "Tone", "ToneBackend", "VoiceBackend",
    "attach_cues", "build_chain", "cue_for", "cue_for_coach", "render_tone_wav",
]

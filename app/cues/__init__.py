"""Audible cues, so the routine can be followed with eyes closed.

`cue_for(event, routine)` says what each engine event should sound like and
`app.core.cueplan` when each sound starts (both pure, in the core); `attach_cues(runner,
mode)` plays the plan through one audio stream, or the best subprocess backend left.

The modules, one job each: `attach` (what a mode gets, subscribed to a run), `players`
(the CuePlayer: the plan onto the stream, handing over to the chain), `chain` (the
fallback chain's queue and hand-overs, told once per part), `backends` (the subprocess
players and the bell), `parts` (what the player needs of the bank and the stream, and
its `CueRecord`), `render` (sounds made before the run), `stream` (the one output
stream), `tones` (the tone patterns).
"""

from app.core.cues import Cue, Tone, cue_for, cue_for_coach
from app.cues.attach import attach_cues
from app.cues.backends import BellBackend, Players, ToneBackend, VoiceBackend
from app.cues.chain import MODES, build_chain
from app.cues.players import CuePlayer, CueRecord
from app.cues.tones import render_tone_wav

__all__ = [
    "MODES",
    "BellBackend",
    "Cue",
    "CuePlayer",
    "CueRecord",
    "Players",
    "Tone",
    "ToneBackend",
    "VoiceBackend",
    "attach_cues",
    "build_chain",
    "cue_for",
    "cue_for_coach",
    "render_tone_wav",
]

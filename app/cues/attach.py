"""What a face calls: the cue player for a mode, with its parts, subscribed to a run.

One place decides what a mode gets: the fallback chain (app/cues/chain.py) always, and
for the modes that make sound, a sound bank (app/cues/render.py) and the one output
stream (app/cues/stream.py) the player tries first.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.cues.backends import ENGINES, RunCommand, Which, run_command
from app.cues.chain import Note, build_chain
from app.cues.parts import (
    STREAM,
    CueFallback,
    CueRecord,
    OpenStream,
    SoundBank,
    Stream,
    tones_through,
)
from app.cues.players import CuePlayer
from app.cues.render import SoundBank as Bank
from app.cues.stream import AudioStream

if TYPE_CHECKING:
    from app.runner import SessionRunner


def _stream_parts(
    mode: str, voice_found: bool, *, volume: float, voice: str | None, cache_dir: Path | None
) -> tuple[SoundBank, OpenStream] | None:
    """The sound bank and a stream opener for a mode, or None where there is none yet."""
    if mode in ("none", "bell"):
        return None
    kind = "voice" if mode in ("voice", "auto") and voice_found else "tone"
    bank = Bank(kind, voice=voice, volume=volume, cache_dir=cache_dir)

    def open_stream(on_error: Callable[[str], None]) -> Stream:
        opened: Stream = AudioStream.open(on_error=on_error)
        return opened

    return bank, open_stream


def attach_cues(
    runner: SessionRunner,
    mode: str | None,
    *,
    ring: Callable[[], None] | None = None,
    note: Note | None = None,
    which: Which = shutil.which,
    run: RunCommand = run_command,
    pacing: bool = True,
    volume: float = 1.0,
    voice: str | None = None,
    on_cue: Callable[[CueRecord], None] | None = None,
    stream: bool = True,
    cache_dir: Path | None = None,
) -> CuePlayer:
    """Build the player for `mode` (None means auto), subscribe it, return it.

    Where to attach: any face (TUI, plain) calls this once per run, before `runner.run()`,
    then (off the loop) `player.wait_ready()` so every sound is rendered before the first
    cue; `player.close()` at the end. `pacing`, `volume` and `voice` are the settings;
    `on_cue` hears every sound scheduled (on the planner's thread: hop to your loop).
    `stream=False` keeps to the subprocess chain.
    """
    mode = mode or "auto"
    chain, notes = build_chain(mode, ring=ring, which=which, run=run)
    parts = None
    if stream:
        voice_found = any(which(p) for p in ENGINES)
        parts = _stream_parts(mode, voice_found, volume=volume, voice=voice, cache_dir=cache_dir)
    if parts is None:
        player = CuePlayer(runner.routine, chain, note=note, chain_notes=notes)
    else:
        bank, opener = parts
        # Said now, while the stream is to play: the tones that replace the words play
        # through it (if it fails, the player says what plays then).
        now_notes = [
            CueFallback(n, part=n.part, now=tones_through(STREAM))
            if isinstance(n, CueFallback)
            else n
            for n in notes
            if "no speech engine" in n
        ]
        player = CuePlayer(
            runner.routine,
            chain,
            note=note,
            engine=runner.engine,
            bank=bank,
            open_stream=opener,
            pacing=pacing,
            on_cue=on_cue,
            chain_notes=[n for n in notes if "no speech engine" not in n],
        )
        for text in now_notes:
            player.say(text)
    runner.subscribe(player)
    return player

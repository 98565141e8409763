"""The subprocess players of the fallback chain: a sound player program, a speech engine,
the terminal bell.

Used only when the one output stream (app/cues/stream.py) cannot play. Each backend
plays one cue and raises `BackendError` naming the part that failed (the speech engine,
or the last sound player left), so the chain (app/cues/chain.py) can say which part it
gave up and which took over. The sound players are tried in order (paplay, then aplay,
which reaches the same server through ALSA's pulse plugin, then afplay): one that is
missing is never tried, one that fails is dropped for the rest of the run, said once,
and the same file is played by the next one at once, so the cue is not lost.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from app.core.cues import Cue, Tone
from app.cues.parts import tones_through
from app.cues.tones import render_tone_wav

Which = Callable[[str], str | None]
RunCommand = Callable[[list[str]], None]
# (what failed, why, what plays from now on or None): told by the chain, once per part
OnPlayerFailed = Callable[[str, str, str | None], None]

_PLAY_TIMEOUT_S = 10.0
PLAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("paplay", ()),
    ("aplay", ("-q",)),
    ("afplay", ()),
)
ENGINES = ("espeak-ng", "espeak", "say")


def run_command(cmd: list[str]) -> None:
    """Run a player to completion; raises on a missing program, a failure or a hang.

    espeak-ng exits 0 even when it finds no sound device, printing "error: ..." instead,
    so an error line on stderr counts as a failure too.
    """
    done = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=_PLAY_TIMEOUT_S,
        check=False,
    )
    err = done.stderr.decode("utf-8", "replace")
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    bad = [ln for ln in lines if ln.lower().startswith("error")]
    if done.returncode != 0 or bad:
        why = bad[0] if bad else (lines[-1] if lines else f"exit status {done.returncode}")
        raise OSError(f"{Path(cmd[0]).name}: {why}")


def reason(exc: BaseException, limit: int = 100) -> str:
    """An exception's first line, short enough for a status line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:limit]


class BackendError(OSError):
    """A backend could not play; `part` names what failed (espeak-ng, aplay...)."""

    def __init__(self, part: str, why: str) -> None:
        super().__init__(why)
        self.part = part
        self.why = why


class Backend(Protocol):
    name: str
    inline: bool  # True: cheap enough to play on the caller's thread (the bell)

    def play(self, cue: Cue) -> None: ...
    def usable(self) -> bool: ...
    def describe(self) -> str: ...


def _stderr_bell() -> None:
    try:
        sys.stderr.write("\a")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class BellBackend:
    """The terminal bell: always there, one sound, so it rings only for the key cues."""

    name = "bell"
    inline = True

    def __init__(self, ring: Callable[[], None] | None = None) -> None:
        self.ring = ring or _stderr_bell

    def play(self, cue: Cue) -> None:
        if cue.ring:
            self.ring()

    def usable(self) -> bool:
        return True

    def describe(self) -> str:
        return "the terminal bell"


class Players:
    """The sound player programs found, in the order they are tried; shared by the
    spoken and the tone backend, so a player that failed for one is not tried by the
    other. `on_failed` hears each one dropped (from the worker thread)."""

    def __init__(self, commands: list[list[str]], run: RunCommand = run_command) -> None:
        self.commands = [list(c) for c in commands]
        self.run = run
        self.on_failed: OnPlayerFailed | None = None
        self._lock = threading.Lock()

    @classmethod
    def find(cls, which: Which = shutil.which, run: RunCommand = run_command) -> Players:
        found = [[exe, *flags] for program, flags in PLAYERS if (exe := which(program))]
        return cls(found, run)

    @property
    def current(self) -> str | None:
        """The program that plays now (its name), or None when none is left."""
        with self._lock:
            return Path(self.commands[0][0]).name if self.commands else None

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self.commands)

    def play(self, path: Path) -> None:
        """Play a file with the first player that works; raises BackendError naming the
        last one when none does."""
        while True:
            with self._lock:
                if not self.commands:
                    raise BackendError("sound player", "no sound player left")
                cmd = self.commands[0]
            try:
                self.run([*cmd, str(path)])
                return
            except Exception as exc:  # noqa: BLE001 - any failure: the next player tries
                name = Path(cmd[0]).name
                with self._lock:
                    if self.commands and self.commands[0] is cmd:
                        self.commands.pop(0)
                    nxt = Path(self.commands[0][0]).name if self.commands else None
                if nxt is None:
                    raise BackendError(name, reason(exc)) from exc
                if self.on_failed is not None:
                    self.on_failed(name, reason(exc), nxt)


class _Files:
    """Rendered WAV files of one run in a temporary folder, each made once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._dir: Path | None = None
        self.files: dict[str, Path] = {}

    def path(self, key: str, make: Callable[[Path], Path]) -> Path:
        found = self.files.get(key)
        if found is None:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix=self.prefix))
            found = make(self._dir / f"{len(self.files)}.wav")
            self.files[key] = found
        return found

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self.files.clear()


class ToneBackend:
    """Generated WAV tones played through the system's sound players."""

    name = "tone"
    inline = False

    def __init__(self, players: Players | list[str], run: RunCommand = run_command) -> None:
        self.players = players if isinstance(players, Players) else Players([players], run)
        self._files = _Files("hiphook-tones-")

    @classmethod
    def find(cls, which: Which = shutil.which, run: RunCommand = run_command) -> ToneBackend | None:
        players = Players.find(which, run)
        return cls(players) if players else None

    def render_wav(self, cue: Cue, path: str | Path) -> Path:
        return render_tone_wav(cue, path)

    def _file(self, tone: Tone) -> Path:
        """Each tone is rendered once per run, then reused."""
        return self._files.path(tone.value, lambda p: render_tone_wav(tone, p))

    def play(self, cue: Cue) -> None:
        self.players.play(self._file(cue.tone))

    def usable(self) -> bool:
        return bool(self.players)

    def describe(self) -> str:
        return tones_through(self.players.current or "no player")

    def close(self) -> None:
        self._files.close()


class VoiceBackend:
    """Spoken words through espeak-ng, espeak or macOS `say`.

    With a sound player present, words are rendered to WAV and played by it, because the
    player's exit status is reliable; otherwise the engine speaks by itself.
    """

    name = "voice"
    inline = False
    ENGINES = ENGINES
    WORDS_PER_MINUTE = 165

    def __init__(
        self, exe: str, run: RunCommand = run_command, player: Players | list[str] | None = None
    ) -> None:
        self.exe = exe
        self.engine = Path(exe).name
        self.run = run
        if isinstance(player, list):
            player = Players([player], run)
        self.players = player
        self.is_say = self.engine == "say"
        self._files = _Files("hiphook-voice-")

    @classmethod
    def find(
        cls,
        which: Which = shutil.which,
        run: RunCommand = run_command,
        player: Players | list[str] | None = None,
    ) -> VoiceBackend | None:
        for program in cls.ENGINES:
            exe = which(program)
            if exe:
                return cls(exe, run, player)
        return None

    def _base(self) -> list[str]:
        if self.is_say:
            return [self.exe, "-r", str(self.WORDS_PER_MINUTE)]
        return [self.exe, "-s", str(self.WORDS_PER_MINUTE)]

    def render_wav(self, cue: Cue, path: str | Path) -> Path:
        """Speak into a WAV file instead of the speakers (playing, tests, checking a voice)."""
        path = Path(path)
        if self.is_say:
            cmd = [
                *self._base(),
                "-o",
                str(path),
                "--file-format=WAVE",
                "--data-format=LEI16@22050",
                cue.text,
            ]
        else:
            cmd = [*self._base(), "-w", str(path), cue.text]
        self.run(cmd)
        return path

    def play(self, cue: Cue) -> None:
        if self.players is None:
            try:
                self.run([*self._base(), cue.text])
            except Exception as exc:  # noqa: BLE001 - the engine is what failed
                raise BackendError(self.engine, reason(exc)) from exc
            return
        try:  # a routine has few distinct phrases: each is rendered once
            path = self._files.path(cue.text, lambda p: self.render_wav(cue, p))
        except Exception as exc:  # noqa: BLE001 - the engine is what failed
            raise BackendError(self.engine, reason(exc)) from exc
        self.players.play(path)

    def usable(self) -> bool:
        return self.players is None or bool(self.players)

    def describe(self) -> str:
        if self.players is None:
            return f"spoken cues ({self.engine})"
        return f"spoken cues through {self.players.current}"

    def close(self) -> None:
        self._files.close()

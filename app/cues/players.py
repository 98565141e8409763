"""Cue players: the terminal bell, generated tones, and a speech engine.

A `CuePlayer` listens to the session runner. It must never slow the engine or crash a run,
so sounds are played by one worker thread from a small queue that drops cues gone stale
(a "push" heard a second late names the wrong moment), and a backend that fails hands over
to the next one in its chain, saying so once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.core.coach import CoachEvent
from app.core.cues import Cue, Tone, cue_for, cue_for_coach
from app.core.engine import Event
from app.core.routine import Routine
from app.cues.tones import render_tone_wav

if TYPE_CHECKING:
    from app.runner import SessionRunner

MODES = ("auto", "none", "bell", "tone", "voice")
Which = Callable[[str], str | None]
RunCommand = Callable[[list[str]], None]
Note = Callable[[str], None]

_PLAY_TIMEOUT_S = 10.0
_WORDS = {"voice": "spoken cues", "tone": "tones", "bell": "the terminal bell",
          "none": "no sound"}


def run_command(cmd: list[str]) -> None:
    """Run a player to completion; raises on a missing program, a failure or a hang.

    espeak-ng exits 0 even when it finds no sound device, printing "error: ..." instead,
    so an error line on stderr counts as a failure too.
    """
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=_PLAY_TIMEOUT_S, check=False)
    err = done.stderr.decode("utf-8", "replace")
    bad = [ln for ln in err.splitlines() if ln.lower().startswith("error")]
    if done.returncode != 0 or bad:
        why = bad[0] if bad else f"exit status {done.returncode}"
        raise OSError(f"{Path(cmd[0]).name}: {why}")


def _stderr_bell() -> None:
    try:
        sys.stderr.write("\a")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class Backend(Protocol):
    name: str
    inline: bool  # True: cheap enough to play on the caller's thread (the bell)

    def play(self, cue: Cue) -> None: ...


class BellBackend:
    """The terminal bell: always there, one sound, so it rings only for the key cues."""

    name = "bell"
    inline = True

    def __init__(self, ring: Callable[[], None] | None = None) -> None:
        self.ring = ring or _stderr_bell

    def play(self, cue: Cue) -> None:
        if cue.ring:
            self.ring()


class ToneBackend:
    """Generated WAV tones played through the system's sound player."""

    name = "tone"
    inline = False
    PLAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("paplay", ()), ("aplay", ("-q",)), ("afplay", ()),
    )

    def __init__(self, command: list[str], run: RunCommand = run_command) -> None:
        self.command = command
        self.run = run
        self._dir: Path | None = None
        self._files: dict[Tone, Path] = {}

    @classmethod
    def find(cls, which: Which = shutil.which, run: RunCommand = run_command) -> ToneBackend | None:
        for program, flags in cls.PLAYERS:
            exe = which(program)
            if exe:
                return cls([exe, *flags], run)
        return None

    def render_wav(self, cue: Cue, path: str | Path) -> Path:
        return render_tone_wav(cue, path)

    def _file(self, tone: Tone) -> Path:
        """Each tone is rendered once per run, then reused."""
        if tone not in self._files:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="hiphook-tones-"))
            self._files[tone] = render_tone_wav(tone, self._dir / f"{tone.value}.wav")
        return self._files[tone]

    def play(self, cue: Cue) -> None:
        self.run([*self.command, str(self._file(cue.tone))])

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._files.clear()


class VoiceBackend:
    """Spoken words through espeak-ng, espeak or macOS `say`.

    With a sound player present, words are rendered to WAV and played by it, because the
    player's exit status is reliable; otherwise the engine speaks by itself.
    """

    name = "voice"
    inline = False
    ENGINES = ("espeak-ng", "espeak", "say")
    WORDS_PER_MINUTE = 165

    def __init__(self, exe: str, run: RunCommand = run_command,
                 player: list[str] | None = None) -> None:
        self.exe = exe
        self.run = run
        self.player = player
        self.is_say = Path(exe).name == "say"
        self._dir: Path | None = None
        self._files: dict[str, Path] = {}

    @classmethod
    def find(cls, which: Which = shutil.which, run: RunCommand = run_command,
             player: list[str] | None = None) -> VoiceBackend | None:
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
            cmd = [*self._base(), "-o", str(path), "--file-format=WAVE",
                   "--data-format=LEI16@22050", cue.text]
        else:
            cmd = [*self._base(), "-w", str(path), cue.text]
        self.run(cmd)
        return path

    def play(self, cue: Cue) -> None:
        if self.player is None:
            self.run([*self._base(), cue.text])
            return
        path = self._files.get(cue.text)
        if path is None:  # a routine has few distinct phrases: render each once
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="hiphook-voice-"))
            path = self.render_wav(cue, self._dir / f"{len(self._files)}.wav")
            self._files[cue.text] = path
        self.run([*self.player, str(path)])

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._files.clear()


def build_chain(
    mode: str,
    *,
    ring: Callable[[], None] | None = None,
    which: Which = shutil.which,
    run: RunCommand = run_command,
) -> tuple[list[Backend], list[str]]:
    """The backends to try in order for a mode, and what to tell the user about it."""
    if mode not in MODES:
        raise ValueError(f"cues must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        return [], []
    bell = BellBackend(ring)
    if mode == "bell":
        return [bell], []
    chain: list[Backend] = []
    notes: list[str] = []
    tone = ToneBackend.find(which, run)
    player = tone.command if tone else None
    voice = VoiceBackend.find(which, run, player) if mode in ("voice", "auto") else None
    if voice:
        chain.append(voice)
    if tone:
        chain.append(tone)
    chain.append(bell)
    fallback = chain[0].name
    words = {"tone": "tones", "bell": "the terminal bell"}
    if mode == "voice" and voice is None:
        notes.append(f"Cues: no speech engine found (espeak-ng, espeak or say); "
                     f"using {words[fallback]} instead.")
    elif mode == "tone" and tone is None:
        notes.append("Cues: no sound player found (paplay, aplay or afplay); "
                     "using the terminal bell instead.")
    elif mode == "auto" and fallback == "bell":
        notes.append("Cues: no speech engine or sound player found; using the terminal bell.")
    return chain, notes


class CuePlayer:
    """A runner listener that turns events into cues and plays them off the event loop."""

    def __init__(
        self,
        routine: Routine,
        chain: list[Backend],
        *,
        note: Note | None = None,
        max_queue: int = 4,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.routine = routine
        self.chain = list(chain)
        self.note = note or (lambda text: print(f"hiphook: {text}", file=sys.stderr))
        self.notes: list[str] = []
        self.played: list[tuple[str, Cue]] = []  # (backend, cue), for tests and the benchmark
        self.dropped = 0
        self._now = now
        self._queue: deque[tuple[float, Cue]] = deque()
        self._max_queue = max_queue
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._busy = False

    @property
    def backend_name(self) -> str:
        return self.chain[0].name if self.chain else "none"

    def say(self, text: str) -> None:
        """Tell the user something once (a fallback); never raises."""
        if text in self.notes:
            return
        self.notes.append(text)
        try:
            self.note(text)
        except Exception:  # noqa: BLE001 - a note must not break the run
            pass

    # -------------------------------------------------------------- listener side
    def __call__(self, event: Event) -> None:
        cue = cue_for(event, self.routine)
        if cue is not None:
            self.submit(cue)

    def coach_cue(self, event: CoachEvent) -> None:
        """A pressure-coach listener (append it to `SensorAttachment.listeners`)."""
        cue = cue_for_coach(event)
        if cue is not None:
            self.submit(cue)

    def submit(self, cue: Cue) -> None:
        """Play an inline backend now; queue anything slower for the worker thread."""
        with self._cv:
            if self._closed or not self.chain:
                return
            backend = self.chain[0]
            if not backend.inline:
                if len(self._queue) >= self._max_queue:
                    self._queue.popleft()
                    self.dropped += 1
                self._queue.append((self._now(), cue))
                self._ensure_thread()
                self._cv.notify()
                return
        self._play(backend, cue)

    # -------------------------------------------------------------- playing
    def _play(self, backend: Backend, cue: Cue) -> None:
        try:
            backend.play(cue)
        except Exception as exc:  # noqa: BLE001 - any failure means: use the next backend
            self._fall_back(backend, exc)
            with self._cv:
                nxt = self.chain[0] if self.chain else None
            if nxt is not None and nxt.inline:
                self._play(nxt, cue)
            return
        self.played.append((backend.name, cue))

    def _fall_back(self, failed: Backend, exc: Exception) -> None:
        with self._cv:
            if self.chain and self.chain[0] is failed:
                self.chain.pop(0)
            nxt = self.chain[0].name if self.chain else "none"
        reason = type(exc).__name__ if not str(exc) else str(exc).splitlines()[0][:80]
        self.say(f"Cues: {_WORDS[failed.name]} did not work ({reason}); "
                 f"{_WORDS[nxt]} from now on.")

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="hiphook-cues", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                queued_at, cue = self._queue.popleft()
                backend = self.chain[0] if self.chain else None
                stale = self._now() - queued_at > cue.stale_after
                if stale:
                    self.dropped += 1
                self._busy = backend is not None and not stale
            if not self._busy or backend is None:
                continue
            try:
                self._play(backend, cue)
            finally:
                with self._cv:
                    self._busy = False

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until the queue is empty (tests and the benchmark)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._cv:
                if not self._queue and not self._busy:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        """Stop the worker; a cue being played finishes, queued ones are dropped."""
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify_all()
        for backend in self.chain:
            closer = getattr(backend, "close", None)
            if closer is not None:
                closer()


def attach_cues(
    runner: SessionRunner,
    mode: str | None,
    *,
    ring: Callable[[], None] | None = None,
    note: Note | None = None,
    which: Which = shutil.which,
    run: RunCommand = run_command,
) -> CuePlayer:
    """Build the chain for `mode` (None means auto), subscribe to the runner, return the player.

    Where to attach: any face (TUI, plain) calls this once per run, before `runner.run()`.
    """
    chain, notes = build_chain(mode or "auto", ring=ring, which=which, run=run)
    player = CuePlayer(runner.routine, chain, note=note)
    for text in notes:
        player.say(text)
    runner.subscribe(player)
    return player

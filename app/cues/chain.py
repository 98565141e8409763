"""The fallback chain: which subprocess backends a mode gets, and how they hand over.

When the one output stream cannot play, cues go here. One worker thread plays them from
a small queue that drops cues gone stale (a "push" heard a second late names the wrong
moment), so the caller (the runner's loop, the planner's thread) never waits for a
process. A backend that fails is dropped for the rest of the run, and the cue it failed
on is played by the next one at once; the user is told once per part that failed (the
speech engine, each sound player) and which one plays from now on. The terminal bell is
last: it is always there.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from app.core.cues import Cue
from app.cues.backends import (
    Backend,
    BackendError,
    BellBackend,
    Players,
    RunCommand,
    ToneBackend,
    VoiceBackend,
    Which,
    reason,
    run_command,
)
from app.cues.parts import CueFallback

MODES = ("auto", "none", "bell", "tone", "voice")
Note = Callable[[str], None]

_WORDS = {"voice": "spoken cues", "tone": "tones", "bell": "the terminal bell"}


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
    players = Players.find(which, run)
    tone = ToneBackend(players) if players else None
    voice = (
        VoiceBackend.find(which, run, players if players else None)
        if mode in ("voice", "auto")
        else None
    )
    if voice:
        chain.append(voice)
    if tone:
        chain.append(tone)
    chain.append(bell)
    now = chain[0].describe()
    words = {"tone": "tones", "bell": "the terminal bell"}
    if mode == "voice" and voice is None:
        notes.append(
            CueFallback(
                f"Cues: no speech engine found (espeak-ng, espeak or say); "
                f"using {words[chain[0].name]} instead.",
                part="speech engine",
                now=now,
            )
        )
    elif mode == "tone" and tone is None:
        notes.append(
            CueFallback(
                "Cues: no sound player found (paplay, aplay or afplay); "
                "using the terminal bell instead.",
                part="sound player",
                now=now,
            )
        )
    elif mode == "auto" and chain[0].name == "bell":
        notes.append(
            CueFallback(
                "Cues: no speech engine or sound player found; using the terminal bell.",
                part="speech engine and sound player",
                now=now,
            )
        )
    return chain, notes


def _without_name(part: str, why: str) -> str:
    """ "aplay: audio open error" reads as "audio open error" after "aplay did not work"."""
    return why[len(part) + 2 :] if why.startswith(f"{part}: ") else why


class Chain:
    """Plays each cue with the first backend that works, off the caller's thread."""

    def __init__(
        self,
        backends: Iterable[Backend],
        say: Note,
        *,
        max_queue: int = 4,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backends = list(backends)
        self._all = list(self.backends)  # closed at the end, dropped ones too
        self.say = say
        self.played: list[tuple[str, Cue]] = []  # (backend, cue), for tests and the benchmark
        self.dropped = 0
        self._told: set[str] = set()
        self._now = now
        self._queue: deque[tuple[float, Cue]] = deque()
        self._max_queue = max_queue
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._busy = False
        for backend in self.backends:
            players = getattr(backend, "players", None)
            if isinstance(players, Players):
                players.on_failed = self._player_failed

    @property
    def name(self) -> str:
        """The backend that plays now ("none" when none is left)."""
        with self._cv:
            return self.backends[0].name if self.backends else "none"

    def describe(self) -> str:
        """What plays from now on, in words ("tones through aplay")."""
        with self._cv:
            return self.backends[0].describe() if self.backends else "no sound"

    def _tell(self, part: str, text: CueFallback) -> None:
        """Once per part that failed, whatever the reason this time."""
        with self._cv:
            if part in self._told:
                return
            self._told.add(part)
        self.say(text)

    # ------------------------------------------------------------------ playing
    def submit(self, cue: Cue) -> None:
        """Play an inline backend now; queue anything slower for the worker thread."""
        with self._cv:
            if self._closed or not self.backends:
                return
            backend = self.backends[0]
            if not backend.inline:
                if len(self._queue) >= self._max_queue:
                    self._queue.popleft()
                    self.dropped += 1
                self._queue.append((self._now(), cue))
                self._ensure_thread()
                self._cv.notify_all()
                return
        self._play(backend, cue)

    def _play(self, backend: Backend, cue: Cue) -> None:
        """Play `cue`; on a failure the next backend plays it (the same moment)."""
        while True:
            try:
                backend.play(cue)
            except Exception as exc:  # noqa: BLE001 - any failure means: use the next backend
                nxt = self._fall_back(backend, exc)
                if nxt is None:
                    return
                backend = nxt
                continue
            self.played.append((backend.name, cue))
            return

    def _fall_back(self, failed: Backend, exc: Exception) -> Backend | None:
        """Drop `failed` (and those that cannot play without what failed), say so once."""
        with self._cv:
            if failed in self.backends:
                self.backends.remove(failed)
            while self.backends and not self.backends[0].usable():
                self.backends.pop(0)  # a tone with no player left: the same cause, said once
            nxt = self.backends[0] if self.backends else None
            then = nxt.describe() if nxt is not None else "no sound"
        if isinstance(exc, BackendError):
            part, why = exc.part, _without_name(exc.part, exc.why)
        else:
            part, why = _WORDS.get(failed.name, failed.name), reason(exc, 80)
        text = f"Cues: {part} did not work ({why}); {then} from now on."
        self._tell(part, CueFallback(text, part=part, now=then))
        return nxt

    def _player_failed(self, name: str, why: str, nxt: str | None) -> None:
        """A sound player failed and the next one plays (from `Players.play`)."""
        then = f"{nxt} plays the cues" if nxt else "no sound player is left"
        text = f"Cues: {name} did not work ({_without_name(name, why)}); {then} from now on."
        self._tell(name, CueFallback(text, part=name, now=self.describe()))

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="hiphook-cues", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if self._closed and not self._queue:
                    return
                queued_at, cue = self._queue.popleft()
                backend = self.backends[0] if self.backends else None
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
                    self._cv.notify_all()

    # ------------------------------------------------------------------ ending
    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is queued or being played."""
        end = time.monotonic() + timeout
        with self._cv:
            while self._queue or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def close(self) -> None:
        """Stop taking cues, drop what is queued, remove the rendered files."""
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify_all()
        for backend in self._all:
            closer = getattr(backend, "close", None)
            if closer is not None:
                closer()

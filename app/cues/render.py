"""Every cue's sound, rendered before the run and kept on disk.

A sound started by a new process per cue arrives when that process is ready, not when the
plan says; so each cue is rendered once to mono 16-bit PCM at the stream's rate, speech
with the engine's leading and trailing silence cut off (espeak-ng adds ~50 ms before and
~330 ms after every phrase), and cached in the platform's cache folder, keyed by what
decides its samples: text, voice, engine and engine version, rate and volume. A warm
start then only reads small files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import wave
from array import array
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.core.cues import Cue
from app.cues.parts import STREAM, CueFallback, tones_through
from app.cues.tones import PATTERNS, tone_samples

RATE = 22050  # espeak-ng's own rate: speech needs no resampling; the server mixes
ENGINES = ("espeak-ng", "espeak", "say")
WORDS_PER_MINUTE = 165
CACHE_FORMAT = 1  # bump when the trimming or the file layout changes
TRIM_THRESHOLD = 0.01  # of full scale: below this, espeak-ng's output is silence
TRIM_MARGIN_S = 0.004  # keep a little before the first and after the last loud sample
FADE_S = 0.004
_RENDER_TIMEOUT_S = 15.0

Say = Callable[[str], None]


@dataclass(frozen=True)
class Sound:
    """One rendered cue: mono signed 16-bit little-endian PCM."""

    key: str
    pcm: bytes
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.rate


class RenderError(Exception):
    """A phrase the speech engine would not render; str() says which and why."""


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("hiphook")) / "sounds"


def trim_silence(
    samples: array[int],
    rate: int,
    threshold: float = TRIM_THRESHOLD,
    margin_s: float = TRIM_MARGIN_S,
    fade_s: float = FADE_S,
) -> array[int]:
    """Cut silence at both ends (keeping a small margin) and fade the new edges in/out."""
    limit = int(threshold * 32767)
    first = next((i for i, v in enumerate(samples) if abs(v) > limit), None)
    if first is None:
        return array("h")
    last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > limit)
    margin = int(margin_s * rate)
    out = samples[max(0, first - margin) : min(len(samples), last + 1 + margin)]
    fade = min(int(fade_s * rate), len(out) // 2)
    for i in range(fade):
        k = i / fade
        out[i] = int(out[i] * k)
        out[-1 - i] = int(out[-1 - i] * k)
    return out


def resample(samples: array[int], src: int, dst: int) -> array[int]:
    """Linear interpolation: only for an engine that does not speak at the stream's rate."""
    if src == dst or not samples:
        return samples
    n = max(1, int(len(samples) * dst / src))
    step = src / dst
    last = len(samples) - 1
    out = array("h", bytes(2 * n))
    for j in range(n):
        x = j * step
        i = int(x)
        f = x - i
        a = samples[min(i, last)]
        b = samples[min(i + 1, last)]
        out[j] = int(a + (b - a) * f)
    return out


def scale(samples: array[int], volume: float) -> array[int]:
    if volume == 1.0:
        return samples
    return array("h", (max(-32768, min(32767, int(v * volume))) for v in samples))


def _pcm(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _samples(pcm: bytes) -> array[int]:
    out = array("h")
    out.frombytes(pcm)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def parse_wav(data: bytes) -> tuple[array[int], int]:
    """Samples and rate of a mono 16-bit WAV, also one streamed to stdout, whose header
    carries a placeholder length (espeak-ng --stdout)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RenderError("the speech engine did not write a WAV")
    pos = 12
    rate = channels = width = 0
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if cid == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
            width = bits // 8
        elif cid == b"data":
            pcm = data[body : body + min(size, len(data) - body)]
            if width != 2 or rate <= 0:
                raise RenderError(f"unexpected WAV format ({width * 8}-bit, {rate} Hz)")
            pcm = pcm[: len(pcm) - len(pcm) % (2 * channels)]
            samples = _samples(pcm)
            if channels > 1:
                samples = samples[::channels]
            return samples, rate
        pos = body + size + (size & 1)
    raise RenderError("the speech engine wrote a WAV without samples")


class Speaker:
    """One speech engine found on the system, and its version (part of the cache key)."""

    def __init__(self, exe: str, voice: str | None) -> None:
        self.exe = exe
        self.name = Path(exe).name
        self.voice = voice
        self.version = self._version()

    @classmethod
    def find(cls, voice: str | None) -> Speaker | None:
        for program in ENGINES:
            exe = shutil.which(program)
            if exe:
                return cls(exe, voice)
        return None

    def _version(self) -> str:
        if self.name == "say":
            return "say"
        try:
            done = subprocess.run(
                [self.exe, "--version"], capture_output=True, text=True, timeout=5, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return (done.stdout.strip().splitlines() or ["unknown"])[0][:120]

    def render(self, text: str) -> tuple[array[int], int]:
        """Speak `text` into samples (not the speakers); raises RenderError."""
        if self.name == "say":
            return self._render_say(text)
        cmd = [self.exe, "-s", str(WORDS_PER_MINUTE), "--stdout"]
        if self.voice:
            cmd += ["-v", self.voice]
        cmd += ["--", text]
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                timeout=_RENDER_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenderError(f"{self.name} failed: {exc}") from exc
        err = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode != 0 or not done.stdout:
            why = err.splitlines()[0] if err else f"exit status {done.returncode}"
            raise RenderError(f"{self.name}: {why}")
        return parse_wav(done.stdout)

    def _render_say(self, text: str) -> tuple[array[int], int]:
        with tempfile.TemporaryDirectory(prefix="hiphook-say-") as tmp:
            out = Path(tmp) / "say.wav"
            cmd = [
                self.exe,
                "-r",
                str(WORDS_PER_MINUTE),
                "-o",
                str(out),
                "--file-format=WAVE",
                f"--data-format=LEI16@{RATE}",
            ]
            if self.voice:
                cmd += ["-v", self.voice]
            try:
                done = subprocess.run(
                    [*cmd, text], capture_output=True, timeout=_RENDER_TIMEOUT_S, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise RenderError(f"say failed: {exc}") from exc
            if done.returncode != 0 or not out.exists():
                raise RenderError(f"say: exit status {done.returncode}")
            with wave.open(str(out), "rb") as w:
                return _samples(w.readframes(w.getnframes())), w.getframerate()


class SoundBank:
    """All sounds of a run, rendered ahead (in parallel) and cached on disk by content.

    mode "tone" gives each cue its tone pattern; "voice" speaks its text, falling back to
    the tone for a phrase the engine cannot say (and to tones for all when there is no
    engine), saying so once. A cache folder that cannot be written falls back to memory.
    """

    def __init__(
        self,
        mode: str,
        *,
        voice: str | None = None,
        volume: float = 1.0,
        cache_dir: Path | None = None,
        rate: int = RATE,
    ) -> None:
        if mode not in ("tone", "voice"):
            raise ValueError(f"sound mode must be 'tone' or 'voice', not {mode!r}")
        if not 0.0 <= volume <= 1.0:
            raise ValueError(f"volume must be between 0 and 1, not {volume}")
        self.mode = mode
        self.voice = voice
        self.volume = volume
        self.rate = rate
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.notes: list[str] = []
        self.rendered = 0  # sounds made this run (not read from the cache)
        self._say: Say | None = None
        self._sounds: dict[str, Sound] = {}
        self._lock = threading.Lock()
        self._disk_ok = True
        self._speaker: Speaker | None = None
        self._speaker_found = False
        self._failures: set[str] = set()

    # ------------------------------------------------------------------ public
    def prepare(self, cues: Iterable[Cue], say: Say | None = None) -> None:
        """Render every missing sound; warm starts read the cache. Call off the event loop."""
        if say is not None:
            self._say = say
        wanted: dict[str, Cue] = {}
        for cue in cues:
            wanted.setdefault(self._id(cue), cue)
        missing = [c for k, c in wanted.items() if k not in self._sounds]
        if not missing:
            return
        speaker = self._get_speaker() if self.mode == "voice" else None
        todo: list[Cue] = []
        for cue in missing:
            sound = self._from_disk(self._key(cue, speaker))
            if sound is not None:
                with self._lock:
                    self._sounds[self._id(cue)] = sound
            else:
                todo.append(cue)
        if not todo:
            return
        what = "spoken cues" if speaker is not None else "tones"
        self._tell(f"Preparing {len(todo)} {what} (once; they are kept for next time)…", once=False)
        workers = min(4, os.cpu_count() or 1, len(todo))
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hiphook-render") as ex:
                list(ex.map(self._render_and_keep, todo))
        else:
            for cue in todo:
                self._render_and_keep(cue)

    def sound(self, cue: Cue) -> Sound:
        """The cue's sound; rendered now if `prepare` did not see it (blocks: off the loop)."""
        found = self._sounds.get(self._id(cue))
        if found is not None:
            return found
        self.prepare([cue])
        return self._sounds[self._id(cue)]

    def duration(self, cue: Cue) -> float:
        return self.sound(cue).duration_s

    # ------------------------------------------------------------------ keys
    def _id(self, cue: Cue) -> str:
        """What makes two cues sound the same within this bank."""
        return f"voice:{cue.text}" if self.mode == "voice" else f"tone:{cue.tone.value}"

    def _key(self, cue: Cue, speaker: Speaker | None, as_tone: bool = False) -> str:
        if speaker is not None and not as_tone:
            parts: dict[str, object] = {
                "text": cue.text,
                "voice": self.voice or "",
                "engine": speaker.name,
                "version": speaker.version,
                "wpm": WORDS_PER_MINUTE,
            }
        else:
            parts = {"tone": cue.tone.value, "pattern": PATTERNS[cue.tone]}
        parts.update(rate=self.rate, volume=round(self.volume, 4), format=CACHE_FORMAT)
        blob = json.dumps(parts, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    # ------------------------------------------------------------------ rendering
    def _get_speaker(self) -> Speaker | None:
        if not self._speaker_found:
            self._speaker_found = True
            self._speaker = Speaker.find(self.voice)
            if self._speaker is None:
                text = (
                    "Cues: no speech engine found (espeak-ng, espeak or say); "
                    "tones instead of words."
                )
                now = tones_through(STREAM)  # this bank's sounds play through the stream
                self._tell(CueFallback(text, part="speech engine", now=now))
        return self._speaker

    def _render_and_keep(self, cue: Cue) -> None:
        speaker = self._speaker if self.mode == "voice" else None
        key = self._key(cue, speaker)
        samples: array[int] | None = None
        if speaker is not None:
            try:
                raw, rate = speaker.render(cue.text)
                samples = trim_silence(resample(raw, rate, self.rate), self.rate)
                if not samples:
                    raise RenderError(f"{speaker.name} produced only silence")
            except RenderError as exc:
                with self._lock:
                    new = str(exc) not in self._failures
                    self._failures.add(str(exc))
                if new:  # one word per reason, not one per phrase (a bad voice fails all)
                    text = f"Cues: could not speak {cue.text!r} ({exc}); a tone plays instead."
                    now = f"{tones_through(STREAM)} for what it cannot speak"
                    self._tell(CueFallback(text, part=speaker.name, now=now))
                key = self._key(cue, None, as_tone=True)
                samples = None
        if samples is None:
            samples = tone_samples(cue.tone, self.rate)
        sound = Sound(key=key, pcm=_pcm(scale(samples, self.volume)), rate=self.rate)
        with self._lock:
            self._sounds[self._id(cue)] = sound
            self.rendered += 1
        self._to_disk(sound)

    # ------------------------------------------------------------------ disk cache
    def _path(self, key: str) -> Path:
        return self.cache_dir / f"{key}.wav"

    def _from_disk(self, key: str) -> Sound | None:
        if not self._disk_ok:
            return None
        try:
            with wave.open(str(self._path(key)), "rb") as w:
                if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, self.rate):
                    return None
                pcm = w.readframes(w.getnframes())
        except (OSError, EOFError, wave.Error):
            return None  # missing or damaged: rendered again
        if not pcm:
            return None
        return Sound(key=key, pcm=pcm, rate=self.rate)

    def _to_disk(self, sound: Sound) -> None:
        if not self._disk_ok:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".tmp-", suffix=".wav")
            try:
                with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(sound.rate)
                    w.writeframes(sound.pcm)
                os.replace(tmp, self._path(sound.key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self._disk_ok = False
            self._tell(
                f"Cues: cannot write the sound cache in {self.cache_dir} "
                f"({exc.strerror or exc}); keeping sounds in memory for this run."
            )

    def _tell(self, text: str, once: bool = True) -> None:
        with self._lock:
            if once and text in self.notes:
                return
            self.notes.append(text)
            say = self._say
        if say is not None:
            try:
                say(text)
            except Exception:  # noqa: BLE001 - a note must not break the run
                pass

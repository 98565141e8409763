"""One persistent output stream that plays each sound at the sample its plan names.

The stream is opened once per run (sounddevice, i.e. PortAudio; docs/audio.md says why
not miniaudio). Its callback asks PortAudio when the first frame of each buffer will
reach the speaker (`outputBufferDacTime`), so a sound placed for monotonic time `at` is
written at the sample offset that makes it heard at `at`: the output latency is
compensated by the stream's own report, and no process start-up sits between the plan
and the ear. The callback never waits for anything but a short lock.

Problems never raise into the run: a stream that cannot open raises `AudioUnavailable`
(with what to do), and one that dies later (the sound server killed) is noticed by a
watchdog, told once through `on_error`, and refuses further sounds with the same
exception, so the caller can fall back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import sys
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.cues.render import RATE, Sound

# Asked of PortAudio. The onset does not depend on it (the callback compensates what the
# stream reports), so it buys headroom: at 30 ms a busy machine starved the callback into
# server-side underruns (sounds 60 ms late) and it ran 130 times a second (4% of a core);
# at 100 ms, 28 times (1%). Only a cue asked for "now" (the coach's) waits this long.
LATENCY_S = 0.1
# Frames per callback as seconds; 0 lets the host API choose. A fixed block made
# PortAudio's reported output time wrong by 15-30 ms through ALSA's pulse plugin.
BLOCK_S = 0.0
_START_TIMEOUT_S = 2.0
_STALL_S = 2.5  # no callback this long: dead (an idle null sink may pause ~1.7 s)
_WATCH_S = 0.2

OnError = Callable[[str], None]


class AudioUnavailable(Exception):
    """No usable output stream; str() says why and what to do."""


@dataclass
class _Placed:
    id: int
    at: float
    pcm: bytes
    pos: int = -1  # bytes already written; -1: not started


_alsa_quiet: Any = None


def _quiet_alsa() -> None:
    """Keep libasound's own messages ("underrun occurred") off the terminal: the app
    says what matters in its own words, and stderr would scribble over the screen."""
    global _alsa_quiet
    if _alsa_quiet is not None or not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("asound")
    if not name:
        return
    try:
        lib = ctypes.CDLL(name)
        handler_t = ctypes.CFUNCTYPE(
            None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
        )
        _alsa_quiet = handler_t(lambda *_: None)
        lib.snd_lib_error_set_handler(_alsa_quiet)
    except (OSError, AttributeError):
        _alsa_quiet = False


_open_lock = threading.Lock()
_open_streams: set[int] = set()


def _rescan(sd: Any) -> bool:
    """Re-initialise PortAudio so it sees devices (a sound server) that came after it
    started: it lists devices once, when first imported. Only while no stream is open."""
    with _open_lock:
        if _open_streams:
            return False
        try:
            sd._terminate()
            sd._initialize()
        except Exception:  # noqa: BLE001 - then the first error stands
            return False
    return True


def _import_sounddevice() -> Any:
    try:
        import sounddevice  # lazy: a missing PortAudio fails the import; said clearly below
    except OSError as exc:  # the PortAudio library itself is missing
        raise AudioUnavailable(
            "the PortAudio library is missing (on Debian/Ubuntu: sudo apt install "
            f"libportaudio2) [{exc}]"
        ) from exc
    except ImportError as exc:
        raise AudioUnavailable(
            f"the sounddevice package is missing ({exc}); reinstall hiphook"
        ) from exc
    return sounddevice


class AudioStream:
    """A mixer behind one open output stream (mono, 16-bit)."""

    def __init__(self, rate: int, on_error: OnError | None) -> None:
        self.rate = rate
        self.latency_s = LATENCY_S
        self.on_error = on_error
        self.underruns = 0
        self.callbacks = 0
        self.onsets: dict[int, float] = {}  # id -> when its first frame is heard (monotonic)
        self._ids = itertools.count(1)
        self._cv = threading.Condition()
        self._placed: list[_Placed] = []
        self._tail_end = 0.0  # when the last written sound frame is heard
        self._last_callback = 0.0
        self._started = threading.Event()
        self._dead: str | None = None
        self._closing = False
        self._fade_frames = 0
        self._fade_pos = 0
        self._fade_done = threading.Event()
        self._stream: Any = None
        self._watch: threading.Thread | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, rate: int = RATE, on_error: OnError | None = None) -> AudioStream:
        """Open and start the stream; raises AudioUnavailable saying why and what to do."""
        sd = _import_sounddevice()
        _quiet_alsa()
        self = cls(rate, on_error)
        for attempt in (1, 2):
            try:
                self._stream = sd.RawOutputStream(
                    samplerate=rate,
                    channels=1,
                    dtype="int16",
                    latency=LATENCY_S,
                    blocksize=int(BLOCK_S * rate),
                    callback=self._callback,
                    finished_callback=self._finished,
                )
                self._stream.start()
                break
            except (sd.PortAudioError, OSError, ValueError) as exc:
                self._abort()
                if attempt == 1 and _rescan(sd):
                    continue
                raise AudioUnavailable(
                    f"no sound output ({exc}); check that a sound device or server is "
                    "there (pactl info)"
                ) from exc
        with _open_lock:
            _open_streams.add(id(self))
        if not self._started.wait(_START_TIMEOUT_S):
            self._abort()
            raise AudioUnavailable(
                "the sound output did not start within "
                f"{_START_TIMEOUT_S:.0f} s; check the sound server"
            )
        self.latency_s = float(self._stream.latency)
        self._watch = threading.Thread(
            target=self._watchdog, name="hiphook-audio-watch", daemon=True
        )
        self._watch.start()
        return self

    def _abort(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:  # noqa: BLE001 - already failing; the caller is told
                pass
            self._stream = None

    # ------------------------------------------------------------------ placing
    def play_at(self, sound: Sound, at: float) -> int:
        """Place `sound` so its first sample is heard at monotonic time `at`; returns an id.

        Thread-safe and never blocks beyond a short lock. A time already past plays at
        once. Raises AudioUnavailable once the stream is dead or closed.
        """
        if sound.rate != self.rate:
            raise ValueError(
                f"sound {sound.key} is at {sound.rate} Hz, the stream at {self.rate} Hz"
            )
        with self._cv:
            if self._dead is not None:
                raise AudioUnavailable(self._dead)
            if self._closing:
                raise AudioUnavailable("the sound output is closed")
            sid = next(self._ids)
            self._placed.append(_Placed(sid, at, sound.pcm))
            return sid

    def cancel_from(self, at: float) -> int:
        """Drop placed sounds due at or after `at` that have not started; returns how many."""
        with self._cv:
            keep = [p for p in self._placed if p.pos >= 0 or p.at < at]
            dropped = len(self._placed) - len(keep)
            self._placed = keep
            self._cv.notify_all()
            return dropped

    def pending(self) -> int:
        with self._cv:
            return len(self._placed)

    def drain(self, timeout: float = 3.0) -> bool:
        """Wait until every placed sound has been heard to its end; False on timeout."""
        end = time.monotonic() + timeout
        with self._cv:
            while self._placed and self._dead is None:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
            if self._dead is not None:
                return False
            tail = self._tail_end
        while True:  # the last frames are still in the server's buffer
            now = time.monotonic()
            if now >= tail:
                return True
            if now >= end:
                return False
            time.sleep(min(tail, end) - now)

    def close(self, fade_s: float = 0.03) -> None:
        """Stop the stream; a sound still playing fades out over `fade_s` instead of clicking."""
        with self._cv:
            if self._stream is None:
                return
            self._closing = True
            playing = any(p.pos >= 0 for p in self._placed) and self._dead is None
            self._placed = [p for p in self._placed if p.pos >= 0]
            self._fade_frames = max(1, int(fade_s * self.rate)) if playing else 0
            if not playing:
                self._fade_done.set()
            self._cv.notify_all()
        if playing:
            self._fade_done.wait(fade_s + 0.5)
            rest = self._tail_end - time.monotonic()
            if rest > 0:
                time.sleep(min(rest, 0.5))  # let the faded tail reach the ear
        stream, self._stream = self._stream, None
        try:
            stream.stop() if self._dead is None else stream.abort()
            stream.close()
        except Exception:  # noqa: BLE001 - closing a dead stream; nothing left to say
            pass
        with _open_lock:
            _open_streams.discard(id(self))

    @property
    def alive(self) -> bool:
        return self._dead is None and self._stream is not None

    # ------------------------------------------------------------------ the callback
    def _callback(self, outdata: Any, frames: int, ti: Any, status: Any) -> None:
        now = time.monotonic()
        self._last_callback = now
        self.callbacks += 1
        self._started.set()
        if status.output_underflow:
            self.underruns += 1
        lead = ti.outputBufferDacTime - ti.currentTime
        if not (ti.outputBufferDacTime > 0 and 0.0 <= lead < 2.0):
            lead = self.latency_s  # a host API that does not report times
        first = now + lead  # when this buffer's first frame is heard
        n = frames * 2
        with self._cv:
            if not self._placed or (
                self._placed[0].pos < 0
                and all(p.pos < 0 and (p.at - first) * self.rate >= frames for p in self._placed)
            ):
                if not self._closing:  # nothing due in this buffer: silence, cheaply
                    outdata[:] = bytes(n)
                    return
        buf = bytearray(n)
        written = False
        with self._cv:
            finished = False
            for p in self._placed:
                if p.pos < 0:
                    off = round((p.at - first) * self.rate) * 2
                    if off >= n:
                        continue
                    off = max(0, off)
                    p.pos = 0
                    self.onsets[p.id] = first + off / 2 / self.rate
                else:
                    off = 0
                chunk = p.pcm[p.pos : p.pos + n - off]
                if written and any(buf[off : off + len(chunk)]):
                    _mix_into(buf, off, chunk)
                else:
                    buf[off : off + len(chunk)] = chunk
                written = True
                p.pos += len(chunk)
                if p.pos >= len(p.pcm):
                    finished = True
                    self._tail_end = max(self._tail_end, first + (off + len(chunk)) / 2 / self.rate)
                else:
                    self._tail_end = max(self._tail_end, first + n / 2 / self.rate)
            if finished:
                self._placed = [p for p in self._placed if p.pos < len(p.pcm)]
                self._cv.notify_all()
            if self._closing and self._fade_frames:
                self._fade_pos = _fade(buf, self._fade_pos, self._fade_frames)
                if self._fade_pos >= self._fade_frames:
                    self._fade_frames = 0
                    self._placed = []
                    self._fade_done.set()
                self._tail_end = first + n / 2 / self.rate
        outdata[:] = bytes(buf)

    def _finished(self) -> None:
        if not self._closing:
            self._die("the sound output stopped")

    def _watchdog(self) -> None:
        while True:
            time.sleep(_WATCH_S)
            with self._cv:
                if self._closing or self._stream is None or self._dead is not None:
                    return
            stream = self._stream
            stalled = time.monotonic() - self._last_callback > _STALL_S
            inactive = stream is not None and not stream.active
            if stalled or inactive:
                self._die("the sound output stopped answering (was the sound server stopped?)")
                return

    def _die(self, why: str) -> None:
        with self._cv:
            if self._dead is not None:
                return
            self._dead = f"{why}; cues fall back to the next player"
            self._placed = []
            self._cv.notify_all()
            message = self._dead
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:  # noqa: BLE001 - telling must not break the run
                pass


def _mix_into(buf: bytearray, off: int, chunk: bytes) -> None:
    """Sum `chunk` into `buf` at byte offset `off`, clipping (rare: the plan avoids it)."""
    a = array("h")
    a.frombytes(bytes(buf[off : off + len(chunk)]))
    b = array("h")
    b.frombytes(chunk)
    for i, v in enumerate(b):
        a[i] = max(-32768, min(32767, a[i] + v))
    buf[off : off + len(chunk)] = a.tobytes()


def _fade(buf: bytearray, pos: int, total: int) -> int:
    """Apply frames `pos`.. of a linear fade to silence over `total` frames (one fade may
    span several buffers); silence after its end. Returns the new position."""
    a = array("h")
    a.frombytes(bytes(buf))
    for i in range(len(a)):
        k = pos + i
        a[i] = int(a[i] * (1 - k / total)) if k < total else 0
    buf[:] = a.tobytes()
    return pos + len(a)

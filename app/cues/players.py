"""Cue players: one audio stream fed from the cue plan, or a chain of subprocess players.

A `CuePlayer` listens to the session runner. It must never slow the engine or crash a run.

With a sound bank and an output stream (app/cues/render.py, app/cues/stream.py), every
sound the routine can make is rendered before the run, and on each step start and each
control the player re-plans (app/core/cueplan.py) the rest of this step and the next and
hands each sound to the stream with the monotonic time its first sample must be heard:
the plan decides the onset, not a queue or a process start-up. Sounds placed by the last
plan that have not started are taken back first.

When the stream cannot open, or dies, the chain takes over, saying so once: one worker
thread plays each cue with paplay/aplay/afplay or espeak-ng from a small queue that drops
cues gone stale (a "push" heard a second late names the wrong moment), each backend
handing over to the next when it fails, the terminal bell last.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.core.clock import Clock
from app.core.coach import CoachEvent
from app.core.cueplan import Planner, Replan, all_cues, due_for_coach
from app.core.cues import Cue, Tone, cue_for, cue_for_coach
from app.core.engine import Engine, Event, EventKind
from app.core.routine import Routine
from app.cues.render import SoundBank as Bank
from app.cues.stream import AudioStream
from app.cues.tones import render_tone_wav

if TYPE_CHECKING:
    from app.runner import SessionRunner

MODES = ("auto", "none", "bell", "tone", "voice")
Which = Callable[[str], str | None]
RunCommand = Callable[[list[str]], None]
Note = Callable[[str], None]

_PLAY_TIMEOUT_S = 10.0
_WORDS = {"voice": "spoken cues", "tone": "tones", "bell": "the terminal bell", "none": "no sound"}


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
        ("paplay", ()),
        ("aplay", ("-q",)),
        ("afplay", ()),
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

    def __init__(
        self, exe: str, run: RunCommand = run_command, player: list[str] | None = None
    ) -> None:
        self.exe = exe
        self.run = run
        self.player = player
        self.is_say = Path(exe).name == "say"
        self._dir: Path | None = None
        self._files: dict[str, Path] = {}

    @classmethod
    def find(
        cls,
        which: Which = shutil.which,
        run: RunCommand = run_command,
        player: list[str] | None = None,
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
        notes.append(
            f"Cues: no speech engine found (espeak-ng, espeak or say); "
            f"using {words[fallback]} instead."
        )
    elif mode == "tone" and tone is None:
        notes.append(
            "Cues: no sound player found (paplay, aplay or afplay); "
            "using the terminal bell instead."
        )
    elif mode == "auto" and fallback == "bell":
        notes.append("Cues: no speech engine or sound player found; using the terminal bell.")
    return chain, notes


class SoundBank(Protocol):
    """What the player needs of app.cues.render.SoundBank."""

    def prepare(self, cues: Iterable[Cue], say: Callable[[str], None] | None = None) -> None: ...
    def sound(self, cue: Cue) -> Any: ...
    def duration(self, cue: Cue) -> float: ...


class Stream(Protocol):
    """What the player needs of app.cues.stream.AudioStream."""

    latency_s: float

    def play_at(self, sound: Any, at: float) -> int: ...
    def cancel_from(self, at: float) -> int: ...
    def drain(self, timeout: float = 3.0) -> bool: ...
    def close(self, fade_s: float = 0.03) -> None: ...


OpenStream = Callable[[Callable[[str], None]], Stream]


@dataclass(frozen=True)
class CueRecord:
    """One sound handed to the stream (or taken back): for the plain face's "cue" line.

    `planned_t` is the moment it belongs to (its boundary, or when the coach spoke),
    `start_t` where the plan put it, `t` when it was scheduled, all in run seconds.
    """

    text: str
    tone: str
    planned_t: float
    start_t: float
    t: float
    role: str
    cancelled: bool = False

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "event": "cue",
            "text": self.text,
            "tone": self.tone,
            "planned_t": round(self.planned_t, 4),
            "start_t": round(self.start_t, 4),
            "t": round(self.t, 4),
            "role": self.role,
        }
        if self.cancelled:
            out["cancelled"] = True
        return out


# Sounds starting this soon (real seconds, beyond the stream's latency) are left alone
# when re-planning: the stream may already be mixing them.
KEEP_AHEAD_S = 0.02
# At most this long (real seconds) for the last cue to finish when the run has ended.
DRAIN_S = 3.0
_REPLAN_ON = {
    EventKind.STEP_STARTED,
    EventKind.STEP_FINISHED,
    EventKind.PAUSED,
    EventKind.RESUMED,
    EventKind.FINISHED,
    EventKind.ABORTED,
}


class CuePlayer:
    """A runner listener that turns events into sounds, planned ahead when it can.

    Without `bank` and `open_stream` (or `engine`), it plays through `chain` only.
    """

    def __init__(
        self,
        routine: Routine,
        chain: list[Backend],
        *,
        note: Note | None = None,
        max_queue: int = 4,
        now: Callable[[], float] = time.monotonic,
        engine: Engine | None = None,
        bank: SoundBank | None = None,
        open_stream: OpenStream | None = None,
        pacing: bool = True,
        on_cue: Callable[[CueRecord], None] | None = None,
        chain_notes: Iterable[str] = (),
        to_mono: Callable[[float], float] | None = None,
    ) -> None:
        self.routine = routine
        self.chain = list(chain)
        self.note = note or (lambda text: print(f"hiphook: {text}", file=sys.stderr))
        self.notes: list[str] = []
        self.played: list[tuple[str, Cue]] = []  # (backend, cue), for tests and the benchmark
        self.dropped = 0
        self.records: list[CueRecord] = []  # every sound handed to the stream
        self.on_cue = on_cue
        self.pacing = pacing
        self._chain_notes = list(chain_notes)
        self._now = now
        self._queue: deque[tuple[float, Cue]] = deque()
        self._max_queue = max_queue
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._busy = False
        # the stream path
        self.engine = engine
        self.bank = bank
        self._open_stream = open_stream
        self.stream: Stream | None = None
        self.planner: Planner | None = None
        self.mode = "stream" if engine is not None and bank and open_stream else "chain"
        self._ready = threading.Event()
        self._requests: list[tuple[float, list[Event], list[Event] | None, list[Any]]] = []
        self._batch: list[Event] = []
        self._batch_dues: list[Any] = []
        self._flush_scheduled = False
        self._planning = False
        self._finished = False
        self._scale = 1.0
        self._t0 = 0.0
        self._plan_thread: threading.Thread | None = None
        self._to_mono = to_mono
        if self.mode == "stream":
            assert engine is not None
            clock: Clock = engine.clock
            self._scale = float(getattr(clock, "scale", 1.0))
            self._plan_thread = threading.Thread(
                target=self._plan_work, daemon=True, name="hiphook-cue-plan"
            )
            self._plan_thread.start()
        else:
            self._ready.set()
            for text in self._chain_notes:
                self.say(text)

    @property
    def backend_name(self) -> str:
        if self.mode == "stream":
            return "stream"
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

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Block until every sound is rendered and the stream is open (or given up on).

        Call it off the event loop (`await asyncio.to_thread(player.wait_ready)`) before
        the run starts, so the first cue is not late: a cold cache renders everything here.
        """
        return self._ready.wait(timeout)

    def counts(self) -> dict[str, int]:
        """The plan's due / placed / dropped counts over the run so far (stream path)."""
        with self._cv:
            return self.planner.counts() if self.planner is not None else {}

    # -------------------------------------------------------------- listener side
    def __call__(self, event: Event) -> None:
        if event.kind is EventKind.FINISHED:
            self._finished = True
        if self.mode != "stream":
            cue = cue_for(event, self.routine)
            if cue is not None:
                self.submit(cue)
            return
        self._batch.append(event)
        if event.kind in _REPLAN_ON:
            self._flush_soon()

    def coach_cue(self, event: CoachEvent) -> None:
        """A pressure-coach listener (append it to `SensorAttachment.listeners`)."""
        if self.mode != "stream":
            cue = cue_for_coach(event)
            if cue is not None:
                self.submit(cue)
            return
        due = due_for_coach(event)
        if due is not None:
            self._batch_dues.append(due)
            self._flush_soon()

    def handle(self, events: Iterable[Event]) -> None:
        """One dispatch's events at once (what `__call__` gathers on a running loop)."""
        for ev in events:
            if ev.kind is EventKind.FINISHED:
                self._finished = True
            if self.mode == "stream":
                self._batch.append(ev)
            else:
                self(ev)
        self.flush()

    def _flush_soon(self) -> None:
        """Re-plan once the runner has handed out all of this dispatch's events: a skip
        brings the step's end, the next start and its first push together, and the plan
        must see them together (the push wins the moment)."""
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """On the loop: snapshot what the engine will do (cheap) and wake the planner."""
        self._flush_scheduled = False
        if self.mode != "stream":
            return
        assert self.engine is not None
        events, self._batch = self._batch, []
        dues, self._batch_dues = self._batch_dues, []
        if not events and not dues:
            return
        now_t = max([ev.t for ev in events] + [d.at for d in dues])
        try:
            fc = self.engine.forecast()
        except Exception as exc:  # noqa: BLE001 - no plan means: the chain plays
            self._to_chain(exc)
            for ev in events:
                self(ev)
            return
        with self._cv:
            if self._closed:
                return
            self._requests.append((now_t, events, fc, dues))
            self._cv.notify_all()

    # -------------------------------------------------------------- the stream path
    def _plan_work(self) -> None:
        """The planner's thread: render, open the stream, then serve re-plans."""
        try:
            assert self.bank is not None and self._open_stream is not None
            self.bank.prepare(all_cues(self.routine, pacing=self.pacing), say=self.say)
            self.planner = Planner(self.routine, self._duration, pacing=self.pacing)
            self.stream = self._open_stream(self._stream_failed)
        except Exception as exc:  # noqa: BLE001 - no stream means: the chain plays
            self._to_chain(exc)
        finally:
            self._ready.set()
        while True:
            with self._cv:
                while not self._requests and not self._closed:
                    self._cv.wait()
                if not self._requests:
                    return
                reqs, self._requests = self._requests, []
                self._planning = True
            try:
                if self.mode == "stream":
                    self._serve(reqs)
                else:
                    for _now, events, _fc, dues in reqs:
                        for ev in events:
                            cue = cue_for(ev, self.routine)
                            if cue is not None:
                                self.submit(cue)
                        for due in dues:
                            self.submit(due.cue)
            except Exception as exc:  # noqa: BLE001 - a failing stream hands over
                self._to_chain(exc)
            finally:
                with self._cv:
                    self._planning = False
                    self._cv.notify_all()

    def _duration(self, cue: Cue) -> float:
        """A sound's length in run seconds (a scaled clock runs faster than the sound)."""
        assert self.bank is not None
        return self.bank.duration(cue) * self._scale

    def _mono(self, run_t: float) -> float:
        """The monotonic time at which the run reaches `run_t` seconds."""
        if self._to_mono is not None:
            return self._to_mono(run_t)
        assert self.engine is not None
        clock = self.engine.clock
        return time.monotonic() + clock.real_delay(clock.now() + run_t - self.engine.t())

    def _serve(self, reqs: list[tuple[float, list[Event], list[Event] | None, list[Any]]]) -> None:
        assert self.planner is not None and self.stream is not None and self.bank is not None
        assert self.engine is not None
        events = [ev for _n, evs, _f, _d in reqs for ev in evs]
        forecast: list[Event] = next((f for _n, _e, f, _d in reversed(reqs) if f is not None), [])
        for _n, _e, _f, dues in reqs:
            for due in dues:
                self.planner.add(due)
        now_t = reqs[-1][0]
        t_now = self.engine.t()
        ahead = (self.stream.latency_s + KEEP_AHEAD_S) * self._scale
        keep_until = max(now_t, t_now) + ahead
        self.stream.cancel_from(self._mono(keep_until))
        with self._cv:
            replan: Replan = self.planner.replan(now_t, events, forecast, keep_until=keep_until)
        for p in replan.cancelled:
            self._record(p.cue, p.due.at, p.start, t_now, p.due.role.value, cancelled=True)
        for p in replan.new:
            self.stream.play_at(self.bank.sound(p.cue), self._mono(p.start))
            self._record(p.cue, p.due.at, p.start, self.engine.t(), p.due.role.value)

    def _record(
        self,
        cue: Cue,
        planned_t: float,
        start_t: float,
        t: float,
        role: str,
        *,
        cancelled: bool = False,
    ) -> None:
        rec = CueRecord(cue.text, cue.tone.value, planned_t, start_t, t, role, cancelled)
        self.records.append(rec)
        if self.on_cue is not None:
            try:
                self.on_cue(rec)
            except Exception:  # noqa: BLE001 - a face's trouble must not stop the sound
                pass

    def _stream_failed(self, why: str) -> None:
        """The stream's own word that it died (from its thread): the chain takes over."""
        self._to_chain(RuntimeError(why))

    def _to_chain(self, exc: BaseException) -> None:
        with self._cv:
            if self.mode != "stream":
                return
            self.mode = "chain"
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        nxt = _WORDS.get(self.chain[0].name, "no sound") if self.chain else "no sound"
        self.say(f"Cues: the sound stream is not available ({reason}); {nxt} from now on.")
        for text in self._chain_notes:
            self.say(text)

    # -------------------------------------------------------------- the chain
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
                self._cv.notify_all()
                return
        self._play(backend, cue)

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
        self.say(f"Cues: {_WORDS[failed.name]} did not work ({reason}); {_WORDS[nxt]} from now on.")

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
                    self._cv.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is queued or being planned or played by the chain."""
        end = time.monotonic() + timeout
        with self._cv:
            while self._queue or self._busy or self._requests or self._planning:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def close(self, drain_s: float | None = None) -> None:
        """Stop. After a finished run, wait (<= `drain_s`, 3 s by default) for the last
        cue ("Routine complete") to be heard; otherwise (quit mid-run) stop at once, the
        stream fading out a sound in mid-play rather than clicking."""
        if drain_s is None:
            drain_s = DRAIN_S if self._finished else 0.0
        wait = max(0.0, drain_s)
        end = time.monotonic() + wait
        if wait > 0:
            self.wait_idle(wait)
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify_all()
        stream = self.stream
        if stream is not None:
            try:
                left = end - time.monotonic()
                if left > 0:
                    stream.drain(timeout=left)
                stream.close(fade_s=0.03)
            except Exception:  # noqa: BLE001 - closing must not raise at exit
                pass
        if self._plan_thread is not None:
            self._plan_thread.join(timeout=1.0)
        for backend in self.chain:
            closer = getattr(backend, "close", None)
            if closer is not None:
                closer()


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
        voice_found = any(which(p) for p in VoiceBackend.ENGINES)
        parts = _stream_parts(mode, voice_found, volume=volume, voice=voice, cache_dir=cache_dir)
    if parts is None:
        player = CuePlayer(runner.routine, chain, note=note, chain_notes=notes)
    else:
        bank, opener = parts
        now_notes = [n for n in notes if "no speech engine" in n]
        player = CuePlayer(
            runner.routine,
            chain,
            note=note,
            engine=runner.engine,
            bank=bank,
            open_stream=opener,
            pacing=pacing,
            on_cue=on_cue,
            chain_notes=[n for n in notes if n not in now_notes],
        )
        for text in now_notes:
            player.say(text)
    runner.subscribe(player)
    return player

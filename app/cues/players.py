"""The cue player: one audio stream fed from the cue plan, the chain when it cannot play.

A `CuePlayer` listens to the session runner. It must never slow the engine or crash a run.

With a sound bank and an output stream (app/cues/render.py, app/cues/stream.py), every
sound the routine can make is rendered before the run, and on each step start and each
control the player re-plans (app/core/cueplan.py) the rest of this step and the next and
hands each sound to the stream with the monotonic time its first sample must be heard:
the plan decides the onset, not a queue or a process start-up. Sounds placed by the last
plan that have not started are taken back first.

When the stream cannot open, or dies, the fallback chain (app/cues/chain.py: subprocess
players, then the terminal bell) takes over, and the user is told once which part
stopped and which plays from now on.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from app.core.clock import Clock
from app.core.coach import CoachEvent
from app.core.cueplan import Planner, Replan, all_cues, due_for_coach
from app.core.cues import Cue, cue_for, cue_for_coach
from app.core.engine import Engine, Event, EventKind
from app.core.routine import Routine
from app.cues.backends import Backend, reason
from app.cues.chain import Chain, Note
from app.cues.parts import CueFallback, CueRecord, OpenStream, SoundBank, Stream

# CueRecord is the faces' (app/plain.py, app/session.py): it stays importable from here.
__all__ = ["DRAIN_S", "KEEP_AHEAD_S", "CuePlayer", "CueRecord"]

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
        self.note = note or (lambda text: print(f"hiphook: {text}", file=sys.stderr))
        self.notes: list[str] = []
        self.chain = Chain(chain, self.say, max_queue=max_queue, now=now)
        self.records: list[CueRecord] = []  # every sound handed to the stream
        self.on_cue = on_cue
        self.pacing = pacing
        self._chain_notes = list(chain_notes)
        self._cv = threading.Condition()
        self._closed = False
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
        self._drain_end: float | None = None  # `play_out`'s deadline, which `close` keeps
        self._scale = 1.0
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
        return "stream" if self.mode == "stream" else self.chain.name

    @property
    def played(self) -> list[tuple[str, Cue]]:
        """(backend, cue) of every cue the chain played, for tests and the benchmark."""
        return self.chain.played

    @property
    def dropped(self) -> int:
        """Cues the chain dropped (stale, or pushed out of its queue)."""
        return self.chain.dropped

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
            stream = self._open_stream(self._stream_failed)
            with self._cv:
                late = self._closed  # close() has been and gone: nobody else closes it
                if not late:
                    self.stream = stream
            if late:
                with contextlib.suppress(Exception):  # nobody is left to tell
                    stream.close(fade_s=0.0)
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
        why = reason(exc, 120)
        nxt = self.chain.describe()
        text = f"Cues: the sound stream is not available ({why}); {nxt} from now on."
        self.say(CueFallback(text, part="sound stream", now=nxt))
        for text in self._chain_notes:
            self.say(text)

    # -------------------------------------------------------------- the chain
    def submit(self, cue: Cue) -> None:
        """Hand a cue to the fallback chain (it never waits for a player)."""
        with self._cv:
            if self._closed:
                return
        self.chain.submit(cue)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is being planned, nor queued or played by the chain."""
        end = time.monotonic() + timeout
        with self._cv:
            while self._requests or self._planning:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return self.chain.wait_idle(max(0.0, end - time.monotonic()))

    def play_out(self, timeout: float = DRAIN_S) -> bool:
        """After a finished run, before its summary: wait (<= `timeout`) until the last
        cues are planned and the chain has played them, so a part failing on them is
        said above the summary. The deadline stays: `close()` later waits only for what
        is left of it (the stream's last sound), so the end of a run waits `timeout` at
        most in all, not once here and once more at close."""
        end = time.monotonic() + timeout
        with self._cv:
            self._drain_end = end
        return self.wait_idle(timeout)

    def close(self, drain_s: float | None = None) -> None:
        """Stop. After a finished run, wait (<= `drain_s`, 3 s by default, or what is
        left of `play_out`'s deadline) for the last cue ("Routine complete") to be
        heard; otherwise (quit mid-run) stop at once, the stream fading out a sound in
        mid-play rather than clicking."""
        if drain_s is None:
            with self._cv:
                drain_end = self._drain_end
            if drain_end is not None:
                drain_s = drain_end - time.monotonic()
            else:
                drain_s = DRAIN_S if self._finished else 0.0
        wait = max(0.0, drain_s)
        end = time.monotonic() + wait
        if wait > 0:
            self.wait_idle(wait)
        with self._cv:
            self._closed = True
            stream = self.stream  # None while still opening: the planner closes it then
            self._cv.notify_all()
        self.chain.close()
        if stream is not None:
            try:
                left = end - time.monotonic()
                if left > 0:
                    stream.drain(timeout=left)
                stream.close(fade_s=0.03)
            except Exception:  # noqa: BLE001 - closing must not raise at exit
                pass
        # A planner still opening the stream is stuck in the device's call (a sound
        # server that never answers): waiting for it would only add to the end's wait.
        if self._plan_thread is not None and self._ready.is_set():
            self._plan_thread.join(timeout=1.0)

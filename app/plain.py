"""The plain runner: one line per event, for scripts, screen readers and SSH sessions.

Keys (a terminal) or lines (a pipe): space or p pauses and resumes, n skips, b goes
back; Enter (an empty line) confirms an action step and does nothing else; q asks
whether to stop, as the full screen does, and y or Enter stops.

A step's finished line is printed only once the log's writer has committed the step
(its confirmation comes back to the loop; the loop never waits for it): every finished
step this face prints is on disk, whatever kills the process after. The lines after it
wait behind it, so the order is kept, for the few milliseconds a commit takes; while the
log says it is waiting, they go on and only the finished lines wait. Sounds and screens
never wait for the disk.

What the run has to say from other threads (a cue part that failed, on the player's)
reaches this face through `NoteRelay`, as lines in the same order: `note` objects in
JSON, with the part and what plays now for a cue fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import signal
import sys
import termios
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO, cast

from app.core.coach import CoachEvent, CoachKind
from app.core.engine import HOLD_REASON, Event, EventKind, RunRecord, State
from app.runner import STOPPED, SessionRunner, format_duration

if TYPE_CHECKING:
    from app.core.clock import Clock
    from app.core.pressure import Verdict
    from app.cues.players import CueRecord
    from app.session import Session
    from app.store.recorder import SessionRecorder
    from app.store.writer import LogNotice

KEYS_HELP = (
    "Keys: space or p pauses and goes on, n skips, b goes back, Enter confirms a step that "
    "waits for you, q stops (it asks first: y or Enter stops, any other key goes on)."
)
# How long the end of a run waits for the last commits before the log is closed (its
# recovery file written) and the finished lines still held are printed.
LOG_WAIT_S = 3.0
# How long the end of a finished run waits for the cue players to finish the last cues,
# so a part that fails on one is said above the summary, not after it on stderr. It is
# the whole wait: the player's close, after the summary, has only what is left of it.
CUES_WAIT_S = 3.0
QUIT_QUESTION = (
    "Stop the routine? y or Enter stops it (the run so far is kept); any other key goes on."
)


def spoken(seconds: float) -> str:
    """A duration in words a screen reader says well: "1 s", "1 min 30 s", "2 min"."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    m, rest = divmod(s, 60)
    return f"{m} min {rest} s" if rest else f"{m} min"


def sentence(text: str) -> str:
    """Capital first, full stop last: a coach's words as a line of their own."""
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def describe(ev: Event, runner: SessionRunner) -> str:
    """A line for one event, a sentence a screen reader can say (no colour needed)."""
    stamp = f"[{format_duration(ev.t)}]"
    k = ev.kind
    steps = runner.routine.steps
    if k is EventKind.RUN_STARTED:
        return (
            f"{stamp} Starting {ev.name}: {len(steps)} steps, about "
            f"{spoken(runner.routine.total_s)}."
        )
    if k is EventKind.STEP_STARTED:
        step = steps[ev.step]
        length = "" if step.kind.value == "action" else f", {spoken(step.planned_s)}"
        return f"{stamp} Step {ev.step + 1} of {len(steps)}: {ev.name}{length}. {step.instruction}"
    if k is EventKind.PHASE:
        return f"{stamp}   {(ev.phase or '').capitalize()}, {ev.rep} of {ev.reps}."
    if k is EventKind.COUNTDOWN:
        return f"{stamp}   {ev.count}."
    if k is EventKind.WAITING:
        return f"{stamp}   Waiting for you: press Enter when this step is done."
    if k is EventKind.STEP_FINISHED:
        took = spoken(ev.actual_s or 0)
        if ev.reason == "back":
            again = "the step before starts again" if ev.step > 0 else "it starts again"
            return f"{stamp} Going back: {ev.name} stopped after {took}; {again}."
        if ev.skipped:
            return f"{stamp} {ev.name} skipped after {took}."
        return f"{stamp} {ev.name} done after {took}."
    if k is EventKind.PAUSED:
        if ev.reason == HOLD_REASON:  # the pressure, not a key, lets it go on
            return f"{stamp} Paused, {ev.reason}."
        why = "" if ev.reason in ("", "paused") else f": {ev.reason}"
        return f"{stamp} Paused{why}. Press space or p to go on."
    if k is EventKind.RESUMED:
        return f"{stamp} Going on."
    if k is EventKind.FINISHED:
        return f"{stamp} Routine finished. Well done."
    if k is EventKind.ABORTED:
        if not ev.interrupted:
            return f"{stamp} Stopped, as you asked. The run so far is kept."
        return f"{stamp} Interrupted ({ev.reason}). The run so far is kept, marked as interrupted."
    return f"{stamp} {sentence(k.value.replace('_', ' '))}"


def event_object(ev: Event, clock: Clock, elapsed: float | None = None) -> dict[str, object]:
    """One event as `--json` prints it (and `hiphook watch` receives it).

    The start carries t = 0 as a monotonic reading and as a wall time, to line a
    recording up. `elapsed` is the run's time now (`engine.t()`): with it, t = 0 is
    right however long the listeners before this one took (the log's first write).
    """
    if ev.kind is EventKind.RUN_STARTED and _started and _started[0][0] is ev:
        return dict(_started[0][1])  # the same start, told twice: the very same object
    obj = ev.to_dict()
    if ev.kind is EventKind.RUN_STARTED:
        since = -clock.real_delay(clock.now() - (ev.t if elapsed is None else elapsed))
        obj["t0_monotonic"] = round(time.monotonic() - since, 6)
        t0_wall = dt.datetime.now().astimezone() - dt.timedelta(seconds=since)
        obj["t0_wall"] = t0_wall.isoformat(timespec="milliseconds")
        _started[:] = [(ev, dict(obj))]
    return obj


# The last start's object, so the face and the publisher print one t0, not two readings.
_started: list[tuple[Event, dict[str, object]]] = []


def coach_object(c: CoachEvent) -> dict[str, object]:
    """One coach event (slipped, held again, the verdict) as `--json` prints it."""
    obj: dict[str, object] = {
        "event": c.kind.value,
        "step": c.step,
        "t": round(c.t, 3),
        "text": c.text,
    }
    if c.zone is not None:
        obj["zone"] = c.zone.value
    if c.verdict is not None:
        v = c.verdict
        obj.update(
            verdict=v.kind.value,
            under_pressure_s=round(v.under_pressure_s, 2),
            planned_s=v.planned_s,
            share=round(v.share, 3),
            lost_s=round(v.lost_s, 2),
        )
    return obj


def note_object(text: str) -> dict[str, object]:
    """A note as `--json` prints it. A cue part's fallback (app/cues/parts.py's
    `CueFallback`, a str that carries fields) adds `kind`, the `part` that failed and what
    plays `now`; it is asked for them by name, so this face loads no sound code."""
    to_dict = getattr(text, "to_dict", None)
    if callable(to_dict):
        return cast("dict[str, object]", to_dict())
    return {"event": "note", "text": text}


def _to_stderr(text: str) -> None:
    """A note no face can show any more, where the user still sees it; never raises."""
    with contextlib.suppress(OSError, ValueError):  # stderr closed: nothing left to tell
        print(f"hiphook: {text}", file=sys.stderr, flush=True)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running on this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class NoteRelay:
    """The run's notes, from any thread, to the plain face on its loop, in the order said.

    A `note` for `assemble()`: the cue player says a part failed from its own thread
    (the chain's worker, the planner, the stream's callback), the sensor from the loop
    (its problems are note lines on stdout, and in `--json`, like the cues').
    Until the face `attach`es, notes wait here (what assembly said comes out at the
    start, in the stream); while attached, each said on another thread is handed over
    with `call_soon_threadsafe`, so the caller never waits (a short lock and a byte to
    the loop's wake-up pipe): neither the player's thread nor the clock is held; one said
    on the loop itself is shown there and then, in order with the events around it.
    Once the face has `detach`ed (its summary is the last line) or the loop has closed, a
    note goes to stderr as `hiphook: ...`; `close()`, after the loop, puts there what was
    handed over but never shown. So no note is lost in silence, whenever it comes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: deque[str] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._show: Callable[[str], None] | None = None
        self._woken = False  # a delivery is queued on the loop
        self._closed = False  # no face any more: straight to stderr

    def __call__(self, text: str) -> None:
        """From any thread; never blocks, never raises. Said on the loop itself (the
        sensor's problem, in a callback that also emits events), it is shown at once,
        after what other threads said before it: in its place, not a loop turn late."""
        here = False
        with self._lock:
            if self._closed:
                loop = None
            else:
                self._waiting.append(text)
                loop = self._loop
                here = loop is not None and _running_loop() is loop
                if not here and (loop is None or (self._woken and not loop.is_closed())):
                    return
                if not here:
                    self._woken = True
        if loop is None:
            _to_stderr(text)
            return
        if here:
            self._deliver()
            return
        try:
            loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop has closed: no face will show it
            self.close()

    def attach(self, loop: asyncio.AbstractEventLoop, show: Callable[[str], None]) -> None:
        """On the loop: from now on `show` gets every note (those waiting first)."""
        with self._lock:
            self._loop, self._show = loop, show
        self._deliver()

    def _deliver(self) -> None:
        """On the loop: show what has been said since the last delivery, in order."""
        with self._lock:
            self._woken = False
            texts, show = list(self._waiting), self._show
            self._waiting.clear()
        for text in texts:
            try:
                if show is None:
                    raise RuntimeError("no face")
                show(text)
            except Exception:  # noqa: BLE001 - a note the face cannot take still goes out
                _to_stderr(text)

    def detach(self) -> None:
        """On the loop, at the end of the face: what is waiting is shown; later notes go
        to stderr."""
        self._deliver()
        self.close()

    def close(self) -> None:
        """No face any more (after the loop, or at its end): what waits goes to stderr,
        and every later note with it. Idempotent."""
        with self._lock:
            self._closed = True
            self._loop = self._show = None
            texts = list(self._waiting)
            self._waiting.clear()
        for text in texts:
            _to_stderr(text)


def outcome_word(record: RunRecord) -> str:
    """finished, stopped (the user chose to) or interrupted (cut off from outside)."""
    if record.state is State.ABORTED:
        return "interrupted" if record.interrupted else "stopped"
    return record.state.value


def summary_lines(record: RunRecord) -> list[str]:
    done = sum(1 for s in record.steps if s.completed)
    skipped = sum(1 for s in record.steps if s.skipped)
    lines = [
        f"Summary: {outcome_word(record)}. {done} of {len(record.steps)} steps done, "
        f"{skipped} skipped. Active {spoken(record.active_s)}, waiting "
        f"{spoken(record.waiting_s)}, paused {spoken(record.paused_s)} (planned about "
        f"{spoken(record.planned_s)}).",
    ]
    for s in record.steps:
        mark = "done" if s.completed else ("skipped" if s.skipped else "not done")
        side = f" ({s.side})" if s.side else ""
        if s.kind == "action":
            took = f"{spoken(s.waited_s)} waiting"
        else:
            took = f"{spoken(s.active_s)} of {spoken(s.planned_s)}"
        lines.append(f"  {s.index + 1:>2}. {s.name}{side}: {mark}, {took}")
    return lines


def summary_dict(record: RunRecord) -> dict[str, object]:
    return {
        "event": "summary",
        "state": record.state.value,
        "interrupted": record.interrupted,
        "active_s": round(record.active_s, 3),
        "paused_s": round(record.paused_s, 3),
        "waiting_s": round(record.waiting_s, 3),
        "elapsed_s": round(record.elapsed_s, 3),
        "planned_s": round(record.planned_s, 3),
        "steps": [
            {
                "step": s.index,
                "name": s.name,
                "side": s.side,
                "kind": s.kind,
                "planned_s": round(s.planned_s, 3),
                "actual_s": round(s.active_s, 3),
                "waited_s": round(s.waited_s, 3),
                "reps_done": s.reps_done,
                "completed": s.completed,
                "skipped": s.skipped,
            }
            for s in record.steps
        ],
    }


@contextlib.contextmanager
def _cbreak(stream: TextIO) -> Iterator[bool]:
    """Single-key input on a terminal; plain lines on anything else."""
    if not stream.isatty():
        yield False
        return
    fd = stream.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


@dataclass
class _Line:
    """A line to print; `written` is False while the step it tells of is not on disk."""

    text: str
    written: bool = True


class PlainFace:
    def __init__(
        self,
        runner: SessionRunner,
        *,
        json_mode: bool,
        out: TextIO,
        recorder: SessionRecorder | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """`recorder` and `loop`: hold each finished line until the log has the step."""
        self.runner = runner
        self.json_mode = json_mode
        self.out = out
        self.asking = False  # q was pressed: the next key says whether to stop
        self.recorder = recorder
        self.loop = loop
        self.held: deque[_Line] = deque()  # in order, behind a step not yet on disk
        self.log_waiting = False  # the log said it waits: only finished lines wait
        self.all_written = True  # no finished line waits for the log
        self.changed = asyncio.Event()  # a line went out, or the log said something
        runner.subscribe(self.on_event)

    def emit(self, obj: dict[str, object] | str) -> None:
        """Print a line, or hold it (in order) behind a finished step not yet on disk."""
        self._put(_Line(json.dumps(obj) if isinstance(obj, dict) else obj))

    def say_now(self, obj: dict[str, object] | str) -> None:
        """Print at once, past any held line: what the log says about itself."""
        self._write(json.dumps(obj) if isinstance(obj, dict) else obj)

    def _put(self, line: _Line) -> None:
        self.held.append(line)
        self._flush()

    def _write(self, text: str) -> None:
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
            self.runner.abort("output closed", interrupted=True)

    def _flush(self) -> None:
        """Print what may go: the head while it is written; while the log waits, every
        line but the finished ones it has not written."""
        keep: deque[_Line] = deque()
        while self.held:
            line = self.held.popleft()
            if line.written and (not keep or self.log_waiting):
                self._write(line.text)
            else:
                keep.append(line)
        self.held = keep
        self.all_written = all(line.written for line in keep)
        self.changed.set()

    def _written(self, line: _Line) -> None:
        """On the loop: the log has committed the step `line` tells of."""
        line.written = True
        self._flush()

    def log_state(self, state: str) -> None:
        """On the loop: the log waits (other lines go on) or has caught up (order again)."""
        self.log_waiting = state == "waiting"
        self._flush()

    def release(self) -> None:
        """At the end, once the log has done what it can (written, or a recovery file)."""
        for line in self.held:
            line.written = True
        self._flush()

    def _hold_until_written(self, ev: Event, line: _Line) -> None:
        """A finished step not on disk yet: its line waits until the writer commits it
        (the confirmation hops to the loop; nothing here waits)."""
        rec, loop = self.recorder, self.loop
        if ev.kind is not EventKind.STEP_FINISHED or rec is None or loop is None:
            return
        writer, key = rec.writer, rec.key
        if writer is None or key is None:  # no writer: the recorder committed it inline
            return

        def committed() -> None:  # on the writer's thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: the run is over
                loop.call_soon_threadsafe(self._written, line)

        if writer.when_written(key, ev.step, committed):
            line.written = False

    def on_event(self, ev: Event) -> None:
        if not self.json_mode:
            line = _Line(describe(ev, self.runner))
        else:
            line = _Line(json.dumps(event_object(ev, self.runner.clock, self.runner.engine.t())))
        self._hold_until_written(ev, line)
        self._put(line)

    def on_coach(self, c: CoachEvent) -> None:
        stamp = f"[{format_duration(c.t)}]"
        if self.json_mode:
            self.emit(coach_object(c))
        elif c.kind is CoachKind.VERDICT:
            self.emit(f"{stamp}   {sentence(f'press {c.text}')}")
        elif c.kind is not CoachKind.TARED:
            self.emit(f"{stamp}   {sentence(c.text)}")

    def note(self, text: str) -> None:
        """A note, in order with the events: a `note` line, or the sentence itself.

        Plain text puts a cue part's fallback here too, on stdout beside the face's other
        notes (the sensor left out, the keys), not on stderr: whoever follows this face
        (a screen reader, `| tee run.txt`, a terminal over SSH) reads one stream, in
        order, and a change in what is heard belongs in it, next to the step it came in.
        """
        self.emit(note_object(text) if self.json_mode else str(text))

    def handle_key(self, key: str) -> None:
        """One key (a terminal) or one line (a pipe). q asks first, as the full screen
        does: the next key answers, y or Enter stops, anything else goes on."""
        r = self.runner
        if self.asking:
            self.asking = False
            if key in ("y", "Y", "", "\n", "\r"):
                r.abort(STOPPED)
            else:
                self.note("Going on with the routine.")
            return
        if key in (" ", "p"):
            r.toggle_pause()
        elif key in ("n", "\x1b[C"):
            r.skip()
        elif key in ("b", "\x1b[D"):
            r.back()
        elif key in ("q", "Q") and not r.done:
            self.asking = True
            self.note(QUIT_QUESTION)
        elif key in ("", "\n", "\r"):
            if r.engine.state is State.WAITING:
                r.complete_action()


async def run_plain(
    session: Session,
    *,
    json_mode: bool = False,
    inp: TextIO | None = None,
    out: TextIO | None = None,
    notes: list[str] | None = None,
    sensor_report_s: float = 5.0,
    relay: NoteRelay | None = None,
) -> RunRecord:
    """Run an assembled session with this face subscribed last (after log and cues).

    `relay`: the `note` the session was assembled with; its notes (a cue part that
    failed, on the player's thread) come out here, in order with the events, until the
    summary; after it they go to stderr. A finished run lets the cue players finish
    its last cues first (<= 3 s in all: the player's close, after the summary, waits
    only for what is left of that deadline), so what fails on them is said above the
    summary."""
    runner = session.runner
    inp = inp if inp is not None else sys.stdin
    out = out if out is not None else sys.stdout
    loop = asyncio.get_running_loop()
    face = PlainFace(runner, json_mode=json_mode, out=out, recorder=session.recorder, loop=loop)
    report: asyncio.TimerHandle | None = None
    # The watchers' socket and the sensor's port open on a thread (no file or device work
    # on the loop, as the full screen does it); the clock has not started yet.
    await asyncio.to_thread(session.open, loop)
    session.start(loop)
    for text in [*(notes or []), *session.notes]:
        face.note(text)
    if relay is not None:
        relay.attach(loop, face.note)
    summarized = False
    if json_mode:  # every sound scheduled, as a "cue" line (it comes from the player thread)

        def put_cue(line: dict[str, object]) -> None:
            if not summarized:  # the summary is the last line
                face.emit(line)

        def cue_line(rec: CueRecord) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the run is over
                loop.call_soon_threadsafe(put_cue, rec.to_dict())

        session.cue_listeners.append(cue_line)

    def put_log(notice: LogNotice) -> None:
        if not summarized:  # the summary is the last line
            face.say_now(notice.to_dict() if json_mode else f"Log: {notice.text}")
            face.log_state(notice.state)

    def log_listener(notice: LogNotice) -> None:
        """On the log writer's thread: the line is printed on the loop."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the run is over
            loop.call_soon_threadsafe(put_log, notice)

    if session.log is not None:  # the log's writer says when it waits and catches up
        session.log.listeners.append(log_listener)
    sensor = session.sensor
    if sensor is not None:
        sensor.subscribe(face.on_coach)
    if sensor is not None:
        attached = sensor

        def sensor_report() -> None:
            nonlocal report
            if json_mode:
                face.emit(attached.summary())
            report = loop.call_later(sensor_report_s, sensor_report)

        report = loop.call_later(sensor_report_s, sensor_report)
    for sig, why in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "terminated (SIGTERM)")):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, functools.partial(runner.abort, why, interrupted=True))
    reading = False
    try:
        fd = inp.fileno()
    except (AttributeError, OSError, ValueError):
        fd = -1
    with _cbreak(inp) if fd >= 0 else contextlib.nullcontext(False) as single_keys:
        buf = b""

        def on_input() -> None:
            nonlocal buf, reading
            try:
                data = os.read(fd, 1024)
            except OSError:
                data = b""
            if not data:  # end of input: nobody can confirm an action any more
                loop.remove_reader(fd)
                reading = False
                runner.auto_confirm_actions(10.0)
                face.note("No more input: action steps will continue by themselves.")
                return
            if single_keys:
                text = data.decode("utf-8", "replace")
                if text.startswith("\x1b["):
                    face.handle_key(text[:3])
                    return
                for ch in text:
                    face.handle_key(ch)
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                face.handle_key(line.decode("utf-8", "replace").strip().lower())

        if fd >= 0:
            try:
                loop.add_reader(fd, on_input)
                reading = True
            except (OSError, ValueError, NotImplementedError):
                runner.auto_confirm_actions(10.0)
        else:
            runner.auto_confirm_actions(10.0)
        try:
            await asyncio.to_thread(session.wait_ready)  # sounds rendered before the start
            record = await runner.run()
        finally:
            if report is not None:
                report.cancel()
            if sensor is not None:
                sensor.close()
            if reading:
                loop.remove_reader(fd)
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
    deadline = loop.time() + LOG_WAIT_S
    while not face.all_written and not face.log_waiting and loop.time() < deadline:
        face.changed.clear()  # a commit under way: its confirmation, or a word of the log
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(face.changed.wait(), deadline - loop.time())
    if not face.all_written and session.log is not None:
        # What the log cannot take goes to a recovery file (said by a `log` line); then
        # those steps are safe too, and their lines are printed.
        await asyncio.to_thread(session.log.close)
    face.release()
    player = session.player
    if record.state is State.FINISHED and player is not None:  # a stopped run is cut short
        # One deadline: the player's close (Session.close) waits only for what is left.
        await asyncio.to_thread(player.play_out, CUES_WAIT_S)
    if relay is not None:  # the summary is the last line: later notes go to stderr
        relay.detach()
    verdicts: Mapping[int, Verdict] = session.verdicts
    summarized = True
    if session.log is not None:
        session.log.listeners.remove(log_listener)
    if json_mode:
        data = summary_dict(record)
        for step in cast("list[dict[str, Any]]", data["steps"]):
            v = verdicts.get(step["step"])
            if v is not None:
                step.update(verdict=v.kind.value, under_pressure_s=round(v.under_pressure_s, 2))
        if sensor is not None:
            data["sensor"] = sensor.summary()
        face.emit(data)
    else:
        for line in summary_lines(record):
            face.emit(line)
        for i, v in sorted(verdicts.items()):
            face.emit(f"  Press at step {i + 1}: {v.words()}")
    return record

"""Session assembly: the one place that turns `RunOptions` into a run with its attachments.

Both faces come here. The CLI makes `RunOptions` from argv, Home makes them from the
remembered settings; neither face sees the other's input, and the TUI never sees
argparse. `assemble()` builds, in this order (tested in tests/functional/test_session.py):

1. the runner (routine, clock);
2. the sensor attachment, the runner's *judge*: a press's STEP_FINISHED leaves it
   carrying the verdict and the force trace;
3. the session log's recorder, the first listener: the step, verdict and trace are
   handed to the log's writer (in memory; its thread commits them) before anyone hears
   that the step ended;
4. the cue player, for the runner's events and the coach's;
5. the sensor's announcer, which tells the coach's listeners (the cue player first,
   then the face) the verdict;

and the face (plain lines or the Routine screen) subscribes last, when it starts; the
publisher (app/publish, for `hiphook watch` and `serve`) subscribes in `Session.start`.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.clock import Clock, MonotonicClock, ScaledClock
from app.core.engine import Event, EventKind
from app.core.pressure import Verdict
from app.core.progression import RunEvidence, by_evidence
from app.core.routine import Routine, RoutineError, builtin_names, load_routine
from app.runner import SessionRunner
from app.settings import Settings

if TYPE_CHECKING:
    from app.cues import CuePlayer
    from app.cues.players import CueRecord
    from app.publish import Publisher
    from app.sensor.attachment import SensorAttachment
    from app.store.recorder import SessionRecorder
    from app.store.store import Store
    from app.store.writer import LogNotice, LogOutcome, LogWriter

Note = Callable[[str], None]
# How the faces hear about the log (waiting, caught up, saved to a recovery file); called
# on the log writer's thread, so a face hops to its own loop.
LogListener = Callable[["LogNotice"], None]
SensorFactory = Callable[[SessionRunner], "SensorAttachment | None"]


@dataclass(frozen=True)
class RunOptions:
    """How to run: what `hiphook run` takes as flags and Home takes from the settings.

    `None` means "the remembered choice" (routine, side, cues).
    """

    routine: str | None = None  # a built-in name or a .toml file
    side: str | None = None
    time_scale: float = 1.0
    cues: str | None = None
    sensor: str = "none"  # none, sim, auto, a port or a pyserial URL
    db: str | None = None
    hold_only: bool = False
    sim_scenario: str = "steady"
    check_in: bool = False  # ask about pain before the run (Home always asks)
    pacing: bool | None = None  # pacing words in long presses (default on)
    volume: int | None = None  # 0..100 (default 100)
    voice: str | None = None  # the speech engine's voice (default its own)
    baud: int | None = 115200  # the sensor's serial speed; None: find it (`--baud auto`)
    diy_scale: float = 1.0  # newtons per unit a DIY sensor prints when it names no unit

    @property
    def demo(self) -> bool:
        """A time-scaled run is a demo: not a real session, never a day done."""
        return self.time_scale != 1

    @property
    def logs(self) -> bool:
        """A demo is logged only where asked to (--db or HIPHOOK_DB), and marked as one."""
        return not self.demo or bool(self.db or os.environ.get("HIPHOOK_DB"))

    def cue_mode(self, settings: Settings, *, quiet: bool = False) -> str:
        """The flag, else the remembered choice, else "auto" ("none" for JSON output)."""
        return self.cues or settings.cues or ("none" if quiet else "auto")

    def clock(self) -> Clock:
        return ScaledClock(self.time_scale) if self.demo else MonotonicClock()

    def sound(self, settings: Settings) -> tuple[bool, float, str | None]:
        """(pacing, volume 0..1, voice): the flags, else the remembered choices."""
        pacing = self.pacing if self.pacing is not None else settings.pacing != "off"
        volume = self.volume
        if volume is None:
            try:
                volume = int(settings.volume or 100)
            except ValueError:  # damaged: settings are only preferences
                volume = 100
        return pacing, max(0, min(100, volume)) / 100, self.voice or settings.voice or None


def remember_sound(options: RunOptions, settings: Settings) -> None:
    """The sound choices given as flags are kept for the next run, as side and routine."""
    if options.pacing is not None:
        settings.pacing = "on" if options.pacing else "off"
    if options.volume is not None:
        settings.volume = str(options.volume)
    if options.voice:
        settings.voice = options.voice


def demo_note(options: RunOptions) -> str | None:
    """What to tell the user about a time-scaled run, if it is one."""
    if not options.demo:
        return None
    logged = (
        "it is logged as a demo, and never counts toward your streak"
        if options.logs
        else "it is not written to your session log "
        "(give --db to log it somewhere, marked as a demo)"
    )
    return f"Time scale ×{options.time_scale:g}: for demos and development only; {logged}."


# ---------------------------------------------------------------------- routine
FALLBACK_ROUTINE = "daily"


def routine_source(name_or_path: str) -> str:
    """How a routine is remembered: a built-in by its name, a file by its absolute path."""
    if name_or_path in builtin_names():
        return name_or_path
    return str(Path(name_or_path).expanduser().absolute())


def try_routine(source: str) -> tuple[Routine | None, str | None]:
    """A routine by its source, loaded; or None and why not, in words that follow the
    source's name ("cannot be used: ..."). Reads files: not on the event loop."""
    try:
        return load_routine(source), None
    except RoutineError as exc:
        if source not in builtin_names() and not Path(source).exists():
            return None, "it is not there any more (moved or deleted?)"
        return None, str(exc).removeprefix(source).lstrip(":, ") or str(exc)


def remembered_routine(remembered: str) -> tuple[Routine, str | None]:
    """The remembered routine (a built-in's name or a file's path); when it cannot be
    used, the built-in daily and why the remembered one cannot. The choice itself is
    kept, so a file that comes back, or is mended, is used again."""
    routine, why = try_routine(remembered)
    if routine is not None:
        return routine, None
    return load_routine(FALLBACK_ROUTINE), why


def prepare_routine(
    options: RunOptions,
    settings: Settings,
    ask: Callable[[], str | None] | None,
    evidence: Callable[[str], Sequence[RunEvidence] | None] | None = None,
) -> tuple[Routine, str | None, list[str]]:
    """Resolve routine, side and progression, and remember the choices in `settings`.

    `evidence(routine_name)` (blocking: it reads the log) gives the runs so far (None: the
    log cannot be read); with them a routine's presses step up by app.core.progression's
    evidence rule, without them by the calendar. Raises RoutineError (a bad routine) or
    ValueError (no side).
    """
    notes: list[str] = []
    if options.routine:
        routine = load_routine(options.routine)
    else:
        routine, why = remembered_routine(settings.routine)
        if why is not None:
            notes.append(
                f"The remembered routine {settings.routine} cannot be used: {why}. "
                f"Using the built-in {FALLBACK_ROUTINE!r} routine instead."
            )
    side = options.side or settings.side
    if routine.sided and side is None:
        side = ask() if ask else None
        if side is None:
            raise ValueError("which hip is tight? Give --side left or --side right")
    runs = None
    if routine.progression is not None and evidence is not None:
        runs = evidence(routine.name)
        if runs is None:
            notes.append("The log cannot be read for the progression; the calendar decides.")
    if routine.progression is not None and runs is not None:
        decision = by_evidence(routine.progression, runs, dt.date.today())
        routine = routine.with_press_seconds(decision.press_s)
        notes.append(f"Progression by evidence: {decision.reason}")
    elif routine.progression is not None:
        today = dt.date.today()
        try:
            started = dt.date.fromisoformat(settings.beginner_started or "")
        except ValueError:  # never set, or damaged: the progression starts today
            started = today
            settings.beginner_started = today.isoformat()
        days = max(0, (today - started).days)
        routine = routine.at_day(days)
        press = routine.progression.press_seconds(days) if routine.progression else 0
        notes.append(f"Beginner progression: day {days + 1}, presses of {press:g} s.")
    if side is not None and routine.sided:
        routine = routine.for_side(side)
        notes.append(f"Tight side: {side} (change with --side).")
    if options.routine:  # the routine last run is remembered, a file by its full path
        settings.routine = routine_source(options.routine)
    if side is not None:
        settings.side = side
    return routine, side, notes


# ---------------------------------------------------------------------- the log
def recovered_note(rec: dict[str, object]) -> str:
    return (
        f"Your {rec['routine']} session of {rec['local_day']} was cut off before it ended "
        f"({rec['steps_recorded']} steps saved); it is logged as interrupted."
    )


class SessionLog:
    """The session log for this process: opened once (the TUI does it on a thread after
    the first paint, since the database layer takes most of a second to import), then
    one recorder per run."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.store: Store | None = None
        self._ready = threading.Event()
        # The one writer of the log (its own thread), and who hears what it says.
        self.writer: LogWriter | None = None
        self.listeners: list[LogListener] = []
        self.outcome: LogOutcome | None = None
        # Why a run gets no recorder though the log was asked for (the open failed, or
        # did not finish in time), for the run to say that it is not being saved.
        self.problem: str | None = None
        # How long a run's assembly waits for the open (its thread's, never the loop's):
        # long, since the open competes with Home's first frames for the CPU.
        self.open_wait_s = 60.0

    def _notice(self, notice: LogNotice) -> None:
        for listener in list(self.listeners):
            listener(notice)

    def close(self) -> LogOutcome | None:
        """Blocking, once, when the process is done with the log: what is not written
        yet gets up to 3 s, then goes to a recovery file (`outcome` says which)."""
        if self.writer is not None and self.outcome is None:
            self.outcome = self.writer.close()
        return self.outcome

    @property
    def incomplete(self) -> bool:
        """Some steps could not be written to the log (they are in a recovery file)."""
        return self.outcome is not None and not self.outcome.complete

    def open(self, note: Note) -> None:
        """Open (migrating) and recover cut-off runs; raises StoreError when it cannot."""
        try:
            if not self.options.logs:
                return
            from app.store import open_store  # lazy: SQLAlchemy (~1 s) only for a logged run

            self.store = open_store(self.options.db)
            for rec in self.store.recover_interrupted():
                note(recovered_note(rec))
            from app.store.writer import LogWriter, find_recovery_files  # lazy: as open_store

            for path in find_recovery_files(self.options.db):
                note(
                    f"A run that the log could not take is saved in {path}; add it to "
                    f"the log with `hiphook import {path}`."
                )
            self.writer = LogWriter(self.store, on_notice=self._notice)
        except Exception as exc:
            self.problem = str(getattr(exc, "message", None) or exc)
            raise
        finally:
            self._ready.set()

    def recorder(
        self,
        runner: SessionRunner,
        pain_before: int | None,
        wait_s: float | None = None,
        sensor: str | None = None,
    ) -> SessionRecorder | None:
        """A recorder for one run, or None (`problem` says why, unless nothing is logged).
        Blocking: waits up to `wait_s` (None: `open_wait_s`) for the log to open.
        `sensor`: the run's sensor when it is not the log's options' (Home's choice)."""
        wait = self.open_wait_s if wait_s is None else wait_s
        if not self._ready.wait(wait):
            self.problem = f"the session log did not open within {wait:g} s"
            return None
        if self.store is None:
            return None
        from app.store.recorder import SessionRecorder  # lazy: as open_store

        used = sensor if sensor is not None else self.options.sensor
        spec = None if used in (None, "none") else str(used)
        return SessionRecorder(
            self.store,
            runner.engine,
            runner.routine,
            side=runner.side,
            sensor=spec,
            pain_before=pain_before,
            demo=self.options.demo,
            writer=self.writer,
        )


# ---------------------------------------------------------------------- the sensor
NO_SENSOR_FOUND = (
    "No sensor found (`hiphook sensor scan --all` lists the ports): the presses are timed as usual."
)


def make_sensor(
    options: RunOptions, runner: SessionRunner, settings: Settings, notes: list[str]
) -> SensorAttachment | None:
    """The sensor attachment for `options.sensor` (not started: that needs the loop).

    Raises ValueError with a message for a port that does not exist.
    """
    if options.sensor in (None, "none"):
        if options.hold_only:
            notes.append("--hold-only needs a sensor; presses are timed as usual.")
        return None
    # lazy: pyserial and the link (~80 ms), for a run with a sensor only
    from app.sensor.attachment import SensorAttachment  # lazy: see above
    from app.sensor.spec import open_error_message, parse_sensor_spec  # lazy: as above

    spec = parse_sensor_spec(str(options.sensor)).value  # ValueError: what was expected
    if spec == "none":
        return None
    if spec.startswith("/") and not os.path.exists(spec):
        missing = FileNotFoundError(2, "No such file or directory", spec)
        raise ValueError(open_error_message(spec, missing))
    if spec == "auto":
        from app.sensor import find_auto  # lazy: as SensorAttachment

        found = find_auto()
        if found is None:
            notes.append(NO_SENSOR_FOUND)
            return None
        spec = found
    band = settings.pressure_band()
    if not band.calibrated:
        notes.append(
            f"The sensor is not calibrated: using a default target of {band.low:.0f}–"
            f"{band.high:.0f} N (run `hiphook sensor calibrate` to fit it to you)."
        )
    return SensorAttachment(
        runner,
        spec,
        band=band,
        hold_only=options.hold_only,
        scenario=options.sim_scenario,
        time_scale=options.time_scale,
        baud=options.baud,
        diy_scale_cn=options.diy_scale * 100,
    )


# ---------------------------------------------------------------------- one run
@dataclass
class Session:
    """One assembled run: the runner and what is attached to it."""

    runner: SessionRunner
    sensor: SensorAttachment | None = None
    recorder: SessionRecorder | None = None
    player: CuePlayer | None = None
    # Offers the run to `hiphook watch` / `serve` (app/publish), from start() to its end.
    publisher: Publisher | None = None
    notes: list[str] = field(default_factory=list)
    # The process's session log (its writer says when it waits and catches up).
    log: SessionLog | None = None
    # The verdicts of the presses as they count (the last attempt's), from the events.
    verdicts: dict[int, Verdict] = field(default_factory=dict)
    # Who hears each sound the cue player schedules (on the player's thread).
    cue_listeners: list[Callable[[CueRecord], None]] = field(default_factory=list)
    _closing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _closed: bool = False
    _opened: bool = False

    def _on_cue(self, rec: CueRecord) -> None:
        for listener in list(self.cue_listeners):
            listener(rec)

    def wait_ready(self) -> None:
        """Off the loop, before the run: every sound rendered, the stream open."""
        if self.player is not None:
            self.player.wait_ready()

    def keep_verdicts(self, ev: Event) -> None:
        if ev.kind is EventKind.STEP_FINISHED:
            if ev.verdict is not None:
                self.verdicts[ev.step] = ev.verdict
            else:
                self.verdicts.pop(ev.step, None)

    def open(self, loop: Any) -> None:
        """The files and devices of `start`: the watchers' socket is bound and the sensor's
        reader started (its reports go to `loop`, thread-safely). From any thread, once,
        before `start`; the full screen calls it off the loop, and `start` calls it when
        nobody did. A sensor that cannot open is left out, with a note, and the presses
        are timed as usual; a socket that cannot be bound, too."""
        if self._opened:
            return
        self._opened = True
        if self.publisher is not None:
            why = self.publisher.bind()
            if why is not None:
                self.notes.append(f"Not shown to `hiphook watch`: {why}.")
                self.publisher = None
        if self.sensor is None:
            return
        try:
            self.sensor.open(loop)
        except (ValueError, OSError) as exc:
            self.notes.append(f"Sensor not used ({exc}); the presses are timed as usual.")
            if self.recorder is not None:
                self.recorder.note_sensor(f"sensor not used: {exc}")
            self.sensor.close()
            self.sensor = None

    def start(self, loop: Any) -> None:
        """Start what needs the loop (the sensor's ticker, the watchers' listener), after
        `open` (called here if it was not). The run is offered to watchers from here on
        (or a note says why not)."""
        self.open(loop)
        if self.publisher is not None:
            why = self.publisher.start(loop)
            if why is not None:
                self.notes.append(f"Not shown to `hiphook watch`: {why}.")
                self.publisher = None
        if self.sensor is None:
            return
        self.sensor.start(loop)
        if self.publisher is not None:
            self.sensor.subscribe(self.publisher.on_coach)

    async def aclose_publisher(self) -> None:
        """On the loop, after the run: let watchers read the last lines (up to 1 s)."""
        if self.publisher is not None:
            await self.publisher.aclose()

    def finish(self, pain_after: int | None) -> None:
        """What is asked after the run goes to the log."""
        if self.recorder is not None:
            self.recorder.finish(pain_after=pain_after)

    def save_note(self, text: str) -> None:
        """The note typed at the summary, to the log. Blocking: call it off the loop.
        Raises RuntimeError with the log's message when it cannot be written."""
        if self.recorder is None:
            raise RuntimeError("this run is not in a session log")
        if not self.recorder.started:
            raise RuntimeError("the run could not be started in the log")
        failed = len(self.recorder.errors)
        self.recorder.finish(notes=text)
        problem = self.recorder.flush()  # the log's writer writes it on its thread
        if problem is not None:
            raise RuntimeError(problem)
        if len(self.recorder.errors) > failed:
            raise RuntimeError(self.recorder.errors[-1])

    def close(self) -> None:
        """Blocking (the last cue may be let finish, up to 3 s): call it off the loop.
        Once only, whoever calls it first (the app after a run, or at exit)."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
        if self.publisher is not None:
            self.publisher.close()
        if self.sensor is not None:
            self.sensor.close()
        if self.player is not None:
            self.player.close()


def _said_and_logged(note: Note | None, recorder: SessionRecorder | None) -> Callable[[str], None]:
    """The sensor's problem (on the loop): to the face's note, and to the run's log row."""

    def tell(message: str) -> None:
        if recorder is not None:
            recorder.note_sensor(message)
        if note is not None:
            note(message)

    return tell


def assemble(
    options: RunOptions,
    routine: Routine,
    side: str | None,
    *,
    clock: Clock,
    settings: Settings,
    log: SessionLog | None = None,
    pain_before: int | None = None,
    ring: Callable[[], None] | None = None,
    note: Note | None = None,
    quiet: bool = False,
    sensor_factory: SensorFactory | None = None,
    strict: bool = True,
    publish: bool = True,
) -> Session:
    """Build one run in the order the module's docstring gives.

    Sensor options that cannot work raise ValueError (with a message) when `strict`,
    else the run goes on without the sensor and says why in `notes`.
    `sensor_factory` replaces `make_sensor` (tests feed a sensor by hand).
    `publish`: offer the run to watchers (app/publish) once it starts.
    """
    runner = SessionRunner(routine, clock, side=side)
    session = Session(runner)
    sensor_problem = None  # why the sensor is left out, for the log
    if sensor_factory is not None:
        session.sensor = sensor_factory(runner)
    else:
        try:
            session.sensor = make_sensor(options, runner, settings, session.notes)
        except ValueError as exc:
            if strict:
                raise
            session.notes.append(f"Sensor not used: {exc}")
            sensor_problem = str(exc)
        if NO_SENSOR_FOUND in session.notes:
            sensor_problem = "no sensor found"
    if log is not None:
        session.log = log
        session.recorder = log.recorder(runner, pain_before, sensor=options.sensor)
        if session.recorder is None and log.problem is not None:
            session.notes.append(f"This run is not being saved: {log.problem.rstrip('.')}.")
        if session.recorder is not None:
            runner.subscribe(session.recorder)
            if sensor_problem is not None:
                session.recorder.note_sensor(sensor_problem)
    runner.subscribe(session.keep_verdicts)
    mode = options.cue_mode(settings, quiet=quiet)
    if mode != "none":
        from app.cues import attach_cues  # lazy: NumPy and the sound stack (~70 ms), with cues only

        pacing, volume, voice = options.sound(settings)
        session.player = attach_cues(
            runner,
            mode,
            ring=ring,
            note=note,
            pacing=pacing,
            volume=volume,
            voice=voice,
            on_cue=session._on_cue,
        )
        if session.sensor is not None:
            session.sensor.subscribe(session.player.coach_cue)
    if session.sensor is not None:
        runner.subscribe(session.sensor.announce)
        # a port that will not open is said at the start, and kept with the run in the log
        session.sensor.on_problem = _said_and_logged(note, session.recorder)
    if publish:
        try:
            from app.publish import Publisher  # lazy: sockets and threads, a published run only

            session.publisher = Publisher(runner, time_scale=options.time_scale)
        except BaseException:  # the cue player is made (with sound, its threads run): closed
            session.close()
            raise
    return session

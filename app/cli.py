"""The `hiphook` command. Heavy layers (Textual, the database) load only when used."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from app.core.routine import SIDES, Routine, RoutineError, StepKind, builtin_names, load_routine
from app.runner import SessionRunner, format_clock
from app.settings import Settings

if TYPE_CHECKING:
    from app.sensing import SensorAttachment

EXIT_BAD_INPUT = 2
SIM_SCENARIOS = ("steady", "weak", "tiring", "lifts", "unplug", "noise", "diy")


def _err(msg: str) -> None:
    print(f"hiphook: {msg}", file=sys.stderr)


def _time_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.01 <= value <= 10_000:
        raise argparse.ArgumentTypeError("time scale must be between 0.01 and 10000")
    return value


# ---------------------------------------------------------------------- routine show
def _routine_json(r: Routine) -> dict[str, object]:
    return {
        "name": r.name,
        "title": r.title,
        "version": r.version,
        "steps": [
            {
                "kind": s.kind.value,
                "name": s.name,
                "side": s.side,
                "seconds": s.estimate_s,
                "reps": s.reps,
                "push_s": s.push_s,
                "relax_s": s.relax_s,
                "instruction": s.instruction,
            }
            for s in r.steps
        ],
        "total_s": r.total_s,
    }


def cmd_routine_show(args: argparse.Namespace) -> int:
    try:
        r = load_routine(args.routine or Settings.load().routine)
    except RoutineError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(_routine_json(r), indent=2))
        return 0
    print(f"{r.title} ({r.name}, version {r.version})")
    if r.description:
        print(r.description)
    print()
    for i, s in enumerate(r.steps, start=1):
        side = f" [{s.side} side]" if s.side else ""
        if s.kind is StepKind.HOLDS:
            length = f"{s.reps} × ({s.push_s:g} s push + {s.relax_s:g} s relax)"
        elif s.kind is StepKind.REPS:
            length = f"{s.reps} × ({s.push_s:g} s up + {s.relax_s:g} s down)"
        elif s.kind is StepKind.ACTION:
            length = f"waits for you (about {s.seconds:g} s)"
        else:
            length = f"{format_clock(s.seconds)}"
        print(f"{i:>2}. {s.name}{side} — {length}")
        print(f"    {s.instruction}")
    print()
    print(f"Total: about {format_clock(r.total_s)} ({r.total_s:g} s)")
    if r.progression:
        p = r.progression
        print(
            f"Progression: presses start at {p.start_s:g} s and gain {p.add_s:g} s every "
            f"{p.every_days} days, up to {p.max_s:g} s."
        )
    if r.sided:
        print("'tight' means your tight side (usually the side with ankle pain).")
    return 0


def cmd_routine_list(args: argparse.Namespace) -> int:
    for name in builtin_names():
        r = load_routine(name)
        print(f"{name:<10} {format_clock(r.total_s):>6}  {r.title}")
    return 0


# ---------------------------------------------------------------------- run
def _ask_side() -> str | None:
    if not sys.stdin.isatty():
        return None
    while True:
        try:
            answer = input("Which hip is tight (usually the side with ankle pain)? [l/r] ")
        except EOFError:
            return None
        a = answer.strip().lower()
        if a in ("l", "left"):
            return "left"
        if a in ("r", "right"):
            return "right"


def prepare_routine(
    args: argparse.Namespace, settings: Settings, ask: Callable[[], str | None] | None
) -> tuple[Routine, str | None, list[str]]:
    """Resolve routine, side and progression; raises RoutineError or ValueError to refuse."""
    notes: list[str] = []
    name = args.routine or settings.routine
    if not args.routine and name not in builtin_names():
        notes.append(f"The remembered routine {name!r} is not a built-in; using daily.")
        name = settings.routine = "daily"
    routine = load_routine(name)
    side = args.side or settings.side
    if routine.sided and side is None:
        side = ask() if ask else None
        if side is None:
            raise ValueError("which hip is tight? Give --side left or --side right")
    if routine.progression is not None:
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
    if args.routine in builtin_names():
        settings.routine = args.routine  # a file is used as given, not remembered
    if side is not None:
        settings.side = side
    return routine, side, notes


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    try:
        routine, side, notes = prepare_routine(args, settings, _ask_side)
    except RoutineError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    except ValueError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    problem = settings.save()
    if problem:
        notes.append(problem)
    if not args.plain:
        return _run_tui(args, routine, side, notes)
    from app.core.clock import Clock, MonotonicClock, ScaledClock
    from app.plain import run_plain

    clock: Clock = MonotonicClock()
    if args.time_scale and args.time_scale != 1:
        clock = ScaledClock(args.time_scale)
        notes.append(
            f"Time scale ×{args.time_scale:g}: for demos and development only, not a real session."
        )
    runner = SessionRunner(routine, clock, side=side)
    try:
        sensor = make_sensor(args, runner, settings, notes)
    except ValueError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    # The log subscribes next (after the sensor's judge), so a step is committed with its
    # verdict before any face hears that it ended.
    code, recorder = attach_session_log(args, runner, routine, side, notes)
    if code:
        return code
    if sensor is not None:
        sensor.recorder = recorder
    notes.append("Keys: space/p pause-resume, n skip, b back, Enter confirm, q quit.")
    reasons: list[str] = []
    runner.subscribe(lambda ev: reasons.append(ev.reason) if ev.kind.value == "aborted" else None)
    cues = args.cues or settings.cues or ("none" if args.json else "auto")
    player = None
    if cues != "none":
        from app.cues import attach_cues

        player = attach_cues(runner, cues, ring=_terminal_bell,
                             note=lambda text: print(f"hiphook: {text}", file=sys.stderr))
        if sensor is not None:
            sensor.listeners.append(player.coach_cue)
    try:
        asyncio.run(run_plain(runner, json_mode=args.json, notes=notes, sensor=sensor))
    finally:
        if player is not None:
            player.close()
    return 130 if any(r.startswith("interrupted") for r in reasons) else 0


def _terminal_bell() -> None:
    sys.stderr.write("\a")
    sys.stderr.flush()


def recovered_note(rec: dict[str, object]) -> str:
    return (
        f"Your {rec['routine']} session of {rec['local_day']} was cut off before it ended "
        f"({rec['steps_recorded']} steps saved); it is logged as interrupted."
    )


def attach_session_log(
    args: argparse.Namespace, runner: SessionRunner, routine: Routine, side: str | None,
    notes: list[str],
) -> tuple[int, Any]:
    """Open the log (migrating it) and record this run as it goes.

    Returns (exit code, recorder); the recorder is None when nothing is logged.
    """
    if args.time_scale != 1 and not (args.db or os.environ.get("HIPHOOK_DB")):
        notes.append("A time-scaled run is a demo: it is not written to your session log "
                     "(give --db to log it somewhere).")
        return 0, None
    from app.store import StoreError, open_store
    from app.store.recorder import SessionRecorder

    try:
        store = open_store(args.db)
        recovered = store.recover_interrupted()
    except StoreError as exc:
        _err(exc.message)
        return exc.exit_code, None
    notes.extend(recovered_note(r) for r in recovered)
    sensor = None if args.sensor in (None, "none") else str(args.sensor)
    recorder = SessionRecorder(store, runner.engine, routine, side=side, sensor=sensor)
    runner.subscribe(recorder)
    return 0, recorder


def make_sensor(
    args: argparse.Namespace, runner: SessionRunner, settings: Settings, notes: list[str]
) -> SensorAttachment | None:
    """The sensor attachment for --sensor (not yet started: that needs the loop)."""
    if args.sensor in (None, "none"):
        if getattr(args, "hold_only", False):
            notes.append("--hold-only needs a sensor; presses are timed as usual.")
        return None
    from app.sensing import SensorAttachment

    spec = str(args.sensor)
    if spec.startswith("/") and not os.path.exists(spec):
        raise ValueError(f"no such port: {spec} (see `hiphook sensor scan`)")
    if spec == "auto":
        from app.sensor import find_auto

        found = find_auto()
        if found is None:
            notes.append("No sensor found (`hiphook sensor scan --all` lists the ports): "
                          "the presses are timed as usual.")
            return None
        args.sensor = found
    band = settings.pressure_band()
    if not band.calibrated:
        notes.append(
            f"The sensor is not calibrated: using a default target of {band.low:.0f}–"
            f"{band.high:.0f} N (run `hiphook sensor calibrate` to fit it to you)."
        )
    return SensorAttachment(
        runner, args.sensor, band=band, hold_only=bool(getattr(args, "hold_only", False)),
        scenario=getattr(args, "sim_scenario", "steady"), time_scale=args.time_scale,
    )


class TuiWiring:
    """What the full-screen coach attaches to each run: the sensor, then the session log.

    The log is opened on a thread after the first paint (the database layer takes most
    of a second to import); a run started before that waits for it at most a few seconds.
    """

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.store: Any = None
        self.recorder: Any = None
        self.say: Callable[[str], None] = lambda text: None
        self.reminders: Any = None
        self._ready = threading.Event()

    def open_log(self, say: Callable[[str], None]) -> None:
        self.say = say
        try:
            if self.args.time_scale != 1 and not (self.args.db or os.environ.get("HIPHOOK_DB")):
                say("A time-scaled run is a demo: it is not written to your session log.")
                return
            from app.store import StoreError, open_store

            try:
                self.store = open_store(self.args.db)
                for rec in self.store.recover_interrupted():
                    say(recovered_note(rec))
            except StoreError as exc:
                say(f"Session log unavailable: {exc.message} Runs will not be saved.")
        finally:
            self._ready.set()
        if self.store is not None:
            self._start_reminders(say)

    def _start_reminders(self, say: Callable[[str], None]) -> None:
        """While the coach is open, the daily reminder shows in it (and the service
        stays quiet)."""
        try:
            from app.remind.inapp import InAppReminders

            self.reminders = InAppReminders(lambda title, body: say(f"{title}: {body}"),
                                            db=self.args.db)
            self.reminders.start()
        except Exception as exc:  # noqa: BLE001 - a reminder must never stop the coach
            say(f"The in-app reminder is off: {exc}")
            self.reminders = None

    def close(self) -> None:
        if self.reminders is not None:
            self.reminders.stop()

    def attach_sensor(self, runner: SessionRunner, pain: int | None) -> None:
        notes: list[str] = []
        try:
            sensor = make_sensor(self.args, runner, self.settings, notes)
            if sensor is not None:
                sensor.start(asyncio.get_running_loop())
        except (ValueError, OSError) as exc:
            notes.append(f"Sensor not used: {exc}")
        for text in notes:
            self.say(text)
        runner.on_listener_error = self.say

    def attach_log(self, runner: SessionRunner, pain: int | None) -> None:
        self._ready.wait(5.0)
        if self.store is None:
            return
        from app.store.recorder import SessionRecorder

        spec = None if self.args.sensor in (None, "none") else str(self.args.sensor)
        self.recorder = SessionRecorder(self.store, runner.engine, runner.routine,
                                        side=runner.side, sensor=spec, pain_before=pain)
        runner.subscribe(self.recorder)
        if runner.sensor is not None:
            runner.sensor.recorder = self.recorder

    def outcome(self, outcome: Any) -> None:
        if self.recorder is not None:
            self.recorder.finish(pain_after=outcome.pain_after)


def _run_tui(args: argparse.Namespace, routine: Routine | None, side: str | None,
             notes: Sequence[str] = ()) -> int:
    try:
        from app.tui.app import run_tui
    except ImportError as exc:
        _err(f"the full-screen coach is not available ({exc}); use: hiphook run --plain")
        return 1
    wiring = TuiWiring(args, Settings.load())
    try:
        return run_tui(routine=routine, side=side, args=args,
                       attachments=[wiring.attach_sensor, wiring.attach_log],
                       on_outcome=wiring.outcome, background=wiring.open_log, notes=notes,
                       check_in=routine is None or bool(getattr(args, "check_in", False)))
    finally:
        wiring.close()


def cmd_home(args: argparse.Namespace) -> int:
    return _run_tui(args, None, None)


# ---------------------------------------------------------------------- parser
def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--routine", metavar="NAME|FILE",
                   help=f"a built-in ({', '.join(builtin_names())}) or a .toml file")
    p.add_argument("--side", choices=SIDES, help="your tight hip (remembered)")
    p.add_argument("--time-scale", type=_time_scale, default=1.0, metavar="X",
                   help="run X times faster (demos and development only)")
    p.add_argument("--cues", choices=["auto", "none", "bell", "tone", "voice"], default=None,
                   help="how cues are played (default: best available)")
    p.add_argument("--sensor", default="none", metavar="none|sim|auto|PATH|URL",
                   help="force sensor: none, sim (built-in simulator), auto, a port or URL")
    p.add_argument("--db", metavar="PATH|URL", help="session log file (or SQLAlchemy URL)")
    p.add_argument("--hold-only", action="store_true",
                   help="with a sensor: a press counts down only while it is held")
    p.add_argument("--sim-scenario", default="steady", choices=SIM_SCENARIOS,
                   help="with --sensor sim: how the simulated user presses")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hiphook",
        description="A coach for the daily hip-flexor release routine. "
        "Run with no command to open the coach.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a routine now")
    add_run_options(run)
    run.add_argument("--plain", action="store_true", help="one line per event, no full screen")
    run.add_argument("--json", action="store_true", help="with --plain: one JSON object per line")
    run.add_argument("--check-in", action="store_true",
                     help="ask about ankle/foot pain before starting (Home always asks)")
    run.set_defaults(func=cmd_run)

    routine = sub.add_parser("routine", help="look at routines")
    rsub = routine.add_subparsers(dest="routine_command", metavar="ACTION", required=True)
    show = rsub.add_parser("show", help="list a routine's steps and total time")
    show.add_argument("routine", nargs="?", metavar="NAME|FILE")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_routine_show)
    lst = rsub.add_parser("list", help="the built-in routines")
    lst.set_defaults(func=cmd_routine_list)

    for module in ("app.sensor.cli", "app.store.cli", "app.remind.cli"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        # `hiphook` alone opens the coach's Home screen.
        for name, default in (("time_scale", 1.0), ("cues", None), ("sensor", "none"),
                              ("db", None), ("routine", None), ("side", None),
                              ("hold_only", False), ("sim_scenario", "steady")):
            setattr(args, name, getattr(args, name, default))
        return cmd_home(args)
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130

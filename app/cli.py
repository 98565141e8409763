"""The `hiphook` command. Heavy layers (Textual, the database) load only when used."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from app.core.routine import SIDES, Routine, RoutineError, StepKind, builtin_names, load_routine
from app.sensor.baud import add_port_options

if TYPE_CHECKING:
    from app.serve.server import ServeThread
    from app.session import RunOptions
    from app.settings import Settings

# The exit codes, as the README's table lists them (the store's 65-78 are in
# app/store/errors.py; the reminder's in app/remind/cli.py).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NO_RUN = 69  # `hiphook watch --once` and no run to follow (app/watch/app.py)
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM: `kill`, systemd stop, logout
DIST_NAME = "hiphook"
# The module that registers each command, in the order `hiphook --help` lists them after
# `run` and `routine` (cli.py's own). A command line that names one loads only its module
# (tests/functional/test_cli_home.py holds the table to what the modules register).
COMMAND_MODULES = {
    "sensor": "app.sensor.cli",
    "sim": "app.sensor.cli",
    "history": "app.store.cli",
    "export": "app.store.cli",
    "import": "app.store.cli",
    "remind": "app.remind.cli",
    "report": "app.report.cli",
    "docs": "app.docs",
    "completion": "app.completion",
    "watch": "app.watch.cli",
    "serve": "app.serve.cli",
}
OWN_COMMANDS = ("run", "routine")
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


def _volume(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("volume must be between 0 and 100")
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
    # lazy: app.runner brings asyncio and the engine (~0.1 s), which listing steps never runs
    from app.runner import format_clock
    from app.settings import Settings  # lazy: platformdirs and the pressure band, for the handler

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
    from app.runner import format_clock  # lazy: asyncio and the engine, which a list never runs

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


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """The typed options for a run, from `hiphook run`'s flags (or none, for Home)."""
    from app.session import RunOptions  # lazy: a run's layers (asyncio, engine) for a run only

    return RunOptions(
        routine=getattr(args, "routine", None),
        side=getattr(args, "side", None),
        time_scale=getattr(args, "time_scale", 1.0),
        cues=getattr(args, "cues", None),
        sensor=getattr(args, "sensor", "none"),
        db=getattr(args, "db", None),
        hold_only=bool(getattr(args, "hold_only", False)),
        sim_scenario=getattr(args, "sim_scenario", "steady"),
        check_in=bool(getattr(args, "check_in", False)),
        pacing=None if getattr(args, "pacing", None) is None else args.pacing == "on",
        volume=getattr(args, "volume", None),
        voice=getattr(args, "voice", None),
        baud=getattr(args, "baud", 115200),
        diy_scale=getattr(args, "diy_scale", 1.0),
    )


def cmd_run(args: argparse.Namespace) -> int:
    # lazy: a run's layers (asyncio, the engine, pyserial) cost every other command ~0.1 s
    from app.sensor.baud import resolve_baud
    from app.session import prepare_routine, remember_sound
    from app.settings import Settings

    options = options_from_args(args)
    settings = Settings.load()
    evidence = None
    if getattr(args, "progression", "evidence") == "evidence":
        from app.store.progress import evidence_loader  # lazy: the store only when needed

        evidence = evidence_loader(options.db)
    try:
        routine, side, notes = prepare_routine(options, settings, _ask_side, evidence)
    except (RoutineError, ValueError) as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    notes[:0] = settings.problems  # said once: the save below writes them out of the file
    remember_sound(options, settings)
    problem = settings.save()
    if problem:
        notes.append(problem)
    plain = args.plain or args.json  # a full screen finds --baud auto on the reader thread
    if plain and options.baud is None and options.sensor not in ("none", "sim"):
        found = resolve_baud(options.sensor, None, "hiphook run", sys.stderr)
        if found is None:
            return EXIT_FAILED
        options = dataclasses.replace(options, baud=found)
    serving = _start_serving(args) if getattr(args, "serve", False) else None
    if getattr(args, "serve", False) and serving is None:
        return EXIT_FAILED
    try:
        if not args.plain and not args.json:  # --json is for a program: never a full screen
            return _run_tui(options, routine, side, notes)
        return _run_plain(options, settings, routine, side, notes, json_mode=args.json)
    finally:
        if serving is not None:
            serving.stop()


def _start_serving(args: argparse.Namespace) -> ServeThread | None:
    """`--serve`: the URL and QR code first (on stderr under --json, which is for a
    program); before a full screen, a moment to scan it."""
    from app.serve import cli as serve_cli  # lazy: as build_parser's command modules

    full_screen = not args.plain and not args.json
    thread = serve_cli.start_for_run(args, sys.stderr if args.json else sys.stdout)
    if thread is not None and full_screen and sys.stdin.isatty():
        try:
            input("Scan the code with your phone, then press Enter to start. ")
        except EOFError:
            pass
    return thread


def _run_plain(
    options: RunOptions,
    settings: Settings,
    routine: Routine,
    side: str | None,
    notes: list[str],
    *,
    json_mode: bool,
) -> int:
    import asyncio  # lazy: ~0.1 s of start-up that only a run spends

    from app.core.engine import Event, EventKind, RunRecord  # lazy: with asyncio, a run only
    from app.plain import (  # lazy: plain mode only (the TUI never needs it)
        KEYS_HELP,
        NoteRelay,
        run_plain,
    )
    from app.session import SessionLog, assemble, demo_note  # lazy: a run's layers, a run only
    from app.store.errors import EXIT_LOG_INCOMPLETE, StoreError  # lazy: as app.session

    if (demo := demo_note(options)) is not None:
        notes.append(demo)
    log = SessionLog(options)
    try:
        log.open(notes.append)
    except StoreError as exc:
        _err(exc.message)
        return exc.exit_code
    relay = NoteRelay()  # notes from the cue player's thread, to the face in order
    try:
        session = assemble(
            options,
            routine,
            side,
            clock=options.clock(),
            settings=settings,
            log=log,
            ring=_terminal_bell,
            quiet=json_mode,
            note=relay,
        )
    except ValueError as exc:
        relay.close()  # what assembly said before it failed, on stderr
        _err(str(exc))
        return EXIT_BAD_INPUT
    notes.append(KEYS_HELP)
    signalled: list[str] = []

    def hear_abort(ev: Event) -> None:
        if ev.kind is EventKind.ABORTED and ev.reason:
            signalled.append(ev.reason)

    session.runner.subscribe(hear_abort)
    try:

        async def run_then_let_watchers_finish() -> RunRecord:
            try:
                return await run_plain(session, json_mode=json_mode, notes=notes, relay=relay)
            finally:
                await session.aclose_publisher()

        record = asyncio.run(run_then_let_watchers_finish())
    finally:
        session.close()
        relay.close()  # a note still waiting (or said at close) goes to stderr
        outcome = log.close()  # what the log could not take goes to a recovery file
    if outcome is not None and not outcome.complete:
        _err(outcome.message)
    if not record.interrupted:
        return EXIT_LOG_INCOMPLETE if log.incomplete else EXIT_OK
    # app.plain names the signal in the abort's reason ("terminated (SIGTERM)").
    return EXIT_TERMINATED if any("SIGTERM" in r for r in signalled) else EXIT_INTERRUPTED


def _terminal_bell() -> None:
    sys.stderr.write("\a")
    sys.stderr.flush()


def _run_tui(
    options: RunOptions, routine: Routine | None, side: str | None, notes: Sequence[str] = ()
) -> int:
    try:
        from app.tui.app import run_tui  # lazy: Textual costs ~0.2 s, for the full screen only
    except ImportError as exc:
        _err(f"the full-screen coach is not available ({exc}); use: hiphook run --plain")
        return EXIT_FAILED
    return run_tui(options, routine=routine, side=side, notes=notes)


def cmd_home(args: argparse.Namespace) -> int:
    """Open Home; `hiphook --sensor X` makes X Home's remembered sensor first."""
    from app.settings import Settings  # lazy: platformdirs and the pressure band, Home only

    settings = Settings.load()
    chosen = getattr(args, "home_sensor", None)
    if chosen is not None:
        # lazy: the sensor's discovery, for `--sensor` only (Home probes on a thread)
        from app.sensor.spec import parse_sensor_spec

        try:
            spec = parse_sensor_spec(chosen).value
        except ValueError as exc:
            _err(str(exc))
            return EXIT_BAD_INPUT
        settings.sensor = spec
    if settings.problems or chosen is not None:  # problems said once: saved back without
        problem = settings.save()
        if problem:
            _err(problem)
    return _run_tui(options_from_args(args), None, None, settings.problems)


# ---------------------------------------------------------------------- parser
def package_version() -> str:
    """The installed distribution's version (pyproject's), so it is never kept twice."""
    from importlib import metadata  # lazy: ~20 ms (email parsing) that only --version needs

    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked: reading the package metadata costs every
    other command start-up time, so argparse's own action (a string made at build) is not
    used."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(f"hiphook {package_version()}")
        parser.exit()


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--routine",
        metavar="NAME|FILE",
        help=f"a built-in ({', '.join(builtin_names())}) or a .toml file",
    )
    p.add_argument("--side", choices=SIDES, help="your tight hip (remembered)")
    p.add_argument(
        "--time-scale",
        type=_time_scale,
        default=1.0,
        metavar="X",
        help="run X times faster (demos and development only)",
    )
    p.add_argument(
        "--cues",
        choices=["auto", "none", "bell", "tone", "voice"],
        default=None,
        help="how cues are played (default: best available)",
    )
    p.add_argument(
        "--pacing",
        choices=["on", "off"],
        default=None,
        help="pacing words in long presses: halfway, 30 s left (remembered)",
    )
    p.add_argument(
        "--volume",
        type=_volume,
        default=None,
        metavar="0..100",
        help="cue volume in percent (remembered)",
    )
    p.add_argument(
        "--voice",
        metavar="NAME",
        default=None,
        help="the speech engine's voice for spoken cues (remembered)",
    )
    p.add_argument(
        "--sensor",
        default="none",
        metavar="none|sim|auto|PATH|URL",
        help="force sensor: none, sim (built-in simulator), auto, a port or URL",
    )
    p.add_argument("--db", metavar="PATH|URL", help="session log file (or SQLAlchemy URL)")
    p.add_argument(
        "--hold-only",
        action="store_true",
        help="with a sensor: a press counts down only while it is held",
    )
    p.add_argument(
        "--progression",
        choices=("evidence", "calendar"),
        default="evidence",
        help="beginner presses grow when your last runs held up (evidence, the default) "
        "or every week whatever happened (calendar)",
    )
    p.add_argument(
        "--sim-scenario",
        default="steady",
        choices=SIM_SCENARIOS,
        help="with --sensor sim: how the simulated user presses",
    )
    _add_port_options(p)


def _add_port_options(p: argparse.ArgumentParser) -> None:
    """`--baud` and `--diy-scale`, as every sensor command has them."""
    add_port_options(p)


def _add_home_options(parser: argparse.ArgumentParser, version: Any = _VersionAction) -> None:
    """The options of `hiphook` itself (Home), before any command."""
    parser.add_argument("-V", "--version", action=version)
    parser.add_argument(
        "--sensor",
        dest="home_sensor",
        metavar="none|sim|auto|PATH|URL",
        help="the force sensor Home uses (remembered): none, sim, auto, a port or URL",
    )
    _add_port_options(parser)


class _NotHomeOnly(Exception):
    """The command line is more than Home's options: the full parser must read it."""


class _HomeParser(argparse.ArgumentParser):
    """Home's options alone. Anything it does not take (a command, `-h`, a mistake) is
    left to the full parser, so every answer and error is the full parser's own."""

    def error(self, message: str) -> NoReturn:
        raise _NotHomeOnly(message)


def _read_home_options(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]] | None:
    """Home's options read off `argv`, and what is left; None for a line they cannot read."""
    if "--" in argv:
        return None
    parser = _HomeParser(prog="hiphook", add_help=False, exit_on_error=False)
    # `--version` is acted on only once the whole line is known to be Home's: the full
    # parser prints it as soon as it meets it, before a command that would refuse it.
    _add_home_options(parser, version="store_true")
    try:
        return parser.parse_known_args(argv)
    except (argparse.ArgumentError, _NotHomeOnly):
        return None


def home_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """The options of a plain `hiphook` start (Home, `--version`), read without building
    every command's parser (which loads every command module); None when `argv` holds
    anything else."""
    read = _read_home_options(argv)
    if read is None or read[1]:
        return None
    args = read[0]
    if args.version:  # as _VersionAction does
        print(f"hiphook {package_version()}")
        raise SystemExit(0)
    args.version = args.command = None  # as the full parser leaves them
    return args


def command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` runs, read as the full parser reads it (the first word after
    the top level's options), or None (no command, `-h` first, a line it cannot read)."""
    read = _read_home_options(argv)
    if read is None or not read[1]:
        return None
    word = read[1][0]
    return word if word in COMMAND_MODULES or word in OWN_COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; with `command`, the top level and that command's alone,
    which read that command's lines as the whole parser does (each command's module
    loads its options' helpers: the others stay unloaded)."""
    parser = argparse.ArgumentParser(
        prog="hiphook",
        description="A coach for the daily hip-flexor release routine. "
        "Run with no command to open the coach.",
    )
    _add_home_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if command is None or command == "run":
        _add_run_parser(sub)
    if command is None or command == "routine":
        _add_routine_parser(sub)
    if command is None:
        # lazy: the store's package, for the words of the whole help
        from app.store.stats import DAY_RULE

        parser.epilog = f"{DAY_RULE} The documentation comes with it: hiphook docs."
    names = COMMAND_MODULES.values() if command is None else [COMMAND_MODULES.get(command)]
    for name in dict.fromkeys(names):  # each module once, in the table's order
        if name is not None:
            # lazy: a command's module, for a line that may run it (COMMAND_MODULES)
            importlib.import_module(name).register(sub)
    return parser


def _add_run_parser(sub: Any) -> None:
    from app.serve import cli as serve_cli  # lazy: as COMMAND_MODULES
    from app.store.stats import DAY_RULE  # lazy: the store's package, for the help's words

    run = sub.add_parser("run", help="run a routine now", epilog=DAY_RULE)
    add_run_options(run)
    run.add_argument("--plain", action="store_true", help="one line per event, no full screen")
    run.add_argument(
        "--json", action="store_true", help="one JSON object per line (implies --plain)"
    )
    run.add_argument(
        "--check-in",
        action="store_true",
        help="ask about ankle/foot pain before starting (Home always asks)",
    )
    run.add_argument(
        "--serve",
        action="store_true",
        help="also show the run in a browser, at a URL printed with a QR code (docs/watch.md)",
    )
    serve_cli.add_serve_options(run)
    run.set_defaults(func=cmd_run)


def _add_routine_parser(sub: Any) -> None:
    routine = sub.add_parser("routine", help="look at routines")
    rsub = routine.add_subparsers(dest="routine_command", metavar="ACTION", required=True)
    show = rsub.add_parser("show", help="list a routine's steps and total time")
    show.add_argument("routine", nargs="?", metavar="NAME|FILE")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_routine_show)
    lst = rsub.add_parser("list", help="the built-in routines")
    lst.set_defaults(func=cmd_routine_list)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a reader that goes away (`| head`, `| true`) ends it quietly."""
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # inside the guard: a closed pipe often shows only here
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    return code


def _dispatch(argv: Sequence[str] | None) -> int:
    completing = "_ARGCOMPLETE" in os.environ  # the shell asks for Tab candidates
    line = sys.argv[1:] if argv is None else list(argv)
    command = None
    if not completing:
        home = home_args(line)
        if home is not None:  # `hiphook` alone opens the coach's Home screen
            return cmd_home(home)
        command = command_named(line)
    parser = build_parser(command)
    if completing:
        from app import completion  # lazy: as COMMAND_MODULES

        completion.complete(parser)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:  # `hiphook` alone opens the coach's Home screen
        return cmd_home(args)
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _silence_stdout() -> None:
    """The Python docs' recipe for SIGPIPE: point stdout's descriptor at devnull, so the
    interpreter's own flush at exit finds nowhere to fail and prints no traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass

"""`python -m firmware_sim`: print the port path and serve until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .scenarios import SCENARIO_NAMES, ProfileError
from .server import start_simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Shared with `hiphook sim`."""
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="steady")
    parser.add_argument("--rate", type=int, default=100, help="power-on sample rate, Hz")
    parser.add_argument("--profile", help="time,force[,lever] file for --scenario profile")
    parser.add_argument("--tcp", type=int, metavar="PORT", help="also serve on socket://")
    parser.add_argument("--seed", type=int, default=0)


def serve(args: argparse.Namespace) -> int:
    try:
        sim = start_simulator(
            args.scenario, rate=args.rate, tcp_port=args.tcp, profile=args.profile, seed=args.seed
        )
    except (ProfileError, ValueError, OSError) as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: done.set())  # clean up on kill, too
    try:
        print(sim.port, flush=True)
        print(f"# scenario {args.scenario}, pty {sim.tty}", file=sys.stderr)
        if sim.tcp_url:
            print(f"# also on {sim.tcp_url}", file=sys.stderr)
        print("# Ctrl-C to stop", file=sys.stderr, flush=True)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware_sim", description=__doc__)
    add_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

"""`python -m firmware_sim`: print the port path and serve until Ctrl-C."""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading

from app.core.protocol import RATE_MAX_HZ, RATE_MIN_HZ

from .announce import announce, withdraw
from .scenarios import SCENARIO_NAMES, ProfileError


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        shown = text if len(text) <= 20 else text[:17] + "..."
        raise argparse.ArgumentTypeError(f"not a whole number: {shown!r}") from None


def rate_arg(text: str) -> int:
    """argparse type for --rate: the protocol's range, so no host is ever refused it."""
    n = _whole(text)
    if not RATE_MIN_HZ <= n <= RATE_MAX_HZ:
        raise argparse.ArgumentTypeError(
            f"must be from {RATE_MIN_HZ} to {RATE_MAX_HZ} samples a second, not {n}"
        )
    return n


def port_arg(text: str) -> int:
    """argparse type for --tcp: a TCP port number (0 picks a free one)."""
    n = _whole(text)
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(
            f"a TCP port is a number from 1 to 65535 (or 0 for any free port), not {n}"
        )
    return n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Shared with `hiphook sim`."""
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="steady")
    parser.add_argument(
        "--rate",
        type=rate_arg,
        default=100,
        help=f"power-on sample rate, {RATE_MIN_HZ}-{RATE_MAX_HZ} Hz",
    )
    parser.add_argument("--profile", help="time,force[,lever] file for --scenario profile")
    parser.add_argument(
        "--tcp",
        type=port_arg,
        metavar="PORT",
        help="also serve on socket://127.0.0.1:PORT (0: any free port)",
    )
    parser.add_argument("--seed", type=int, default=0)


def serve(args: argparse.Namespace) -> int:
    from .server import start_simulator  # lazy: `hiphook` builds its parser from add_arguments

    try:
        sim = start_simulator(
            args.scenario, rate=args.rate, tcp_port=args.tcp, profile=args.profile, seed=args.seed
        )
    except (ProfileError, ValueError) as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.tcp is not None and exc.errno in (errno.EADDRINUSE, errno.EACCES):
            print(
                f"sim: cannot serve on TCP port {args.tcp}: {exc.strerror}; choose another "
                "port (0: any free port)",
                file=sys.stderr,
            )
        else:
            print(f"sim: cannot start: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: done.set())  # clean up on kill, too
    announced = announce(sim.port, sim.tcp_url, sim.model.identity_text[2])
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
        withdraw(announced)
        sim.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware_sim", description=__doc__)
    add_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

"""`hiphook serve` and the `--serve` of `hiphook run`: where to look, as a URL and a QR code."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from app.serve.server import ServeThread

EXIT_OK = 0
EXIT_FAILED = 1


def _err(msg: str) -> None:
    print(f"hiphook: {msg}", file=sys.stderr, flush=True)


def host_for(lan: bool) -> str | None:
    """127.0.0.1, or with --lan this machine's LAN address (None: it has none)."""
    from app.serve.server import lan_address  # lazy: ssl and http load only to serve

    return lan_address() if lan else "127.0.0.1"


def announce(url: str, out: TextIO, *, lan: bool) -> None:
    """The URL on a line of its own, then a QR code of it for the phone's camera."""
    import segno  # lazy: only when a URL is announced, not for every `hiphook` command

    where = "on this network" if lan else "on this computer only (--lan for a phone)"
    out.write(f"The run's view, {where}:\n{url}\n")
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    out.flush()


def add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lan",
        action="store_true",
        help="serve on this machine's LAN address, for a phone (default: 127.0.0.1 only)",
    )
    p.add_argument(
        "--port", type=int, default=0, metavar="N", help="the port (default: any free one)"
    )


def start_for_run(args: argparse.Namespace, out: TextIO) -> ServeThread | None:
    """`run --serve`: serve this process's run from a thread; None (said why) if it cannot."""
    from app.serve.server import ServeThread, WebViewer  # lazy: ssl and http, to serve only

    host = host_for(args.lan)
    if host is None:
        _err("--lan: this computer has no network address besides loopback")
        return None
    thread = ServeThread(WebViewer(host, args.port, follow_pid=os.getpid()))
    thread.start()
    thread.ready.wait(10)
    if thread.error is not None:
        _err(f"cannot serve on {host}:{args.port}: {thread.error.strerror or thread.error}")
        return None
    announce(thread.viewer.url, out, lan=args.lan)
    return thread


def cmd_serve(args: argparse.Namespace) -> int:
    # lazy: the server, ssl, http and asyncio cost every other command's start-up
    import asyncio
    import signal

    from app.serve.server import WebViewer

    host = host_for(args.lan)
    if host is None:
        _err("--lan: this computer has no network address besides loopback")
        return EXIT_FAILED

    async def main() -> int:
        viewer = WebViewer(host, args.port)
        try:
            await viewer.start()
        except OSError as exc:
            _err(f"cannot serve on {host}:{args.port}: {exc.strerror or exc}")
            return EXIT_FAILED
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C ends serving, quietly
            loop.add_signal_handler(sig, viewer.stop)
        announce(viewer.url, sys.stdout, lan=args.lan)
        print(
            'It shows whatever run is going on, and "no run" between runs. Ctrl-C stops serving.',
            flush=True,
        )
        await viewer.serve()
        return EXIT_OK

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="show the run that is going on in a browser (a phone on the floor)",
        description="Serves the view of the run that is going on as a small web page, at a "
        "URL with a random token (printed, with a QR code). Read-only: the page only shows "
        "the run. Ctrl-C stops serving.",
    )
    add_serve_options(p)
    p.set_defaults(func=cmd_serve)

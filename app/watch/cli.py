"""`hiphook watch`: follow the live run from another terminal (or as JSON lines)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.watch import EXIT_NO_RUN, RETRY_S

NO_RUN = "No hiphook run is going on"


def _say(text: str) -> None:
    print(f"hiphook: {text}", file=sys.stderr, flush=True)


async def _follow_json(once: bool, control: bool) -> int:
    """Every object the run sends, one JSON line each, as it arrives."""
    # lazy: asyncio and the client cost ~0.1 s that only `watch` spends
    import asyncio

    from app.publish.client import connect

    waiting_said = False
    while True:
        conn = await connect(control=control)
        if conn is None:
            if once:
                _say(f"{NO_RUN}; start one with `hiphook run`.")
                return EXIT_NO_RUN
            if not waiting_said:
                _say(f"{NO_RUN}; waiting for one to start (Ctrl-C to stop).")
                waiting_said = True
            await asyncio.sleep(RETRY_S)
            continue
        waiting_said = False
        async for msg in conn.messages():
            sys.stdout.write(json.dumps(msg) + "\n")
            sys.stdout.flush()
        await conn.close()
        if once:
            return 0


async def _run_is_live() -> bool:
    from app.publish.client import connect  # lazy: as in _follow_json

    conn = await connect()
    if conn is None:
        return False
    await conn.close()
    return True


def cmd_watch(args: argparse.Namespace) -> int:
    import asyncio  # lazy: ~0.1 s that only `watch` spends (every command builds this parser)

    if args.json:
        try:
            return asyncio.run(_follow_json(args.once, args.control))
        except KeyboardInterrupt:
            return 130
    if args.once and not asyncio.run(_run_is_live()):
        _say(f"{NO_RUN}; start one with `hiphook run`.")
        return EXIT_NO_RUN
    from app.watch.app import WatchApp  # lazy: Textual only for the full screen

    result = WatchApp(control=args.control, once=args.once).run()
    return int(result or 0)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "watch",
        help="follow the run that is going on, from another terminal",
        description="Shows the run that is going on (started with `hiphook run` or from "
        "the coach) as the coach shows it. Read-only unless --control is given; quitting "
        f"never stops the run. Exit status {EXIT_NO_RUN} with --once when no run is going on.",
    )
    p.add_argument(
        "--control",
        action="store_true",
        help="also pause, skip, go back and confirm from here (Space, n, b, Enter)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help=f"follow one run, then exit; exit {EXIT_NO_RUN} at once if none is going on",
    )
    p.add_argument(
        "--json", action="store_true", help="print what the run sends, one JSON object a line"
    )
    p.set_defaults(func=cmd_watch)

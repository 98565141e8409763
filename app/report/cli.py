"""`hiphook report [--weeks N] [-o FILE]`: one HTML file (or a PDF) from the session log.

Registered by app.cli on every invocation, so nothing heavy is imported here: the store,
matplotlib and WeasyPrint load inside the handler. Failures are one line and an exit code.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.report.pdf import write_pdf
from app.store import stats
from app.store.cli import _db_option, _err, _guard, _write_private, parse_output

MAX_WEEKS = 520
PDF_MISSING = (
    "a PDF needs WeasyPrint (pip install 'hiphook[report]'), which is not "
    "installed here; write an .html file instead and print it from a browser"
)


def parse_weeks(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if not 1 <= n <= MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"must be a whole number of weeks from 1 to {MAX_WEEKS}")
    return n


def register(subparsers: Any) -> None:
    """Add `report` to the `hiphook` command's subparsers."""
    r = subparsers.add_parser(
        "report", help="a report of your sessions (HTML, or PDF) to show your physical therapist"
    )
    r.add_argument(
        "--weeks",
        type=parse_weeks,
        default=12,
        metavar="N",
        help="how many whole weeks, ending with this one (default 12)",
    )
    r.add_argument(
        "-o",
        "--output",
        type=parse_output,
        default=None,
        metavar="FILE",
        help="write FILE (.html, or .pdf for a PDF); default hiphook-report-DATE.html",
    )
    _db_option(r)
    r.set_defaults(func=cmd_report)


def build(db: str | None, weeks: int, today: Any = None) -> Any:
    """Read the log and compute the figures (what `history --json` reads, plus steps)."""
    # lazy: every command builds this parser; the figures (~18 ms) wait for 'report'
    from app.report.figures import compute

    # lazy: the stdlib reader (a few ms to import) waits for 'report', as the figures do
    from app.report.logread import read_sessions

    sessions = read_sessions(db)
    if sessions is None:  # a server, no file, an old schema, a run to recover: the store
        # lazy: SQLAlchemy and the models take ~1 s; they wait for an open store
        from app.store.store import open_store

        with open_store(db) as store:
            store.recover_interrupted()
            sessions = store.sessions(traces="summary")
    today = today or stats.today_in(stats.local_zone_name())
    made = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return compute(sessions, today, weeks, made_at=made)


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the figures and the page are made. Importing
    matplotlib and reading years of sessions create hundreds of thousands of objects
    that all live to the end, and the collector kept walking them: a tenth of the
    ten-year report's time (bench_report). What it would have freed meanwhile is a few
    MB of matplotlib's figures. Writing the PDF (WeasyPrint's own heap) runs after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_guard
def cmd_report(args: argparse.Namespace) -> int:
    """Write the report; say where, and what it covers."""
    out = args.output
    if out is None:
        out = f"hiphook-report-{datetime.now().date().isoformat()}.html"
    pdf = out.lower().endswith(".pdf")
    if pdf:
        try:
            # lazy: WeasyPrint takes ~2 s and only a PDF needs it; a missing Pango fails right here
            import weasyprint  # noqa: F401
        except (ImportError, OSError):  # OSError: the Pango library itself is missing
            _err(PDF_MISSING)
            return 69  # EX_UNAVAILABLE
    with cycle_collector_paused():
        # lazy: every command builds this parser; the page's renderer (~25 ms) waits for it
        from app.report.render import render_html

        figures = build(args.db, args.weeks)
        page = render_html(figures, png_charts=pdf)
    if out == "-":
        if pdf:
            _err("a PDF cannot go to standard output; give a file name ending in .pdf")
            return 64
        sys.stdout.write(page)
        return 0
    if pdf:
        write_pdf(page, Path(out))
    else:
        _write_private(Path(out), page)
    n = figures.summary["sessions"]
    print(
        f"Wrote {out}: {figures.weeks} weeks from {figures.first_day} to {figures.last_day}, "
        f"{n} session(s) in the log.",
        file=sys.stderr,
    )
    return 0

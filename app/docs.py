"""`hiphook docs`: the documentation that ships inside the package, readable from a wheel.

A pip, pipx or uv install has no `docs/` folder beside it, only the package, so the wheel
carries the docs as `app/_docs` (pyproject's force-include, as migrations are shipped);
a source checkout reads `docs/` itself. `hiphook docs` lists them with their paths,
`hiphook docs protocol` prints one, so the README's pointers work from any install.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import app

EXIT_OK = 0
EXIT_USAGE = 2


def docs_dir() -> Path | None:
    """The docs folder: inside the installed package first, then the source checkout."""
    pkg = Path(app.__file__).resolve().parent
    for candidate in (pkg / "_docs", pkg.parent / "docs"):
        if (candidate / "protocol.md").is_file():
            return candidate
    return None


def available() -> dict[str, Path]:
    """Every shipped document by its short name (the file name without `.md`)."""
    folder = docs_dir()
    if folder is None:
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.md"))}


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip().strip("`")
    return path.stem


def register(subparsers: Any) -> None:
    """Add `hiphook docs [NAME] [--path]` to the command line."""
    p = subparsers.add_parser(
        "docs",
        help="read the shipped documentation (protocol, DIY sensor, report, audio)",
        description="List the documents that come with hiphook, or print one of them.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="a document to print, e.g. protocol")
    p.add_argument(
        "--path", action="store_true", help="print the file's path (or the folder's) instead"
    )
    p.set_defaults(func=cmd_docs)


def cmd_docs(args: argparse.Namespace) -> int:
    """Print the list, one document, or a path."""
    docs = available()
    if not docs:
        print(
            "hiphook: the documentation is missing from this installation; reinstall hiphook",
            file=sys.stderr,
        )
        return 1
    if args.name is None:
        if args.path:
            print(docs_dir())
            return EXIT_OK
        width = max(len(n) for n in docs)
        for name, path in docs.items():
            print(f"{name:<{width}}  {_title(path)}  ({path})")
        print("\nRead one with `hiphook docs NAME` (e.g. `hiphook docs protocol | less`).")
        return EXIT_OK
    name = args.name.removesuffix(".md")
    if name not in docs:
        print(
            f"hiphook: no document called {args.name!r}; there are: {', '.join(docs)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.path:
        print(docs[name])
    else:
        sys.stdout.write(docs[name].read_text(encoding="utf-8"))
    return EXIT_OK

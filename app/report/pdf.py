"""The report as PDF through WeasyPrint.

WeasyPrint is chosen because it lays out the very HTML and CSS (print rules, inline SVG)
that the browser prints, so the PDF and the HTML cannot drift apart, and it needs no
browser: only Pango, which desktop Linux and macOS (Homebrew) have.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from app.store.errors import EXIT_CANTCREAT, StoreError


def write_pdf(page: str, target: Path) -> None:
    """Write the PDF atomically, readable by its owner only (it holds health data)."""
    # lazy: WeasyPrint takes ~2 s to import; only a PDF needs it
    import weasyprint

    target = target.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    os.close(fd)
    try:
        weasyprint.HTML(string=page).write_pdf(tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise StoreError(f"cannot write {target}: {err.strerror or err}", EXIT_CANTCREAT) from None

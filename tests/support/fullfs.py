"""A full file system, for real: a small tmpfs in a private mount namespace (root, as in
CI), with a shell command run while it is full. Shared by the full-disk tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
set -e
mount -t tmpfs -o size={size}k tmpfs "$FULL"
{before}
dd if=/dev/zero of="$FULL/filler" bs=1024 2>/dev/null || true
set +e
{command}
rc=$?
rm -f "$FULL/filler"
{after}
find "$FULL" -type f | sort > "$LISTING"
exit $rc
"""


def can_mount_tmpfs() -> str | None:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount is not installed"
    try:
        probe = subprocess.run(
            ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except OSError as exc:
        return f"unshare cannot run: {exc}"
    if probe.returncode != 0:
        return f"no private tmpfs here (needs root or CAP_SYS_ADMIN): {probe.stderr.strip()}"
    return None


def on_full_disk(
    tmp_path: Path,
    command: str,
    *,
    size_k: int = 512,
    before: str = "",
    after: str = "",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run shell `command` with $FULL a full tmpfs; also the files left on it."""
    full = tmp_path / "full"
    full.mkdir()
    listing = tmp_path / "listing.txt"
    script = SCRIPT.format(size=size_k, before=before, command=command, after=after)
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "FULL": str(full),
            "LISTING": str(listing),
            "PY": sys.executable,
            "HOME": str(tmp_path / "home"),
            **(env or {}),
        },
    )
    files = [str(Path(line).relative_to(full)) for line in listing.read_text().split()]
    assert "Traceback" not in out.stderr, out.stderr
    return out, files

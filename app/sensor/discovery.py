"""Finding the sensor among the serial ports, and finding it again after an unplug.

A USB device may come back under another /dev name, so the link remembers a stable
identity: a /dev/serial/by-id path when udev made one, and the USB serial number.
"""

from __future__ import annotations

import errno
import grp
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from serial.tools import list_ports

BY_ID_DIR = Path("/dev/serial/by-id")

# Words in a port's description/product/manufacturer that mean "this is a Hip Hook".
SENSOR_WORDS = ("hip hook", "hiphook", "hip-hook")
# USB-serial bridges and boards a do-it-yourself load cell is usually built on.
DIY_USB_IDS: dict[tuple[int, int], str] = {
    (0x2341, 0x0043): "Arduino Uno",
    (0x2341, 0x0001): "Arduino Uno",
    (0x2341, 0x8036): "Arduino Leonardo",
    (0x2341, 0x0058): "Arduino Nano Every",
    (0x1A86, 0x7523): "CH340 USB-serial (Arduino Nano clone)",
    (0x10C4, 0xEA60): "CP210x USB-serial (ESP32 board)",
    (0x0403, 0x6001): "FTDI USB-serial",
    (0x303A, 0x1001): "ESP32-S3 USB",
}


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    by_id: str | None
    verdict: str  # "hiphook", "diy?" or ""

    @property
    def usb_id(self) -> str:
        if self.vid is None or self.pid is None:
            return ""
        return f"{self.vid:04X}:{self.pid:04X}"


def _by_id_links() -> dict[str, str]:
    """realpath -> by-id path, for every udev link present."""
    links: dict[str, str] = {}
    try:
        entries = list(BY_ID_DIR.iterdir())
    except OSError:
        return links
    for entry in entries:
        try:
            links[os.path.realpath(entry)] = str(entry)
        except OSError:
            continue
    return links


def _verdict(text: str, vid: int | None, pid: int | None) -> str:
    lowered = text.lower()
    if any(word in lowered for word in SENSOR_WORDS):
        return "hiphook"
    if vid is not None and pid is not None and (vid, pid) in DIY_USB_IDS:
        return "diy?"
    return ""


def runtime_dir() -> Path:
    """Where running simulators announce themselves (firmware_sim/announce.py writes
    there by the same rule)."""
    env = os.environ.get("HIPHOOK_RUNTIME_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "hiphook"
    return Path(tempfile.gettempdir()) / f"hiphook-{os.getuid()}"


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's, but running
    return True


def announced_sims() -> list[PortInfo]:
    """Simulators that said where they are and still run (`hiphook sim`); a file left by
    one that was killed outright is skipped."""
    try:
        files = sorted((runtime_dir() / "sims").glob("*.json"))
    except OSError:
        return []
    found = []
    for path in files:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(body, dict):
            continue
        port, pid = body.get("port"), body.get("pid")
        if not isinstance(port, str) or not _alive(pid) or not os.path.exists(port):
            continue
        found.append(
            PortInfo(
                device=port,
                description=f"hiphook simulator (pid {pid})",
                vid=None,
                pid=None,
                serial_number=str(body.get("serial") or "") or None,
                by_id=None,
                verdict="hiphook",
            )
        )
    return found


def scan_ports() -> list[PortInfo]:
    """Every serial port the OS lists, Hip Hooks first, then likely DIY boards; running
    simulators after the real Hip Hooks."""
    links = _by_id_links()
    found = []
    for info in list_ports.comports():
        text = " ".join(str(x) for x in (info.description, info.product, info.manufacturer) if x)
        found.append(
            PortInfo(
                device=info.device,
                description=info.description or "",
                vid=info.vid,
                pid=info.pid,
                serial_number=info.serial_number,
                by_id=links.get(os.path.realpath(info.device)),
                verdict=_verdict(text, info.vid, info.pid),
            )
        )
    rank = {"hiphook": 0, "diy?": 1, "": 2}
    found.sort(key=lambda p: (rank[p.verdict], p.device))
    sims = announced_sims()
    real = sum(1 for p in found if p.verdict == "hiphook")
    return found[:real] + sims + found[real:]


def find_auto(serial_number: str | None = None) -> str | None:
    """The port `auto` means: the remembered serial number if present, else a Hip Hook,
    else a likely DIY board. Returns the most stable path available."""
    ports = scan_ports()
    if serial_number:
        for port in ports:
            if port.serial_number == serial_number:
                return port.by_id or port.device
    for port in ports:
        if port.verdict:
            return port.by_id or port.device
    return None


@dataclass
class StableIdentity:
    """How to find the same device again: tried in order on every reconnect."""

    url: str
    by_id: str | None = None
    serial_number: str | None = None

    def candidates(self) -> list[str]:
        out: list[str] = []
        if self.by_id:
            out.append(self.by_id)
        if self.serial_number:
            for port in scan_ports():
                if port.serial_number == self.serial_number:
                    out.append(port.by_id or port.device)
        if self.url != "auto":
            out.append(self.url)
        else:
            found = find_auto(self.serial_number)
            if found:
                out.append(found)
        return list(dict.fromkeys(out))


def identify_port(url: str) -> StableIdentity:
    """Note what makes a local port findable again (URLs are their own identity)."""
    ident = StableIdentity(url)
    if url == "auto" or "://" in url:
        return ident
    if Path(url).is_symlink():
        ident.by_id = url  # already a stable link (by-id, or the simulator's)
    real = os.path.realpath(url)
    ident.by_id = ident.by_id or _by_id_links().get(real)
    for port in scan_ports():
        if os.path.realpath(port.device) == real:
            ident.serial_number = port.serial_number
            break
    return ident


def permission_hint(path: str, exc: BaseException) -> str | None:
    """A how-to-fix message when opening failed for lack of permission, else None."""
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err not in (errno.EACCES, errno.EPERM) and "Permission denied" not in text:
        return None
    if sys.platform.startswith("linux"):
        group = "dialout"
        try:
            group = grp.getgrgid(os.stat(path).st_gid).gr_name
        except (OSError, KeyError, ImportError):
            pass
        return (
            f"permission denied on {path}: add yourself to the '{group}' group "
            f"(sudo usermod -aG {group} $USER), then log out and back in"
        )
    if sys.platform == "darwin":
        return f"permission denied on {path}: check the port is not open in another program"
    return f"permission denied on {path}: close other programs using the port"

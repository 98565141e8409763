"""The reference firmware on the emulated board: what it delivers, beside the link budget.

    .venv/bin/python bench/bench_firmware.py [--seconds 60] [--toggles 20]

Builds firmware/ into a temporary folder, then, at each HX711 rate, runs the board as fast
as the host allows (`--speed 0`) for `--seconds` of emulated time and counts what the
app's decoder gets: samples per second of device time, bytes per second against the
115200-baud budget (docs/protocol.md), dropped samples and bad lines. Then, in real time,
it flips the lever `--toggles` times and times each flip from the control write to the
lever line's arrival on the host, and reads the board's CPU use per wall second. Flash and
RAM use come from avr-size. Needs gcc-avr, avr-libc, simavr, libsimavr-dev, libelf-dev.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import serial

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core import protocol as p  # noqa: E402

BUDGET = p.bytes_per_second(p.DEFAULT_BAUD)


def build(out: Path) -> None:
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "firmware"), f"BUILD={out}", "all", "sim"],
        check=True,
        capture_output=True,
    )


def start(out: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(out / "board"), *args, str(out / "hiphook.elf")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def command(port: serial.Serial, dec: p.Decoder, name: str, arg: int | None = None) -> None:
    port.write(p.encode_command(name, arg))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for item in dec.feed(port.read(port.in_waiting or 1)):
            if isinstance(item, p.Ack | p.Identity):
                return
            if isinstance(item, p.Refusal):
                raise SystemExit(f"{name} refused: {item}")
    raise SystemExit(f"no answer to {name}")


def stream(out: Path, rate: int, seconds: float) -> dict[str, float]:
    """Run flat out for `seconds` of emulated time; count what arrives."""
    proc, path = start(out, "--speed", "1", "--seconds", str(seconds + 2))
    assert proc.stdin is not None
    dec = p.Decoder()
    samples: list[tuple[int, int, int]] = []
    nbytes = 0
    wall0 = time.monotonic()
    with serial.Serial(path, 115200, timeout=0.05) as port:
        command(port, dec, "ID")
        command(port, dec, "RATE", rate)
        command(port, dec, "START")
        proc.stdin.write("speed 0\n")  # handshake done in real time; now flat out
        proc.stdin.flush()
        while True:
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError):
                break  # the board finished and closed its pty
            if not data and proc.poll() is not None:
                break
            nbytes += len(data)
            samples += [it for it in dec.feed(data) if type(it) is tuple]  # type: ignore[misc]
    wall = time.monotonic() - wall0
    err = proc.stderr.read() if proc.stderr else ""
    m = re.search(r"emulated ([\d.]+) s in ([\d.]+) s wall", err)
    emu_s, board_wall = (float(m[1]), float(m[2])) if m else (seconds, wall)
    span = (samples[-1][1] - samples[0][1]) / 1000 if len(samples) > 1 else 0.0
    return {
        "rate": rate,
        "sps": (len(samples) - 1) / span if span else 0.0,
        "bytes_s": nbytes / emu_s,
        "dropped": dec.dropped,
        "bad": dec.bad_lines + dec.checksum_errors + dec.overlong,
        "device_s": span,
        "speedup": emu_s / board_wall,
    }


def lever_latency(out: Path, toggles: int) -> tuple[list[float], float]:
    """Real time: control write -> lever line on the host, per flip; board CPU/wall."""
    proc, path = start(out, "--speed", "1")
    assert proc.stdin is not None
    dec = p.Decoder()
    lat: list[float] = []
    with serial.Serial(path, 115200, timeout=0.01) as port:
        command(port, dec, "ID")
        command(port, dec, "RATE", 80)
        command(port, dec, "START")
        state = False
        wall0 = time.monotonic()
        for _ in range(toggles):
            time.sleep(0.3)  # pacing between presses; the timing comes from the clock below
            state = not state
            t0 = time.monotonic()
            proc.stdin.write(f"lever {int(state)}\n")
            proc.stdin.flush()
            while time.monotonic() - t0 < 2:
                items = dec.feed(port.read(port.in_waiting or 1))
                if any(type(i) is p.LeverEvent and i.engaged is state for i in items):
                    lat.append((time.monotonic() - t0) * 1000)
                    break
        wall = time.monotonic() - wall0
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime+stime
    proc.stdin.write("quit\n")
    proc.stdin.flush()
    proc.wait(10)
    return lat, cpu_s / wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--toggles", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build(out)
        size = subprocess.run(
            ["avr-size", "-A", str(out / "hiphook.elf")], capture_output=True, text=True, check=True
        ).stdout
        sec = {m[1]: int(m[2]) for m in re.finditer(r"^\.(\w+)\s+(\d+)", size, re.M)}
        flash, ram = sec["text"] + sec.get("data", 0), sec.get("data", 0) + sec.get("bss", 0)
        print(
            f"flash {flash} B of 32768 ({flash / 327.68:.1f} %), "
            f"RAM {ram} B of 2048 ({ram / 20.48:.1f} %) before the stack"
        )
        print(
            f"link budget at 115200 baud: {BUDGET} B/s, up to {p.max_rate_hz(115200)} Hz "
            f"of worst-case {p.SAMPLE_LINE_MAX}-byte lines"
        )
        print(
            f"{'HX711':>6} {'samples/s':>10} {'B/s':>7} {'of budget':>9} {'dropped':>7} "
            f"{'bad':>4} {'device s':>8} {'x real time':>11}"
        )
        for rate in (10, 80):
            r = stream(out, rate, args.seconds)
            print(
                f"{rate:>6} {r['sps']:>10.2f} {r['bytes_s']:>7.0f} "
                f"{r['bytes_s'] / BUDGET:>8.1%} {r['dropped']:>7.0f} {r['bad']:>4.0f} "
                f"{r['device_s']:>8.1f} {r['speedup']:>11.1f}"
            )
        lat, cpu = lever_latency(out, args.toggles)
        if lat:
            q = statistics.quantiles(lat, n=20) if len(lat) > 1 else lat
            print(
                f"lever flip -> host, real time ({len(lat)} of {args.toggles}): "
                f"min {min(lat):.1f} ms, p50 {statistics.median(lat):.1f} ms, "
                f"p95 {q[-1]:.1f} ms, max {max(lat):.1f} ms (20 ms of it is the debounce)"
            )
        print(f"board CPU in real time at 80 Hz, lever flipping: {cpu:.1%} of one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())

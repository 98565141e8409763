"""The sensor link end to end, per transport: measured rate, wire -> callback latency,
drops, reader CPU; the chunked reader beside the one-byte reader of old, in one run.

    .venv/bin/python bench/bench_sensor.py [--seconds 5] [--rates 100,1000]
        [--transports pty,socket,rfc2217] [--readers chunked,one-byte] [--probe]

`--probe` measures Home's sensor probe instead (app/sensor/probe.py, run on a thread
worker): how long each state takes to know, and the rate it reports from the samples'
device stamps, beside the link's own one-second rate window read at the same point (the
baseline: what the probe first used), in one run.

The simulator runs in this process (as `--sensor sim` does) and logs when each sample
line left it; the batch callback logs when each sample arrived. Latency is the
difference per sample. `socket://` is the simulator's loopback TCP port; `rfc2217://` is
a real RFC 2217 server (pyserial's PortManager, as its `examples/rfc2217_server.py`, in
its own process: tests/support/rfc2217_bridge.py) in front of the simulator's pty. The one-byte
reader is the link's old loop, `read(in_waiting or 1)` then a sleep of the batch
interval, as a transport subclass: over `socket://` pyserial's `in_waiting` says 1
whenever anything is there.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import serial

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.sensor import SensorBatch, SensorLink, SerialTransport  # noqa: E402
from firmware_sim import Simulator, start_simulator  # noqa: E402


class OneByteTransport(SerialTransport):
    """The reader as it was: `read(in_waiting or 1)` with a 0.1 s timeout, then a sleep
    of the batch interval to let more lines gather."""

    def _open_url(self, url: str) -> serial.SerialBase:
        port = super()._open_url(url)
        port.timeout = 0.1
        return port

    def read_chunk(self, port: serial.SerialBase) -> bytes:
        waiting = port.in_waiting
        data = bytes(port.read(waiting if waiting else 1))
        if data:
            time.sleep(self.read_timeout)
        return data


READERS: dict[str, type[SerialTransport]] = {
    "chunked": SerialTransport,
    "one-byte": OneByteTransport,
}


def reader_cpu_s() -> float:
    """CPU time of the link's reader thread so far (from outside: no hook in the link)."""
    reader = next(t for t in threading.enumerate() if t.name == "sensor-reader")
    assert reader.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(reader.ident))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Result:
    transport: str
    rate: int
    reader: str
    device_hz: float = 0.0
    link_hz: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    dropped: int = 0
    cpu_pct: float = 0.0
    note: str = ""

    @property
    def met(self) -> bool:
        return (
            abs(self.link_hz - self.device_hz) <= 0.01 * self.device_hz
            and self.p99_ms <= 10
            and self.dropped == 0
        )


@contextmanager
def serve(transport: str, sim: Simulator) -> Iterator[str]:
    if transport == "pty":
        yield sim.port
    elif transport == "socket":
        assert sim.tcp_url is not None
        yield sim.tcp_url
    else:  # the server in its own process, as pyserial's example runs beside the app
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.support.rfc2217_bridge", sim.port],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            if not url:  # it said why on stderr; a blank URL would read as "no such port"
                raise SystemExit(f"the RFC 2217 server did not start (exit {server.wait()})")
            yield url
        finally:
            server.communicate(timeout=5)  # EOF on its stdin: it stops


def measure(transport: str, rate: int, reader: str, seconds: float) -> Result:
    res = Result(transport, rate, reader)
    sim = start_simulator("steady", rate=rate, tcp_port=0, record_writes=True)
    sim.set_phase("press")
    arrivals: list[tuple[float, list[int]]] = []
    recording = threading.Event()
    lock = threading.Lock()

    def on_batch(batch: SensorBatch) -> None:
        now = time.monotonic()
        if recording.is_set():
            with lock:
                arrivals.append((now, [s.seq for s in batch.samples]))

    try:
        with serve(transport, sim) as url:
            link = SensorLink(url, on_batch, rate_hz=rate, transport=READERS[reader]).start()
            try:
                deadline = time.monotonic() + 15
                while not (link.status().connected and link.status().samples > rate):
                    if time.monotonic() > deadline:
                        res.note = f"did not stream: {link.status().message}"
                        return res
                    time.sleep(0.05)
                before, cpu0 = link.status(), reader_cpu_s()
                recording.set()
                t0 = time.monotonic()
                time.sleep(seconds)  # the measuring window
                t1 = time.monotonic()
                recording.clear()
                after, cpu1 = link.status(), reader_cpu_s()
            finally:
                link.stop()
    finally:
        sim.stop()
    wall = t1 - t0
    written: dict[int, deque[float]] = defaultdict(deque)
    log = list(sim.write_log or [])
    for seq, stamp in log:
        written[seq].append(stamp)
    latencies = []
    delivered = 0
    for arrived, seqs in arrivals:
        for seq in seqs:
            delivered += 1
            sent = written.get(seq)
            if sent:
                latencies.append((arrived - sent.popleft()) * 1000)
    res.device_hz = sum(1 for _, stamp in log if t0 <= stamp < t1) / wall
    res.link_hz = delivered / wall
    res.p50_ms = percentile(latencies, 0.5)
    res.p99_ms = percentile(latencies, 0.99)
    res.dropped = after.dropped - before.dropped
    res.cpu_pct = 100 * (cpu1 - cpu0) / wall
    return res


def window_rate(url: str, listen_s: float) -> float:
    """The baseline: the link's own rate window, `listen_s` after it connects."""
    link = SensorLink(url, lambda _b: None, reconnect=False).start()
    try:
        end = time.monotonic() + 5
        while time.monotonic() < end and not link.status().connected:
            time.sleep(0.01)
        time.sleep(listen_s)  # the same listening time as the probe
        return link.status().rate_hz
    finally:
        link.stop()


def probe_bench(rounds: int) -> int:
    from app.sensor.probe import LISTEN_S, probe_sensor

    print(f"Home's sensor probe, {rounds} rounds each (median time; rates min-max)")
    print(f"{'case':<28}{'state':<13}{'probe s':>8}{'probe Hz':>16}{'window Hz':>16}")
    with socket_closed() as refused:
        cases = [("none", "none"), ("missing /dev/ttyACM9", "/dev/ttyACM9")]
        cases += [("/dev/null", "/dev/null"), ("socket refused", refused)]
        for name, spec in cases:
            times, kind = [], ""
            for _ in range(rounds):
                t0 = time.monotonic()
                kind = probe_sensor(spec, calibrated=True).kind
                times.append(time.monotonic() - t0)
            print(f"{name:<28}{kind:<13}{sorted(times)[len(times) // 2]:>8.2f}")
    for rate in (10, 100, 500):
        times, probe_hz, window_hz, kind = [], [], [], ""
        for _ in range(rounds):
            with start_simulator("steady", rate=rate) as sim:
                t0 = time.monotonic()
                state = probe_sensor(sim.port, calibrated=True)
                times.append(time.monotonic() - t0)
                kind = state.kind
                probe_hz.append(state.rate_hz)
            with start_simulator("steady", rate=rate) as sim:
                window_hz.append(window_rate(sim.port, LISTEN_S))
        print(
            f"{f'simulator pty {rate} Hz':<28}{kind:<13}{sorted(times)[len(times) // 2]:>8.2f}"
            f"{f'{min(probe_hz):.1f}-{max(probe_hz):.1f}':>16}"
            f"{f'{min(window_hz):.1f}-{max(window_hz):.1f}':>16}",
            flush=True,
        )
    print(
        "window Hz 0: the link's window has not yet closed after the same listening time; "
        "a rate over the wire's budget at 115200 baud reads as what the wire carries"
    )
    return 0


@contextmanager
def socket_closed() -> Iterator[str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"socket://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="measuring window per case")
    ap.add_argument("--rates", default="100,1000")
    ap.add_argument("--transports", default="pty,socket,rfc2217")
    ap.add_argument("--readers", default="chunked,one-byte")
    ap.add_argument("--probe", action="store_true", help="Home's sensor probe instead")
    ap.add_argument("--rounds", type=int, default=5, help="with --probe: rounds per case")
    args = ap.parse_args(argv)
    if args.probe:
        return probe_bench(args.rounds)

    print(
        f"{args.seconds:.0f} s per case; targets: rate within 1% of the device's, "
        "p99 <= 10 ms, 0 dropped"
    )
    print(
        f"{'transport':<10}{'rate':>6}  {'reader':<9}{'device Hz':>10}{'link Hz':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'dropped':>8}{'CPU %':>7}  targets"
    )
    ok = True
    for transport in args.transports.split(","):
        for rate in map(int, args.rates.split(",")):
            for reader in args.readers.split(","):
                r = measure(transport, rate, reader, args.seconds)
                verdict = "met" if r.met else "MISSED"
                if reader == "chunked":
                    ok = ok and r.met
                print(
                    f"{transport:<10}{rate:>6}  {reader:<9}{r.device_hz:>10.1f}"
                    f"{r.link_hz:>9.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.dropped:>8}"
                    f"{r.cpu_pct:>7.1f}  {verdict} {r.note}",
                    flush=True,
                )
    print(f"chunked reader on every transport: {'targets met' if ok else 'targets MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

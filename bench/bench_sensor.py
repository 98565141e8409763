"""End to end at 1 kHz through a real pseudo-terminal: latency, drops, reader CPU.

    .venv/bin/python bench/bench_sensor.py [--seconds 60] [--rate 1000]

The simulator runs in this process (as `--sensor sim` does) and logs when each sample
line left it; the batch callback logs when each sample arrived. Latency is the
difference per sample. The reader's CPU share is its thread CPU time over wall time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.sensor import SensorBatch, SensorLink  # noqa: E402
from firmware_sim import start_simulator  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=int, default=1000)
    args = ap.parse_args(argv)

    sim = start_simulator("steady", rate=args.rate, record_writes=True)
    sim.set_phase("press")
    arrivals: list[tuple[float, list[int]]] = []
    recording = threading.Event()
    lock = threading.Lock()

    def on_batch(batch: SensorBatch) -> None:
        now = time.monotonic()
        if recording.is_set():
            seqs = [s[0] for s in batch.samples]
            with lock:
                arrivals.append((now, seqs))

    link = SensorLink(sim.port, on_batch, rate_hz=args.rate).start()
    try:
        deadline = time.monotonic() + 10
        while not (link.status().connected and link.status().rate_hz > 0.9 * args.rate):
            if time.monotonic() > deadline:
                print(f"link did not reach {args.rate} Hz: {link.status()}")
                return 1
            time.sleep(0.05)
        assert sim.write_log is not None
        sim.write_log.clear()
        before = link.status()
        recording.set()
        t0 = time.monotonic()
        time.sleep(args.seconds)
        recording.clear()
        wall = time.monotonic() - t0
        time.sleep(0.1)
        after = link.status()
    finally:
        link.stop()
        sim.stop()

    written: dict[int, deque[float]] = defaultdict(deque)
    for seq, stamp in list(sim.write_log or []):
        written[seq].append(stamp)
    latencies = []
    delivered = 0
    for arrived, seqs in arrivals:
        for seq in seqs:
            delivered += 1
            sent = written.get(seq)
            if sent:
                latencies.append((arrived - sent.popleft()) * 1000)
    cpu = after.reader_cpu_s - before.reader_cpu_s
    dropped = after.dropped - before.dropped
    bad = (after.bad_lines + after.checksum_errors + after.overlong) - (
        before.bad_lines + before.checksum_errors + before.overlong
    )
    sizes = [len(s) for _, s in arrivals]
    print(
        f"{wall:.1f} s at {args.rate} Hz through {sim.tty} (pty), reader batch every "
        f"{link.batch_interval * 1000:.0f} ms"
    )
    print(
        f"samples delivered:    {delivered} ({delivered / wall:.0f}/s) "
        f"in {len(arrivals)} batches (mean {statistics.mean(sizes or [0]):.1f})"
    )
    print(
        f"wire -> callback:     p50 {percentile(latencies, 0.5):.2f} ms   "
        f"p99 {percentile(latencies, 0.99):.2f} ms   max {max(latencies):.2f} ms"
    )
    print(f"dropped samples:      {dropped}   bad lines: {bad}")
    print(f"reader thread CPU:    {cpu:.2f} s = {100 * cpu / wall:.1f}% of one core")
    ok = percentile(latencies, 0.99) <= 10 and dropped == 0 and cpu / wall <= 0.10
    print(f"targets (p99 <= 10 ms, 0 dropped, reader <= 10%): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

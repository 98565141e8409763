"""Decoder throughput, checksums verified, beside a naive split-and-float baseline.

    .venv/bin/python bench/bench_decoder.py [--lines N] [--chunk BYTES] [--repeat R]

The baseline is what one writes first: split lines, split fields, float() each field,
check nothing. Both read the same bytes in the same chunks, best of R runs each.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core import protocol as p  # noqa: E402


def make_stream(n: int, seed: int = 1) -> bytes:
    """A realistic hold: seconds of device clock at 1 kHz, ~150 N with noise and dips."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        force = 15_000 + int(rng.gauss(0, 30)) - (12_000 if i % 10_000 < 800 else 0)
        lines.append(p.encode_sample(i, 120_000 + i, force))
    return b"".join(lines)


def chunks_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def naive(chunks: list[bytes]) -> int:
    n = 0
    buf = b""
    for chunk in chunks:
        lines = (buf + chunk).split(b"\n")
        buf = lines.pop()
        for line in lines:
            fields = line[1:].split(b"*")[0].split(b",")
            _values = [float(f) for f in fields]
            n += 1
    return n


def decoder(chunks: list[bytes]) -> int:
    dec = p.Decoder()
    n = 0
    for chunk in chunks:
        n += len(dec.feed(chunk))
    if dec.checksum_errors or dec.bad_lines:
        raise SystemExit("decoder rejected clean input")
    return n


def strict(chunks: list[bytes]) -> int:
    dec = p.Decoder(fast=False)
    return sum(len(dec.feed(c)) for c in chunks)


def best_rate(fn: Callable[[list[bytes]], int], chunks: list[bytes], repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn(chunks)
        best = max(best, n / (time.perf_counter() - t))
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=500_000)
    ap.add_argument("--chunk", type=int, default=4096, help="bytes per read")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    data = make_stream(args.lines)
    chunks = chunks_of(data, args.chunk)
    print(
        f"{args.lines} sample lines, {len(data) / args.lines:.1f} bytes/line, "
        f"{args.chunk}-byte chunks, best of {args.repeat}"
    )
    base = best_rate(naive, chunks, args.repeat)
    fast = best_rate(decoder, chunks, args.repeat)
    slow = best_rate(strict, chunks, max(1, args.repeat // 2))
    print(f"naive split+float (checks nothing): {base:12,.0f} lines/s")
    print(f"Decoder, CRC-16 verified:           {fast:12,.0f} lines/s  ({fast / base:.2f}x naive)")
    print(f"Decoder, line-by-line path only:    {slow:12,.0f} lines/s  ({slow / base:.2f}x naive)")
    ok = fast >= 1_000_000 and fast >= 0.5 * base
    print(f"target >= 1,000,000 lines/s and >= 0.5x naive: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

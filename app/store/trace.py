"""A press's force trace as a compact blob, and back.

Layout (all little-endian): a 36-byte header `HHF1`, value width, time width, two pad
bytes, rate_hz, quantum, t0_s (float64 each), sample count (uint32); then one zlib
stream holding the values as integer steps of `quantum`, delta-coded and split into
byte planes (all low bytes, then all high bytes), followed by the same for the
timestamps in milliseconds when the samples are not evenly spaced. Delta coding plus
byte planes turns a slow force curve into long runs of 0x00/0xFF that zlib squeezes to
well under one byte per sample, with nothing but the standard library.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

MAGIC = b"HHF1"
CODEC = "hhf1"  # stored beside the blob so a later format can live next to this one
DEFAULT_QUANTUM = 0.25  # newtons per step (25 g): below a load cell's noise at 80 Hz
MAX_SAMPLES = 10_000_000
_HEADER = struct.Struct("<4sBBxxdddI")
_CODES = {2: "h", 4: "i"}


class TraceError(ValueError):
    """A trace that cannot be encoded, or a blob that is not a valid trace."""


@dataclass(frozen=True)
class ForceTrace:
    """Samples of one press: evenly spaced at rate_hz from t0_s, unless timestamps given."""

    values: tuple[float, ...]
    rate_hz: float
    t0_s: float = 0.0
    quantum: float = DEFAULT_QUANTUM
    timestamps: tuple[float, ...] | None = None  # seconds, when samples were dropped

    def times(self) -> list[float]:
        if self.timestamps is not None:
            return list(self.timestamps)
        return [self.t0_s + i / self.rate_hz for i in range(len(self.values))]

    def quantized(self) -> ForceTrace:
        """The trace as it will read back after encoding (values on the quantum grid)."""
        return decode_trace(encode_trace(self))


def _planes(deltas: list[int]) -> tuple[int, bytes]:
    lo, hi = (min(deltas), max(deltas)) if deltas else (0, 0)
    width = 2 if -(2**15) <= lo and hi < 2**15 else 4
    if width == 4 and not (-(2**31) <= lo and hi < 2**31):
        raise TraceError("force values are out of range for this quantum")
    arr = array(_CODES[width], deltas)
    if sys.byteorder == "big":
        arr.byteswap()
    raw = arr.tobytes()
    return width, b"".join(raw[k::width] for k in range(width))


def _unplanes(data: bytes, width: int, n: int) -> list[int]:
    raw = bytearray(n * width)
    for k in range(width):
        raw[k::width] = data[k * n : (k + 1) * n]
    arr = array(_CODES[width])
    arr.frombytes(bytes(raw))
    if sys.byteorder == "big":
        arr.byteswap()
    return list(accumulate(arr))


def _deltas(q: Sequence[int]) -> list[int]:
    return [q[0], *(b - a for a, b in zip(q, q[1:], strict=False))] if q else []


def encode_trace(trace: ForceTrace) -> bytes:
    """The blob for a trace; raises TraceError for values that cannot be stored."""
    n = len(trace.values)
    if n > MAX_SAMPLES:
        raise TraceError(f"a trace holds at most {MAX_SAMPLES} samples, not {n}")
    for name, v in (("rate_hz", trace.rate_hz), ("quantum", trace.quantum)):
        if not (math.isfinite(v) and v > 0):
            raise TraceError(f"{name} must be a positive number, not {v!r}")
    if not math.isfinite(trace.t0_s):
        raise TraceError("t0_s must be a finite number")
    try:
        q = [round(v / trace.quantum) for v in trace.values]
    except (ValueError, OverflowError, TypeError):
        raise TraceError("force values must be finite numbers") from None
    vwidth, body = _planes(_deltas(q))
    twidth = 0
    t0 = trace.t0_s
    if trace.timestamps is not None:
        if len(trace.timestamps) != n:
            raise TraceError("timestamps and values differ in length")
        if n:
            t0 = trace.timestamps[0]
        try:
            tq = [round((t - t0) * 1000) for t in trace.timestamps]
        except (ValueError, OverflowError, TypeError):
            raise TraceError("timestamps must be finite numbers") from None
        twidth, tbody = _planes(_deltas(tq))
        body += tbody
    head = _HEADER.pack(MAGIC, vwidth, twidth, trace.rate_hz, trace.quantum, t0, n)
    return head + zlib.compress(body, 9)


def decode_trace(blob: bytes) -> ForceTrace:
    """A trace from its blob; any damage raises TraceError, never anything else."""
    if len(blob) < _HEADER.size:
        raise TraceError("trace blob is too short")
    magic, vwidth, twidth, rate, quantum, t0, n = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise TraceError("not a hiphook force trace")
    if vwidth not in _CODES or twidth not in (0, *_CODES) or n > MAX_SAMPLES:
        raise TraceError("trace header is damaged")
    if not (math.isfinite(rate) and rate > 0 and math.isfinite(quantum) and quantum > 0):
        raise TraceError("trace header is damaged")
    if not math.isfinite(t0):
        raise TraceError("trace header is damaged")
    size = n * (vwidth + twidth)
    try:
        inflater = zlib.decompressobj()
        body = inflater.decompress(blob[_HEADER.size :], size + 1)
        if not inflater.eof:
            raise TraceError("trace data is truncated or too long")
    except zlib.error:
        raise TraceError("trace data is damaged") from None
    if len(body) != size:
        raise TraceError("trace data does not match its header")
    values = tuple(v * quantum for v in _unplanes(body[: n * vwidth], vwidth, n))
    stamps = None
    if twidth:
        stamps = tuple(t0 + t / 1000 for t in _unplanes(body[n * vwidth :], twidth, n))
    return ForceTrace(values, rate, t0, quantum, stamps)

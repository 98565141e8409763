"""Wire codec for the Hip Hook force sensor (protocol v1, see docs/protocol.md).

Pure: no I/O and stdlib only, so the host link, the simulator and the tests share one
definition of the format. The decoder is built for throughput: a chunk made only of
well-formed sample lines is decoded with a handful of C-level passes over the whole
chunk; anything else falls back to a strict line-by-line parser that gives the same
answers (a property test holds the two paths together).
"""

from __future__ import annotations

import binascii
import json
import re
import struct
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Final

PROTOCOL_VERSION: Final = 1
DEFAULT_BAUD: Final = 115200
BAUD_RATES: Final = (115200, 230400, 460800, 921600)
MAX_LINE: Final = 64  # bytes, newline included; longer lines are discarded
RATE_MIN_HZ: Final = 10
RATE_MAX_HZ: Final = 1000
SEQ_MOD: Final = 1 << 16
MS_MOD: Final = 1 << 32
FORCE_MIN_CN: Final = -50_000  # -500 N: a tare gone wrong, not a real pull
FORCE_MAX_CN: Final = 300_000  # 3000 N: beyond any load cell fitted to the tool
TEXT_MAX: Final = 12  # model / firmware / serial fields of the identity line
CAL_MIN_G: Final = 100
CAL_MAX_G: Final = 200_000

# The longest sample line the format allows: the link budget is computed from it.
SAMPLE_LINE_MAX: Final = len(b"S%d,%d,%d*FFFF\n" % (SEQ_MOD - 1, MS_MOD - 1, FORCE_MIN_CN))

COMMANDS: Final = ("ID", "START", "STOP", "TARE", "RATE", "CAL", "BAUD")


# -- link budget --------------------------------------------------------------------------


def bytes_per_second(baud: int) -> int:
    """8N1 framing spends 10 bits on the wire for every byte."""
    return baud // 10


def max_rate_hz(baud: int) -> int:
    """Highest sample rate whose worst-case lines still fit the baud rate."""
    return min(RATE_MAX_HZ, bytes_per_second(baud) // SAMPLE_LINE_MAX)


def rate_fits(rate_hz: int, baud: int) -> bool:
    return rate_hz * SAMPLE_LINE_MAX <= bytes_per_second(baud)


def min_baud_for(rate_hz: int) -> int | None:
    """The slowest standard baud rate that carries `rate_hz`, or None."""
    for baud in BAUD_RATES:
        if rate_fits(rate_hz, baud):
            return baud
    return None


# -- checksum -----------------------------------------------------------------------------


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0): one C call here, `_crc_xmodem_update` on AVR."""
    return binascii.crc_hqx(data, 0)


def _seal(body: bytes) -> bytes:
    return b"%s*%04X\n" % (body, binascii.crc_hqx(body, 0))


# -- decoded items ------------------------------------------------------------------------

# A device sample is a bare tuple (seq, device_ms, force_cn): at 1 kHz and more, an object
# per sample would cost more than the decoding itself.
Sample = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PlainForce:
    """A reading from a do-it-yourself sensor: a bare number, already scaled to cN."""

    force_cn: int


@dataclass(frozen=True, slots=True)
class LeverEvent:
    """The lever switch state at device time `ms` (repeated as a heartbeat)."""

    ms: int
    engaged: bool


@dataclass(frozen=True, slots=True)
class Identity:
    protocol: int
    model: str
    firmware: str
    serial: str
    rate_hz: int
    baud: int


@dataclass(frozen=True, slots=True)
class Ack:
    """The device accepted a command; `value` is what it now holds (may be empty)."""

    command: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """The device refused a command, with a short upper-case reason."""

    command: str
    reason: str


Item = Sample | PlainForce | LeverEvent | Identity | Ack | Refusal


@dataclass(frozen=True, slots=True)
class Command:
    """A host command as the device sees it."""

    name: str
    arg: int | None = None


# -- encoders -----------------------------------------------------------------------------


def encode_sample(seq: int, ms: int, force_cn: int) -> bytes:
    """One sample line; seq and ms wrap like the device counters do."""
    force = max(FORCE_MIN_CN, min(FORCE_MAX_CN, int(force_cn)))
    return _seal(b"S%d,%d,%d" % (seq % SEQ_MOD, ms % MS_MOD, force))


def encode_lever(ms: int, engaged: bool) -> bytes:
    return _seal(b"L%d,%d" % (ms % MS_MOD, 1 if engaged else 0))


_TEXT_RE: Final = re.compile(rb"[A-Za-z0-9._-]{1,%d}" % TEXT_MAX)


def _text(value: str) -> bytes:
    raw = value.encode("ascii", "replace")[:TEXT_MAX]
    cleaned = bytes(c if _TEXT_RE.fullmatch(bytes([c])) else 0x5F for c in raw)
    return cleaned or b"_"


def encode_identity(ident: Identity) -> bytes:
    return _seal(
        b"I%d,%s,%s,%s,%d,%d"
        % (
            ident.protocol,
            _text(ident.model),
            _text(ident.firmware),
            _text(ident.serial),
            ident.rate_hz,
            ident.baud,
        )
    )


def encode_ack(command: str, value: str | int = "") -> bytes:
    body = b"K" + _text(command)
    if value != "":
        body += b"," + _text(str(value))
    return _seal(body)


def encode_refusal(command: str, reason: str) -> bytes:
    # "?" stands for a command the device could not read at all.
    name = b"?" if command in ("", "?") else _text(command)
    return _seal(b"E%s,%s" % (name, _text(reason)))


def encode_plain(force_n: float, decimals: int = 2) -> bytes:
    """A DIY sensor line as an Arduino sketch prints it: `Serial.println(newtons, 2)`."""
    return b"%.*f\r\n" % (decimals, force_n)


def encode_command(name: str, arg: int | None = None) -> bytes:
    """A host command, sealed with the same checksum the device uses."""
    body = name.upper().encode("ascii") if arg is None else b"%s %d" % (name.upper().encode(), arg)
    return _seal(body)


# -- host command parser (device side) ----------------------------------------------------

_COMMAND_RE: Final = re.compile(rb"([A-Za-z]{1,8})(?: (-?[0-9]{1,7}))?")
_HEX4_RE: Final = re.compile(rb"[0-9A-F]{4}")


def parse_command(line: bytes) -> Command | Refusal | None:
    """Parse one host line. The checksum is optional so a person can type commands in a
    terminal, but a present and wrong checksum refuses the line. Blank lines give None."""
    line = line.strip(b" \t\r\n")
    if not line:
        return None
    if len(line) >= MAX_LINE:
        return Refusal("?", "LONG")
    star = line.rfind(b"*")
    if star >= 0:
        body, tail = line[:star], line[star + 1 :]
        if _HEX4_RE.fullmatch(tail) is None or crc16(body) != int(tail, 16):
            return Refusal("?", "CHECKSUM")
        line = body
    m = _COMMAND_RE.fullmatch(line)
    if m is None:
        return Refusal("?", "SYNTAX")
    name = m.group(1).decode("ascii").upper()
    if name not in COMMANDS:
        return Refusal(name, "UNKNOWN")
    arg = None if m.group(2) is None else int(m.group(2))
    needs_arg = name in ("RATE", "CAL", "BAUD")
    if needs_arg != (arg is not None):
        return Refusal(name, "ARG")
    return Command(name, arg)


# -- decoder ------------------------------------------------------------------------------

_UINT = rb"(0|[1-9][0-9]*)"
_SAMPLE_RE: Final = re.compile(rb"S%s,%s,(-?(?:0|[1-9][0-9]*))" % (_UINT, _UINT))
_LEVER_RE: Final = re.compile(rb"L%s,([01])" % _UINT)
_IDENT_RE: Final = re.compile(
    rb"I%s,([A-Za-z0-9._-]+),([A-Za-z0-9._-]+),([A-Za-z0-9._-]+),%s,%s" % (_UINT, _UINT, _UINT)
)
_REPLY_RE: Final = re.compile(rb"([KE])([A-Za-z0-9._?-]+)(?:,([A-Za-z0-9._-]+))?")
# A DIY number: ASCII digits only, optional sign and fraction. No exponent, nan, inf, "_",
# or non-ASCII digits: float() would take all of those, none of them is a force.
_NUMBER: Final = rb"[+-]?(?:[0-9]{1,9}(?:\.[0-9]{0,6})?|\.[0-9]{1,6})"
_PLAIN_RE: Final = re.compile(_NUMBER)
# What HX711 sketches print (docs/protocol.md, "DIY sensors"): an optional label that ends
# in ":" or "=" ("Reading:", "HX711:", "Weight ="), the number, an optional unit.
_DIY_RE: Final = re.compile(
    rb"(?:[A-Za-z][A-Za-z0-9 _.()/-]{0,31}?[ \t]*[:=][ \t]*)?(%s)(?:[ \t]*(kg|g|lbs|lb|n))?"
    % _NUMBER,
    re.IGNORECASE,
)
# cN per unit a sketch names; a number without a unit uses the host's --diy-scale.
DIY_UNITS_CN: Final = {
    b"g": 0.980665,
    b"kg": 980.665,
    b"lb": 444.822162,
    b"lbs": 444.822162,
    b"n": 100.0,
}
# A header or status line ("HX711 scale demo", "Readings:", "HX711 not found."): printable
# ASCII holding a word. Ignored and counted, never a reading and never fatal.
_HEADER_RE: Final = re.compile(rb"[\x20-\x7e\t]*[A-Za-z]{2}[\x20-\x7e\t]*")

# Fast path helpers: bytes that may appear in a chunk of pure sample lines.
_FAST_ALLOWED: Final = b"0123456789ABCDEFS,-*\n"
_DIGITS_MINUS: Final = b"0123456789-"
_BODY: Final = itemgetter(slice(None, -5))
_TAIL: Final = itemgetter(slice(-4, None))
_ZERO: Final = 0
_SEQ_HALF: Final = SEQ_MOD // 2


class Decoder:
    """Streaming decoder: feed it whatever bytes arrive, get back the complete items.

    Never raises on any input. What it keeps between calls is one partial line of at most
    MAX_LINE bytes; a line that grows past the bound is discarded up to its newline and
    counted. Sequence gaps are counted as dropped samples.
    """

    def __init__(self, *, plain_scale_cn: float = 100.0, fast: bool = True) -> None:
        # cN per unit of a DIY sensor's bare numbers (100: the sketch prints newtons).
        self.plain_scale_cn = plain_scale_cn
        # A bare number is a reading only from a DIY sensor: once the host knows it speaks
        # to a protocol device it turns this off, so a frame split by a flipped bit (its
        # checksum alone on a line reads as a number) is a bad line, not a force.
        self.accept_plain = True
        self.fast = fast
        self._buf = b""
        self._skipping = False
        self._shapes: dict[int, bytes] = {}
        self.last_seq: int | None = None
        self.lines = 0
        self.samples = 0
        self.plain = 0
        self.ignored = 0  # a DIY sketch's header and status lines
        self.events = 0
        self.replies = 0
        self.bad_lines = 0
        self.checksum_errors = 0
        self.overlong = 0
        self.dropped = 0
        self.resyncs = 0

    @property
    def pending(self) -> int:
        """Bytes held for an incomplete line (never more than MAX_LINE)."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget the partial line and the sequence (after a reconnect); keep the counters."""
        self._buf = b""
        self._skipping = False
        self.last_seq = None

    def counters(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "samples": self.samples,
            "plain": self.plain,
            "ignored": self.ignored,
            "events": self.events,
            "replies": self.replies,
            "bad_lines": self.bad_lines,
            "checksum_errors": self.checksum_errors,
            "overlong": self.overlong,
            "dropped": self.dropped,
            "resyncs": self.resyncs,
        }

    def feed(self, data: bytes | bytearray | memoryview) -> list[Item]:
        try:
            return self._feed(bytes(data))
        except Exception:  # pragma: no cover - a bug guard: bad input must never escape
            self.reset()
            self.bad_lines += 1
            return []

    # -- internals ------------------------------------------------------------------------

    def _feed(self, data: bytes) -> list[Item]:
        if self._skipping:
            nl = data.find(b"\n")
            if nl < 0:
                return []
            data = data[nl + 1 :]
            self._skipping = False
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            self._hold(self._buf + data)
            return []
        chunk = self._buf + data[:cut] if self._buf else data[:cut]
        self._hold(data[cut:])
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        if self.fast:
            out = self._fast(chunk)
            if out is not None:
                return out
        out = []
        line_item = self._line
        for line in chunk.split(b"\n")[:-1]:
            line_item(line, out)
        return out

    def _hold(self, tail: bytes) -> None:
        if len(tail) >= MAX_LINE:
            self.overlong += 1
            self.lines += 1
            self._buf = b""
            self._skipping = True
        else:
            self._buf = tail

    def _fast(self, chunk: bytes) -> list[Item] | None:
        """Decode a chunk of nothing but sample lines in C-level passes, or return None."""
        n = chunk.count(b"\n")
        if chunk.translate(None, _FAST_ALLOWED) or chunk.count(b"*") != n:
            return None
        lines = chunk.split(b"\n")
        lines.pop()
        bodies = list(map(_BODY, lines))
        joined = b",".join(bodies)
        shape = self._shapes.get(n)
        if shape is None:
            shape = b",".join([b"S,,"] * n)
            if n <= 8192:
                self._shapes[n] = shape
        # Every line starts with S and every body, digits and signs aside, reads "S,,":
        # so each body is S<num>,<num>,<num> (json below checks the numbers).
        if chunk[:1] != b"S" or chunk.count(b"\nS") != n - 1:
            return None
        if joined.translate(None, _DIGITS_MINUS) != shape:
            return None
        crcs = list(map(binascii.crc_hqx, bodies, repeat(_ZERO)))
        want = binascii.hexlify(struct.pack(f">{n}H", *crcs)).upper()
        if b"".join(map(_TAIL, lines)) != want:
            return None
        try:
            nums = json.loads(b"[" + joined.replace(b"S", b"") + b"]")
        except ValueError:
            return None
        seqs = nums[0::3]
        mss = nums[1::3]
        forces = nums[2::3]
        if (
            min(seqs) < 0
            or max(seqs) >= SEQ_MOD
            or min(mss) < 0
            or max(mss) >= MS_MOD
            or min(forces) < FORCE_MIN_CN
            or max(forces) > FORCE_MAX_CN
        ):
            return None
        # Every minus sign must belong to a negative force ("-0" goes the slow way).
        if b"-" in joined and joined.count(b"-") != sum(map(_ZERO.__gt__, forces)):
            return None
        first = seqs[0]
        if first + n <= SEQ_MOD and seqs == list(range(first, first + n)):
            self._gap(first)
            self.last_seq = seqs[-1]
        else:
            gap = self._gap
            for s in seqs:
                gap(s)
        self.lines += n
        self.samples += n
        return list(zip(seqs, mss, forces, strict=True))

    def _gap(self, seq: int) -> None:
        last = self.last_seq
        if last is not None:
            gap = (seq - last - 1) % SEQ_MOD
            if gap >= _SEQ_HALF:
                self.resyncs += 1  # a device restart or a repeat, not lost samples
            else:
                self.dropped += gap
        self.last_seq = seq

    def _line(self, line: bytes, out: list[Item]) -> None:
        if not line.strip(b" \t\r"):
            return
        self.lines += 1
        if len(line) >= MAX_LINE:
            self.overlong += 1
            return
        star = line.rfind(b"*")
        if star < 0:
            self._plain(line, out)
            return
        body, tail = line[:star], line[star + 1 :]
        if star != len(line) - 5 or _HEX4_RE.fullmatch(tail) is None or not body:
            self.bad_lines += 1
            return
        if binascii.crc_hqx(body, 0) != int(tail, 16):
            self.checksum_errors += 1
            return
        item = _parse_body(body)
        if item is None:
            self.bad_lines += 1
        elif type(item) is tuple:
            self._gap(item[0])
            self.samples += 1
            out.append(item)
        else:
            if type(item) is LeverEvent:
                self.events += 1
            else:
                self.replies += 1
            out.append(item)

    def _plain(self, line: bytes, out: list[Item]) -> None:
        """A line without a checksum: a DIY reading, a DIY header, or a bad line."""
        text = line.strip(b" \t\r")
        if not self.accept_plain:
            self.bad_lines += 1  # a protocol device checksums every line it means
            return
        force = self._diy_force(text)
        if force is None:
            if _HEADER_RE.fullmatch(text) is not None:
                self.ignored += 1
            else:
                self.bad_lines += 1
            return
        if not FORCE_MIN_CN <= force <= FORCE_MAX_CN:
            self.bad_lines += 1
            return
        self.plain += 1
        out.append(PlainForce(force))

    def _diy_force(self, text: bytes) -> int | None:
        """The reading in one of the shapes DIY sketches print, in cN, or None."""
        rest = b""
        bar = text.find(b"|")
        if bar >= 0:
            # The HX711 library's pair, "one reading:\t12.3\t| average:\t12.1": the
            # first number is the reading; the average must read as one too.
            text, rest = text[:bar].rstrip(b" \t"), text[bar + 1 :].strip(b" \t")
            if b"|" in rest or _DIY_RE.fullmatch(rest) is None:
                return None
        m = _DIY_RE.fullmatch(text)
        if m is None:
            return None
        unit = m.group(2)
        scale = self.plain_scale_cn if unit is None else DIY_UNITS_CN[unit.lower()]
        return round(float(m.group(1)) * scale)


def _parse_body(body: bytes) -> Item | None:
    """A checksummed body to an item, or None when it breaks the grammar or a range."""
    tag = body[:1]
    if tag == b"S":
        m = _SAMPLE_RE.fullmatch(body)
        if m is None:
            return None
        seq, ms, force = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if seq >= SEQ_MOD or ms >= MS_MOD or not FORCE_MIN_CN <= force <= FORCE_MAX_CN:
            return None
        return (seq, ms, force)
    if tag == b"L":
        m = _LEVER_RE.fullmatch(body)
        if m is None or int(m.group(1)) >= MS_MOD:
            return None
        return LeverEvent(int(m.group(1)), m.group(2) == b"1")
    if tag == b"I":
        m = _IDENT_RE.fullmatch(body)
        if m is None:
            return None
        proto, rate, baud = int(m.group(1)), int(m.group(5)), int(m.group(6))
        if proto > 999 or rate > 100_000 or baud > 10_000_000:
            return None
        model, firmware, serial = (m.group(i).decode("ascii") for i in (2, 3, 4))
        return Identity(proto, model, firmware, serial, rate, baud)
    m = _REPLY_RE.fullmatch(body)
    if m is None:
        return None
    command = m.group(2).decode("ascii")
    value = (m.group(3) or b"").decode("ascii")
    if m.group(1) == b"K":
        return Ack(command, value)
    return Refusal(command, value)


def decode_line(line: bytes, *, plain_scale_cn: float = 100.0) -> Item | None:
    """Decode one complete line (without its newline); None when it is not valid."""
    out = Decoder(plain_scale_cn=plain_scale_cn, fast=False).feed(line + b"\n")
    return out[0] if out else None

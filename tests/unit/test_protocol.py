"""The wire codec: round trips, strict parsing, and a decoder that survives any bytes."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import protocol as p

seqs = st.integers(0, p.SEQ_MOD - 1)
mss = st.integers(0, p.MS_MOD - 1)
forces = st.integers(p.FORCE_MIN_CN, p.FORCE_MAX_CN)
samples = st.tuples(seqs, mss, forces)
texts = st.text(alphabet="ABCxyz019._-", min_size=1, max_size=p.TEXT_MAX)


def feed_in_chunks(dec: p.Decoder, data: bytes, cuts: list[int]) -> list[p.Item]:
    out: list[p.Item] = []
    start = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}):
        out += dec.feed(data[start:cut])
        assert dec.pending < p.MAX_LINE
        start = cut
    out += dec.feed(data[start:])
    return out


def test_crc_is_crc16_xmodem() -> None:
    assert p.crc16(b"123456789") == 0x31C3  # the catalogued check value


def test_link_budget() -> None:
    assert p.SAMPLE_LINE_MAX == len(b"S65535,4294967295,-50000*FFFF\n")
    assert p.max_rate_hz(115200) == 11520 // p.SAMPLE_LINE_MAX
    assert not p.rate_fits(1000, 115200)
    assert p.rate_fits(p.max_rate_hz(115200), 115200)
    assert p.min_baud_for(1000) == 460800
    assert p.min_baud_for(100) == 115200


def test_every_line_kind_fits_the_bound() -> None:
    longest = p.Identity(999, "M" * 20, "F" * 20, "S" * 20, 1000, 921600)
    assert len(p.encode_identity(longest)) <= p.MAX_LINE
    assert len(p.encode_sample(p.SEQ_MOD - 1, p.MS_MOD - 1, p.FORCE_MIN_CN)) <= p.MAX_LINE
    assert len(p.encode_refusal("X" * 30, "Y" * 30)) <= p.MAX_LINE


@given(st.lists(samples, max_size=200), st.lists(st.integers(0, 10_000), max_size=8))
def test_samples_round_trip_in_any_chunking(items: list[p.Sample], cuts: list[int]) -> None:
    data = b"".join(p.encode_sample(*s) for s in items)
    dec = p.Decoder()
    out = feed_in_chunks(dec, data, cuts)
    assert out == items
    assert dec.bad_lines == dec.checksum_errors == dec.overlong == 0


@given(mss, st.booleans(), st.integers(1, 999), texts, texts, texts, st.integers(10, 1000))
def test_other_lines_round_trip(
    ms: int, engaged: bool, proto: int, model: str, fw: str, sn: str, rate: int
) -> None:
    ident = p.Identity(proto, model, fw, sn, rate, 115200)
    assert p.decode_line(p.encode_identity(ident)[:-1]) == ident
    assert p.decode_line(p.encode_lever(ms, engaged)[:-1]) == p.LeverEvent(ms, engaged)
    assert p.decode_line(p.encode_ack("RATE", rate)[:-1]) == p.Ack("RATE", str(rate))
    assert p.decode_line(p.encode_ack("START")[:-1]) == p.Ack("START", "")
    assert p.decode_line(p.encode_refusal("RATE", "BUDGET")[:-1]) == p.Refusal("RATE", "BUDGET")


@settings(max_examples=300)
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=10))
def test_any_bytes_never_raise_and_memory_stays_bounded(data: bytes, cuts: list[int]) -> None:
    dec = p.Decoder()
    feed_in_chunks(dec, data, cuts)  # asserts the bound after every feed
    assert dec.pending < p.MAX_LINE


def test_endless_line_without_newline_is_bounded() -> None:
    dec = p.Decoder()
    for _ in range(1000):
        assert dec.feed(b"x" * 997) == []
        assert dec.pending < p.MAX_LINE
    assert dec.feed(b"tail of the monster\n" + p.encode_sample(1, 2, 3)) == [(1, 2, 3)]
    assert dec.overlong == 1


garbage = st.binary(max_size=120).map(lambda b: b.replace(b"\n", b"") + b"\n")


@settings(max_examples=200)
@given(
    st.lists(st.one_of(samples.map(lambda s: ("s", s)), garbage.map(lambda g: ("g", g)))),
    st.lists(st.integers(0, 5000), max_size=8),
)
def test_valid_frames_mixed_with_garbage_are_all_recovered(
    parts: list[tuple[str, object]], cuts: list[int]
) -> None:
    wire = b"".join(p.encode_sample(*x) if k == "s" else x for k, x in parts)  # type: ignore[arg-type, misc]
    expected = [x for k, x in parts if k == "s"]
    for fast in (True, False):
        dec = p.Decoder(fast=fast)
        got = [it for it in feed_in_chunks(dec, wire, cuts) if type(it) is tuple]
        assert got == expected


def corrupt(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for pos, bit in flips:
        if buf:
            buf[pos % len(buf)] ^= 1 << (bit % 8)
    return bytes(buf)


@settings(max_examples=300)
@given(
    st.lists(samples, max_size=60),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), max_size=6),
    st.binary(max_size=40),
    st.lists(st.integers(0, 3000), max_size=6),
)
def test_fast_path_and_strict_path_agree(
    items: list[p.Sample], flips: list[tuple[int, int]], junk: bytes, cuts: list[int]
) -> None:
    wire = corrupt(b"".join(p.encode_sample(*s) for s in items), flips) + junk + b"\n"
    fast, slow = p.Decoder(fast=True), p.Decoder(fast=False)
    assert feed_in_chunks(fast, wire, cuts) == feed_in_chunks(slow, wire, cuts)
    assert fast.counters() == slow.counters()


def test_fast_path_rejects_what_the_grammar_rejects() -> None:
    def sealed(body: bytes) -> bytes:
        return b"%s*%04X\n" % (body, p.crc16(body))

    for body in (b"S01,2,3", b"S1,-0,3", b"S1,2,3,4", b"S1,2", b"S-1,2,3", b"S1,2,1.5", b"1S,2,3"):
        chunk = sealed(b"S0,1,2") + sealed(body)
        assert p.Decoder(fast=True).feed(chunk) == p.Decoder(fast=False).feed(chunk)
        assert p.Decoder().feed(chunk) == [(0, 1, 2)], body
    assert p.Decoder().feed(sealed(b"S1,2,-0")) == [(1, 2, 0)]


def test_checksum_failure_is_counted_not_fatal() -> None:
    good = p.encode_sample(7, 100, 4200)
    bad = good.replace(b"4200", b"4201")
    dec = p.Decoder()
    assert dec.feed(bad + good) == [(7, 100, 4200)]
    assert dec.checksum_errors == 1
    assert dec.feed(b"s7,100,4200*0000\n") == []  # the tag is case-sensitive
    assert dec.bad_lines + dec.checksum_errors == 2
    assert dec.feed(b"S1,2,3*abcd\n") == []  # lower-case hex is not the format
    assert dec.bad_lines + dec.checksum_errors == 3


def test_sequence_gaps_count_as_dropped_and_wrap_is_not_a_gap() -> None:
    dec = p.Decoder()
    wire = b"".join(p.encode_sample(s, s, 0) for s in (65533, 65534, 65535, 0, 1, 4, 5))
    assert len(dec.feed(wire)) == 7
    assert dec.dropped == 2
    dec.reset()  # reconnect: the device restarted its counter
    dec.feed(p.encode_sample(0, 0, 0))
    assert dec.dropped == 2


def test_plain_numbers_are_parsed_strictly() -> None:
    ok = {b"12.5": 1250, b"-3": -300, b"  7.25\r": 725, b"+0.5": 50, b".5": 50, b"0": 0}
    for text, cn in ok.items():
        assert p.decode_line(text) == p.PlainForce(cn), text
    for text in (
        b"nan",
        b"inf",
        b"-Infinity",
        b"1_0",
        "\u0661\u0662".encode(),  # Arabic-Indic digits: float() takes them
        "\uff11".encode(),  # full-width one
        b"1e3",
        b"0x10",
        b"12 13",
        b"1.2.3",
        b"99999",  # 99,999 N is beyond the physical range
        b"-",
        b".",
    ):
        assert p.decode_line(text) is None, text
    assert p.decode_line(b"500", plain_scale_cn=1.0) == p.PlainForce(500)


def test_crlf_is_tolerated() -> None:
    wire = p.encode_sample(1, 2, 3).replace(b"\n", b"\r\n") + b"12.5\r\n"
    assert p.Decoder().feed(wire) == [(1, 2, 3), p.PlainForce(1250)]


def test_parse_command() -> None:
    assert p.parse_command(p.encode_command("rate", 500)) == p.Command("RATE", 500)
    assert p.parse_command(b"tare\r\n") == p.Command("TARE")  # typed by hand, no checksum
    assert p.parse_command(b"RATE 500*0000") == p.Refusal("?", "CHECKSUM")
    assert p.parse_command(b"RATE") == p.Refusal("RATE", "ARG")
    assert p.parse_command(b"ID 4") == p.Refusal("ID", "ARG")
    assert p.parse_command(b"DANCE") == p.Refusal("DANCE", "UNKNOWN")
    assert p.parse_command(b"\xff\xfe") == p.Refusal("?", "SYNTAX")
    assert p.parse_command(b"") is None


def test_core_codec_imports_no_io_libraries() -> None:
    code = (
        "import sys\n"
        "for name in ('serial', 'textual', 'sqlmodel', 'sqlalchemy'):\n"
        "    sys.modules[name] = None\n"
        "import app.core.protocol\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_examples_in_the_protocol_document_decode() -> None:
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
    examples = re.findall(r"`([SLIKE][^`*]*\*[0-9A-F]{4})`", doc.read_text(encoding="utf-8"))
    assert len(examples) >= 4
    for example in examples:
        assert p.decode_line(example.encode()) is not None, example
    assert p.parse_command(b"RATE 500*4F98") == p.Command("RATE", 500)


def test_diy_sketch_shapes_read_as_newtons() -> None:
    """The shapes HX711 sketches print; units converted, a bare number by the host scale."""
    shapes = {
        b"Reading: 12.3 g": round(12.3 * 0.980665),
        b"12.3 kg": round(12.3 * 980.665),
        b"12.3 KG": round(12.3 * 980.665),
        b"HX711: 12.34": 1234,
        b"one reading:\t12.3\t| average:\t12.1": 1230,  # the first number is the reading
        b"one reading:\t-0.4\t| average:\t0.03125": -40,
        b"Weight = 2 lbs": round(2 * 444.822162),
        b"1 lb": round(444.822162),
        b"Force: 250 N": 25000,
        b"  7.25 \r": 725,
    }
    for text, cn in shapes.items():
        assert p.decode_line(text) == p.PlainForce(cn), text
    # The host's --diy-scale applies to numbers without a unit only.
    assert p.decode_line(b"HX711: 3", plain_scale_cn=981.0) == p.PlainForce(2943)
    assert p.decode_line(b"3 g", plain_scale_cn=981.0) == p.PlainForce(round(3 * 0.980665))


def test_diy_headers_are_ignored_and_counted_garbage_is_bad() -> None:
    dec = p.Decoder()
    wire = (
        b"HX711 scale demo\r\nReadings:\r\nHX711 not found.\r\n\xff\xfe\x01\r\n"
        b"12 13\r\nReading: nan g\r\none reading:\t1\t| average:\tinf\r\n1e3 g\r\n"
        b"Reading: 5 g\r\n"
    )
    assert dec.feed(wire) == [p.PlainForce(round(5 * 0.980665))]
    assert dec.ignored == 5  # three headers, and two lines of words whose number is no force
    assert dec.bad_lines == 3  # the binary noise, two numbers, an exponent
    assert dec.plain == 1

"""Sounds rendered before the run: trimmed speech, tones, and the cache on disk."""

from __future__ import annotations

import shutil
import struct
from array import array
from pathlib import Path

import pytest

from app.core.cues import Cue, Tone
from app.cues.parts import STREAM, CueFallback, tones_through
from app.cues.render import (
    FADE_S,
    TRIM_MARGIN_S,
    TRIM_THRESHOLD,
    RenderError,
    SoundBank,
    Speaker,
    parse_wav,
    trim_silence,
)

SPEECH = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(
    SPEECH is None, reason="espeak-ng is not installed (.ci/run installs it for CI)"
)

CUES = [
    Cue("push", Tone.PUSH, 0.0),
    Cue("relax", Tone.RELAX, 2.0),
    Cue("3", Tone.COUNT, 3.0),
    Cue("Psoas press, left side. 90 seconds.", Tone.START, 4.0),
]


def samples_of(pcm: bytes) -> array:
    a = array("h")
    a.frombytes(pcm)
    return a


def leading_quiet_s(pcm: bytes, rate: int) -> float:
    a = samples_of(pcm)
    limit = TRIM_THRESHOLD * 32767
    first = next(i for i, v in enumerate(a) if abs(v) > limit)
    return first / rate


def trailing_quiet_s(pcm: bytes, rate: int) -> float:
    a = samples_of(pcm)
    limit = TRIM_THRESHOLD * 32767
    last = next(i for i in range(len(a) - 1, -1, -1) if abs(a[i]) > limit)
    return (len(a) - 1 - last) / rate


def test_trim_cuts_both_ends_keeps_a_margin_and_fades() -> None:
    rate = 1000
    loud = array("h", [20000] * 100)
    a = array("h", [0] * 50) + loud + array("h", [0] * 330)
    out = trim_silence(a, rate, margin_s=0.004, fade_s=0.004)
    assert len(out) == 100 + 2 * 4  # the loud part plus 4 ms either side
    assert out[0] == 0 and out[-1] == 0  # faded edges: no click
    assert out[10] == 20000 and out[-11] == 20000


def test_trim_of_silence_is_empty() -> None:
    assert len(trim_silence(array("h", [0] * 1000), 1000)) == 0


def test_parse_wav_reads_a_streamed_header_with_a_placeholder_length() -> None:
    body = array("h", [1, -2, 3, -4]).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 22050, 44100, 2, 16)
    wav = (
        b"RIFF"
        + struct.pack("<I", 0x7FFFFFFF)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", 0x7FFFFFFF)
        + body
    )
    samples, rate = parse_wav(wav)
    assert rate == 22050 and list(samples) == [1, -2, 3, -4]
    with pytest.raises(RenderError):
        parse_wav(b"not a wav at all")


def test_tones_are_cached_and_a_warm_bank_renders_nothing(tmp_path: Path) -> None:
    said: list[str] = []
    cold = SoundBank("tone", cache_dir=tmp_path)
    cold.prepare(CUES, say=said.append)
    assert cold.rendered == 4 and len(list(tmp_path.glob("*.wav"))) == 4
    assert said and "Preparing 4 tones" in said[0]  # a cold start says what it is doing
    warm_said: list[str] = []
    warm = SoundBank("tone", cache_dir=tmp_path)
    warm.prepare(CUES, say=warm_said.append)
    assert warm.rendered == 0 and warm_said == []
    for cue in CUES:
        assert warm.sound(cue).pcm == cold.sound(cue).pcm
        assert warm.duration(cue) == pytest.approx(cold.sound(cue).duration_s)


def test_volume_is_part_of_the_key_and_scales_the_samples(tmp_path: Path) -> None:
    full = SoundBank("tone", cache_dir=tmp_path)
    half = SoundBank("tone", cache_dir=tmp_path, volume=0.5)
    cue = CUES[0]
    assert full.sound(cue).key != half.sound(cue).key
    peak_full = max(abs(v) for v in samples_of(full.sound(cue).pcm))
    peak_half = max(abs(v) for v in samples_of(half.sound(cue).pcm))
    assert peak_half == pytest.approx(peak_full / 2, rel=0.01)


def test_a_damaged_cache_entry_is_rendered_again(tmp_path: Path) -> None:
    SoundBank("tone", cache_dir=tmp_path).prepare(CUES[:1])
    (entry,) = tmp_path.glob("*.wav")
    entry.write_bytes(b"RIFF garbage")
    again = SoundBank("tone", cache_dir=tmp_path)
    again.prepare(CUES[:1])
    assert again.rendered == 1 and again.sound(CUES[0]).duration_s > 0.2


def test_an_unwritable_cache_falls_back_to_memory_and_says_so_once(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    said: list[str] = []
    bank = SoundBank("tone", cache_dir=blocker / "sounds")
    bank.prepare(CUES, say=said.append)
    notes = [s for s in said if "cannot write the sound cache" in s]
    assert len(notes) == 1 and "in memory" in notes[0]
    assert all(bank.sound(c).duration_s > 0 for c in CUES)


def test_bad_mode_and_volume_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="tone' or 'voice"):
        SoundBank("bell")
    with pytest.raises(ValueError, match="volume"):
        SoundBank("tone", volume=2.0)


@needs_espeak
def test_speech_is_trimmed_to_a_few_ms_of_silence(tmp_path: Path) -> None:
    assert SPEECH is not None
    raw, rate = Speaker(SPEECH, None).render("push")
    raw_pcm = raw.tobytes()
    assert leading_quiet_s(raw_pcm, rate) > 0.03  # what espeak-ng gives: ~50 ms before
    assert trailing_quiet_s(raw_pcm, rate) > 0.2  # ... and ~330 ms after
    bank = SoundBank("voice", cache_dir=tmp_path)
    bank.prepare(CUES)
    for cue in CUES:
        s = bank.sound(cue)
        assert leading_quiet_s(s.pcm, s.rate) <= TRIM_MARGIN_S + FADE_S + 0.002, cue.text
        assert trailing_quiet_s(s.pcm, s.rate) <= TRIM_MARGIN_S + FADE_S + 0.002, cue.text
    assert bank.duration(CUES[0]) < len(raw) / rate - 0.25


@needs_espeak
def test_voice_cache_is_keyed_by_text_and_voice(tmp_path: Path) -> None:
    plain = SoundBank("voice", cache_dir=tmp_path)
    plain.prepare(CUES)
    other = SoundBank("voice", voice="en-us", cache_dir=tmp_path)
    other.prepare(CUES[:1])
    assert other.rendered == 1  # another voice is another sound
    warm = SoundBank("voice", cache_dir=tmp_path)
    warm.prepare(CUES)
    assert warm.rendered == 0
    assert plain.sound(CUES[0]).key != plain.sound(CUES[1]).key


@needs_espeak
def test_a_phrase_the_engine_cannot_say_gets_its_tone_and_a_word(tmp_path: Path) -> None:
    said: list[str] = []
    bank = SoundBank("voice", cache_dir=tmp_path)
    silent = Cue("", Tone.END, 0.0)  # espeak-ng renders nothing audible for it
    bank.prepare([silent, CUES[0]], say=said.append)
    tone = SoundBank("tone", cache_dir=tmp_path / "t").sound(silent)
    assert bank.sound(silent).pcm == tone.pcm
    assert any("could not speak ''" in s and "a tone plays instead" in s for s in said)
    assert bank.sound(CUES[0]).duration_s > 0.1  # the others are still spoken


@needs_espeak
def test_an_unknown_voice_falls_back_to_tones_with_a_clear_word(tmp_path: Path) -> None:
    said: list[str] = []
    bank = SoundBank("voice", voice="zzq", cache_dir=tmp_path)
    bank.prepare(CUES, say=said.append)
    notes = [s for s in said if "could not speak" in s]
    assert len(notes) == 1 and "voice does not exist" in notes[0]  # once, not per phrase
    assert bank.sound(CUES[0]).pcm == SoundBank("tone", cache_dir=tmp_path).sound(CUES[0]).pcm


def test_a_voice_bank_without_a_speech_engine_names_the_player_of_its_tones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No speech engine on the PATH (an empty folder, for real): the bank renders tones
    instead, and its note says what plays them in the chain's words ("tones through
    aplay"): tones through the sound stream, which plays what a bank renders."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    said: list[str] = []
    bank = SoundBank("voice", cache_dir=tmp_path / "sounds")
    bank.prepare(CUES[:1], say=said.append)
    assert said and isinstance(said[0], CueFallback), said
    assert (said[0].part, said[0].now) == ("speech engine", "tones through the sound stream")
    assert said[0].now == tones_through(STREAM)
    assert bank.sound(CUES[0]).duration_s > 0  # a tone, rendered all the same

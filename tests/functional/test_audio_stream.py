"""The one output stream, measured at the ear: a real PulseAudio server's null sink,
recorded with parec, onsets found in the samples (tests/support/pulse.py)."""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.cues import Cue, Tone
from app.cues.render import RATE, Sound, SoundBank
from app.cues.stream import AudioStream, AudioUnavailable
from tests.support.pulse import PulseServer, Recorder, has_sound_card, percentiles

LEAD_S = 0.4  # first sound this far ahead: placing is never in a hurry
ONSET_BOUND_S = 0.050  # the bound for every cue


def tone_sound(key: str, freq: float, secs: float, amp: float = 0.5) -> Sound:
    n = int(secs * RATE)
    t = np.arange(n) / RATE
    env = np.minimum(1.0, np.minimum(np.arange(n), n - 1 - np.arange(n)) / (0.002 * RATE))
    pcm = (amp * 32767 * env * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()
    return Sound(key=key, pcm=pcm, rate=RATE)


@pytest.fixture
def stream(pulse_server: PulseServer) -> Iterator[tuple[AudioStream, Recorder, list[str]]]:
    errors: list[str] = []
    # Record first: an idle null sink renders far ahead, which would stall a new stream.
    with Recorder(pulse_server) as rec:
        s = AudioStream.open(on_error=errors.append)
        try:
            yield s, rec, errors
        finally:
            s.close()


def test_sounds_are_heard_at_their_planned_times(
    stream: tuple[AudioStream, Recorder, list[str]], tmp_path: Path
) -> None:
    s, rec, errors = stream
    bank = SoundBank("tone", cache_dir=tmp_path)
    cues = [Cue("3", Tone.COUNT, 0), Cue("push", Tone.PUSH, 0), Cue("relax", Tone.RELAX, 0)]
    bank.prepare(cues)
    at = time.monotonic() + LEAD_S
    planned = []
    for i in range(24):
        sound = bank.sound(cues[i % 3])
        s.play_at(sound, at)
        planned.append(at)
        # uneven quiet between sounds (no lucky alignment with buffer sizes), never
        # under the 40 ms the onset finder needs to tell two sounds apart
        at += sound.duration_s + 0.06 + (i % 5) * 0.0137
    assert s.drain(timeout=15)
    found = rec.stop().match(planned)
    assert errors == []
    missing = [i for i, e in enumerate(found) if e is None]
    assert missing == [], f"not heard: {missing}"
    errs = [e for e in found if e is not None]
    stats = percentiles(errs)
    assert stats["max"] <= ONSET_BOUND_S * 1000, stats
    assert s.latency_s > 0  # what the stream reported, and what was compensated


def test_three_cues_at_one_boundary_follow_each_other_without_gaps_or_overlap(
    stream: tuple[AudioStream, Recorder, list[str]],
) -> None:
    """The old design's worst case: end, next start and first push due together."""
    s, rec, _ = stream
    a, b, c = (tone_sound(k, f, 0.15) for k, f in (("a", 440), ("b", 660), ("c", 880)))
    t0 = time.monotonic() + LEAD_S
    planned = [t0, t0 + 0.2, t0 + 0.4]
    for sound, at in zip((a, b, c), planned, strict=True):
        s.play_at(sound, at)
    assert s.drain()
    r = rec.stop()
    found = r.match(planned)
    assert all(e is not None and abs(e) <= ONSET_BOUND_S for e in found), found
    # 50 ms of silence between them: nothing was smeared or doubled
    for at in planned[:2]:
        assert not r.loud_between(at + 0.17, at + 0.19)


def test_cancel_from_drops_sounds_not_yet_started(
    stream: tuple[AudioStream, Recorder, list[str]],
) -> None:
    s, rec, _ = stream
    beep = tone_sound("beep", 1000, 0.1)
    t0 = time.monotonic() + LEAD_S
    ids = [s.play_at(beep, t0 + i * 0.3) for i in range(4)]
    assert len(set(ids)) == 4
    assert s.cancel_from(t0 + 0.3) == 3
    assert s.drain()
    r = rec.stop()
    found = r.match([t0 + i * 0.3 for i in range(4)])
    assert found[0] is not None and found[1:] == [None, None, None]


def test_drain_returns_after_the_last_sound_is_heard_to_its_end(
    stream: tuple[AudioStream, Recorder, list[str]],
) -> None:
    s, rec, _ = stream
    long = tone_sound("long", 523, 0.6)
    at = time.monotonic() + 0.2
    s.play_at(long, at)
    assert s.drain(timeout=3)
    done = time.monotonic()
    assert done >= at + 0.6 - 0.01
    time.sleep(0.1)  # let the recorder catch up with what was heard before `done`
    r = rec.stop()
    assert r.loud_between(at + 0.55, at + 0.59)  # the very end was heard
    assert s.pending() == 0


def test_closing_mid_sound_fades_out_instead_of_clicking(pulse_server: PulseServer) -> None:
    with Recorder(pulse_server) as rec:
        s = AudioStream.open()
        steady = tone_sound("steady", 440, 2.0)
        at = time.monotonic() + 0.2
        s.play_at(steady, at)
        while time.monotonic() < at + 0.5:  # wait for the state "half a second in"
            time.sleep(0.01)
        s.close(fade_s=0.03)
        with pytest.raises(AudioUnavailable):
            s.play_at(steady, time.monotonic())
        time.sleep(0.2)
    r = rec.stop()
    x = np.abs(r.samples.astype(np.int32))
    loud = np.flatnonzero(x > 0.01 * 32767)
    assert loud.size
    end = loud[-1]
    t_end = r.t0 + end / r.rate
    assert t_end < at + 1.0  # it did stop, long before the sound's end
    period = int(r.rate / 440) + 1
    last = x[end - period : end + 1].max()  # the last cycle before silence
    before = x[end - int(0.05 * r.rate) : end - int(0.04 * r.rate)].max()
    assert before > 0.4 * 32767  # full level 40-50 ms before the end
    assert last < 0.25 * before  # and a ramp down to nothing, not a cliff


def test_a_sound_at_another_rate_is_refused(
    stream: tuple[AudioStream, Recorder, list[str]],
) -> None:
    s, _, _ = stream
    with pytest.raises(ValueError, match="Hz"):
        s.play_at(Sound("x", b"\0\0" * 10, 8000), time.monotonic())


def test_the_server_killed_mid_run_is_told_once_and_never_crashes() -> None:
    try:
        own = PulseServer.start()
    except Exception as exc:  # noqa: BLE001 - same reason as the fixture
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no pulseaudio to kill: {exc}")
    saved = {k: os.environ.get(k) for k in own.env}
    os.environ.update(own.env)
    errors: list[str] = []
    try:
        with Recorder(own):
            s = AudioStream.open(on_error=errors.append)
            s.play_at(tone_sound("t", 440, 1.0), time.monotonic() + 0.1)
            time.sleep(0.3)
            own.kill()
            end = time.monotonic() + 5
            while s.alive and time.monotonic() < end:  # wait for the state, bounded
                time.sleep(0.02)
        assert not s.alive
        assert len(errors) == 1 and "sound output stopped" in errors[0]
        with pytest.raises(AudioUnavailable, match="fall back"):
            s.play_at(tone_sound("t", 440, 0.1), time.monotonic())
        assert s.drain(timeout=0.5) is False
        s.close()
        assert len(errors) == 1
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        own.stop()


@pytest.mark.skipif(
    has_sound_card(),
    reason="a real sound card is here: without a server "
    "PortAudio may still open it, so 'no device' cannot be staged",
)
def test_no_sound_server_is_a_clear_error(
    tmp_path: Path, pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nobody-here")
    with pytest.raises(AudioUnavailable) as info:
        AudioStream.open()
    assert "no sound output" in str(info.value) and "pactl info" in str(info.value)


def test_mixing_clips_instead_of_wrapping() -> None:
    from app.cues.stream import _mix_into

    buf = bytearray(array("h", [30000, -30000, 100]).tobytes())
    _mix_into(buf, 0, array("h", [30000, -30000, 1]).tobytes())
    out = array("h")
    out.frombytes(bytes(buf))
    assert list(out) == [32767, -32768, 101]

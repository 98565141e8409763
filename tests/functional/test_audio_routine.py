"""A short routine at real time, heard through a real sound server: every due cue, on its
beat, and the last one too. The whole path: runner -> CuePlayer -> cue plan -> sound bank
-> one stream -> PulseAudio's null sink -> parec -> onsets (tests/support/pulse.py)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from app.core.clock import MonotonicClock
from app.core.cues import Cue, Tone
from app.core.engine import Event, State
from app.core.routine import parse_routine
from app.cues import CueRecord, attach_cues
from app.runner import SessionRunner
from tests.support.pulse import PulseServer, Recorder, percentiles, short_routine

ONSET_BOUND_S = 0.050  # the bound, for every cue


# Each kind of boundary cue (a timed step's and a press's 3-2-1, push/relax, up/down, the
# end) at real time, as short as each mode allows with every drop a merge by rule: words
# need a longer press for the announcements to fit (shortened).
SHAPES = {
    "tone": {"reps": 1, "raises": 1, "timed_s": 3, "press_s": 3, "relax_s": 1},  # 13 s
    "voice": {"reps": 1, "raises": 1, "timed_s": 3, "press_s": 5, "relax_s": 1},  # 15 s
}


@pytest.mark.parametrize("mode", ["tone", "voice"])
def test_every_due_cue_is_heard_on_its_beat_and_the_last_one_too(
    mode: str, pulse_server: PulseServer, tmp_path: Path
) -> None:
    if mode == "voice" and shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (.ci/run installs it for CI)")
    routine = parse_routine(short_routine(**SHAPES[mode]))
    runner = SessionRunner(routine, MonotonicClock())
    t0: list[float] = []

    def origin(ev: Event) -> None:  # the run's t = 0 on the monotonic clock
        if not t0:
            t0.append(runner.clock.now() - runner.engine.t())

    runner.subscribe(origin)
    notes: list[str] = []
    with Recorder(pulse_server) as rec:
        player = attach_cues(runner, mode, note=notes.append, cache_dir=tmp_path / "cache")
        assert player.wait_ready(timeout=20), "sounds were not ready"
        assert player.mode == "stream", notes
        record = asyncio.run(asyncio.wait_for(runner.run(), 60))
        player.close()  # waits (<= 3 s) for the last cue to be heard
    r = rec.stop()
    assert record.state is State.FINISHED
    assert notes == [] or all("Preparing" in n for n in notes), notes

    played: list[CueRecord] = []  # what the stream kept: a re-plan takes back and re-places
    for c in player.records:
        if c.cancelled:
            played = [p for p in played if (p.text, p.start_t) != (c.text, c.start_t)]
        else:
            played.append(c)
    played.sort(key=lambda c: c.start_t)
    counts = player.counts()
    assert counts["placed"] == len(played) and counts["due"] == counts["placed"] + counts["dropped"]
    assert all(k == "dropped:merged" for k in counts if k.startswith("dropped:")), counts
    boundary = [c for c in played if c.role == "boundary"]
    assert boundary and all(c.start_t == pytest.approx(c.planned_t) for c in boundary)

    # A sound handed to the stream less than its latency ahead (the first step's
    # announcement, due at t = 0 when the run starts) cannot start sooner than that;
    # every boundary cue is placed ahead, so it must be on its beat.
    latency = player.stream.latency_s if player.stream is not None else 0.0
    soon = [c for c in played if c.start_t - c.t < latency]
    assert all(c.role != "boundary" for c in soon), soon
    found = r.match([t0[0] + c.start_t for c in played], late_s=latency + 0.25)
    unheard = [c.text for c, e in zip(played, found, strict=True) if e is None]
    assert unheard == [], f"not heard: {unheard}"
    errors = [e for e in found if e is not None]
    bound = [
        ONSET_BOUND_S + (max(0.0, c.t + latency - c.start_t) if c in soon else 0.0) for c in played
    ]
    off = [
        (c.text, round(e * 1000, 1))
        for c, e, b in zip(played, errors, bound, strict=True)
        if abs(e) > b
    ]
    assert off == [], (off, percentiles(errors))
    on_time = [e for c, e in zip(played, errors, strict=True) if c not in soon]
    assert max(abs(e) for e in on_time) <= ONSET_BOUND_S, percentiles(on_time)

    last = played[-1]
    assert last.tone == "finish", last
    assert player.bank is not None
    length = player.bank.duration(Cue(last.text, Tone(last.tone), 0.0))
    end = t0[0] + last.start_t + length + found[-1]  # type: ignore[operator]
    assert r.loud_between(end - 0.1, end - 0.02), "the last cue was cut short"

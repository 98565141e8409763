"""The fallback chain with real parts failing for real: a sound server that is not there,
a PATH without paplay, ALSA sent to the server by its own config. What the user is told
(once per part that failed, naming the one that took over) and what is heard, in both
faces: the plain runner's lines and the Routine screen's notices."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from app.core.clock import FakeClock
from app.core.cues import Cue, Tone, cue_for
from app.core.engine import Engine, Event, State
from app.core.routine import Routine, parse_routine
from app.cues import CuePlayer, attach_cues
from app.runner import SessionRunner
from app.tui.screens.routine import RoutineScreen
from tests.support.cli import hiphook
from tests.support.programs import need
from tests.support.pulse import (
    PulseServer,
    Recorder,
    alsa_home,
    has_sound_card,
    nobody_here,
    path_with,
    short_routine,
)
from tests.support.tui import drive, make_app, settle, start_run

NO_CARD = pytest.mark.skipif(
    has_sound_card(),
    reason="a real sound card is here: without a server ALSA may still open it, so "
    "'every player fails' cannot be staged",
)


def tiny() -> Routine:
    return parse_routine(short_routine(reps=1, raises=1, timed_s=3, press_s=3, relax_s=1))


def cue_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if n.startswith("Cues:")]


def play_heard(player: CuePlayer, rec: Recorder, cues: list[Cue]) -> list[tuple[float, float]]:
    """Each cue played to its end, one after another: (start, end) on the monotonic clock."""
    spans = []
    for cue in cues:
        t = time.monotonic()
        player.submit(cue)
        assert player.wait_idle(15), "the chain did not finish a cue"
        spans.append((t, time.monotonic()))
    assert rec.wait_past(spans[-1][1] + 0.02)
    return spans


def boundaries(engine: Engine, clock: FakeClock) -> list[list[Event]]:
    """Each dispatch of a whole run, as the runner would hand them out."""
    out = [engine.start()]
    while engine.state is not State.FINISHED:
        clock.advance((engine.next_deadline() or clock.now()) - clock.now())
        out.append(engine.poll())
    return out


def test_paplay_failing_hands_over_to_aplay_once_and_the_words_are_heard(
    pulse_server: PulseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """paplay cannot reach the server ($PULSE_SERVER is wrong); ALSA's own config sends
    aplay to it. The cue paplay failed on is played by aplay at once, still in words."""
    need("aplay", "alsa-utils")
    need("espeak-ng", "espeak-ng")
    monkeypatch.setenv("PULSE_SERVER", nobody_here(tmp_path))
    monkeypatch.setenv("HOME", str(alsa_home(pulse_server, tmp_path)))
    monkeypatch.setenv("PATH", path_with(["paplay", "aplay", "espeak-ng"], tmp_path))
    notes: list[str] = []
    player = attach_cues(
        SessionRunner(tiny(), FakeClock()), "voice", note=notes.append, stream=False
    )
    assert player.chain.describe() == "spoken cues through paplay"
    cues = [Cue("push", Tone.PUSH, 0.0), Cue("relax", Tone.RELAX, 0.0), Cue("up", Tone.UP, 0.0)]
    with Recorder(pulse_server) as rec:
        spans = play_heard(player, rec, cues)
    recording = rec.stop()
    player.close()
    assert len(notes) == 1, notes
    assert notes[0].startswith("Cues: paplay did not work (") and "Connection refused" in notes[0]
    assert notes[0].endswith("; aplay plays the cues from now on.")
    assert [(b, c.text) for b, c in player.played] == [("voice", c.text) for c in cues]
    assert player.chain.describe() == "spoken cues through aplay"
    quiet = [
        c.text for c, (a, b) in zip(cues, spans, strict=True) if not recording.loud_between(a, b)
    ]
    assert quiet == [], f"not heard: {quiet}"


def test_without_paplay_aplay_plays_and_nothing_needs_saying(
    pulse_server: PulseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("aplay", "alsa-utils")
    monkeypatch.setenv("PATH", path_with(["aplay"], tmp_path))
    notes: list[str] = []
    player = attach_cues(
        SessionRunner(tiny(), FakeClock()), "tone", note=notes.append, stream=False
    )
    assert player.chain.describe() == "tones through aplay"
    with Recorder(pulse_server) as rec:
        ((start, end),) = play_heard(player, rec, [Cue("push", Tone.PUSH, 0.0)])
    player.close()
    assert rec.stop().loud_between(start, end)
    assert notes == [] and player.played[0][0] == "tone"


@NO_CARD
def test_every_part_that_fails_is_told_once_and_the_bell_rings_every_key_cue(
    pulse_server: PulseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server at all: the stream, paplay and aplay each fail for real, each is said
    once (whatever the cue), naming what plays next; the bell has every key cue."""
    need("aplay", "alsa-utils")
    monkeypatch.setenv("PULSE_SERVER", nobody_here(tmp_path))
    monkeypatch.setenv("PATH", path_with(["paplay", "aplay"], tmp_path))
    routine = tiny()
    clock = FakeClock()
    runner = SessionRunner(routine, clock)
    rings: list[int] = []
    notes: list[str] = []
    player = attach_cues(
        runner, "tone", ring=lambda: rings.append(1), note=notes.append, cache_dir=tmp_path / "c"
    )
    assert player.wait_ready(10) and player.mode == "chain"
    key_cues = 0
    for events in boundaries(runner.engine, clock):
        player.handle(events)
        key_cues += sum(1 for ev in events if (c := cue_for(ev, routine)) is not None and c.ring)
        assert player.wait_idle(10)
    player.close()
    said = cue_notes(notes)
    assert len(said) == 3, said
    stream, paplay, aplay = said
    assert stream.startswith("Cues: the sound stream is not available (no sound output")
    assert stream.endswith("; tones through paplay from now on.")
    assert paplay.startswith("Cues: paplay did not work (")
    assert paplay.endswith("; aplay plays the cues from now on.")
    assert aplay.startswith("Cues: aplay did not work (")
    assert aplay.endswith("; the terminal bell from now on.")
    assert key_cues > 5 and len(rings) == key_cues  # the first one too: nothing was lost


@NO_CARD
def test_the_plain_runner_tells_each_failed_part_once(tmp_path: Path) -> None:
    """The plain face as a user runs it: its notices are lines of its own on stdout,
    beside the others, once each (`--json`'s note lines: tests/functional/test_json_notes.py)."""
    need("aplay", "alsa-utils")
    file = tmp_path / "tiny.toml"
    file.write_text(short_routine(reps=1, raises=1, timed_s=3, press_s=3, relax_s=1))
    env = {"PULSE_SERVER": nobody_here(tmp_path), "PATH": path_with(["paplay", "aplay"], tmp_path)}
    args = ["run", "--plain", "--cues", "tone", "--routine", str(file), "--time-scale", "40"]
    done = hiphook(*args, "--db", str(tmp_path / "h.db"), env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Cues:" not in done.stderr, done.stderr
    said = cue_notes(done.stdout.splitlines())
    assert [s.split(" ", 2)[1] for s in said] == ["the", "paplay", "aplay"], said
    assert said[-1].endswith("the terminal bell from now on.")
    assert done.stderr.count("\a") > 3  # the bell kept ringing, unannounced


@NO_CARD
def test_the_routine_screen_hears_each_failed_part_once(
    pulse_server: PulseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full-screen face: the same three notices reach the Routine screen (its status
    line, tests/functional/test_tui.py), once each however many cues follow."""
    need("aplay", "alsa-utils")
    monkeypatch.setenv("PULSE_SERVER", nobody_here(tmp_path))
    monkeypatch.setenv("PATH", path_with(["paplay", "aplay"], tmp_path))
    heard: list[str] = []
    notice = RoutineScreen.notice

    def spy(self: RoutineScreen, text: str, *, kind: str = "info") -> None:
        heard.append(text)
        notice(self, text, kind=kind)

    monkeypatch.setattr(RoutineScreen, "notice", spy)
    app, clock = make_app(tiny(), cues="tone")

    async def body(pilot: Pilot[Any]) -> None:
        await start_run(pilot)
        session = app.session
        assert session is not None and session.player is not None
        player = session.player
        for _ in range(8):  # a boundary a second: the start, the 3-2-1, the press...
            clock.advance(1.0)
            await settle(pilot)
            assert player.wait_idle(10)
        end = time.monotonic() + 10  # a bound for a lost notice, not a measure
        while len(cue_notes(heard)) < 3 and time.monotonic() < end:
            await pilot.pause(0.05)
        assert len(player.played) > 3

    drive(app, body)
    said = cue_notes(heard)
    assert [s.split(" ", 2)[1] for s in said] == ["the", "paplay", "aplay"], said

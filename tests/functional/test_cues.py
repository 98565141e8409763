"""The cue schedule (pure), the players' fallbacks and queue, and rendered WAV files."""

from __future__ import annotations

import asyncio
import itertools
import math
import shutil
import time
import wave
from array import array
from pathlib import Path

import pytest

from app.core.clock import FakeClock
from app.core.engine import Engine, Event, EventKind, State, run_to_end
from app.core.routine import Routine, StepKind, load_routine
from app.cues import (
    BellBackend,
    Cue,
    CuePlayer,
    Tone,
    ToneBackend,
    VoiceBackend,
    attach_cues,
    build_chain,
    cue_for,
    render_tone_wav,
)
from app.cues.tones import PATTERNS, RATE
from app.runner import SessionRunner


# --------------------------------------------------------------------------- the schedule
def expected_schedule(routine: Routine) -> list[tuple[float, str]]:
    """What a runner with eyes closed should hear, worked out from the routine alone."""
    out: list[tuple[float, str]] = []
    t = 0.0
    for step in routine.steps:
        out.append((t, f"start:{step.name}"))
        if step.kind in (StepKind.TIMED, StepKind.PRESS):
            out += [(t + step.seconds - n, str(n)) for n in (3, 2, 1)]
        elif step.kind in (StepKind.HOLDS, StepKind.REPS):
            a, b = ("push", "relax") if step.kind is StepKind.HOLDS else ("up", "down")
            for rep in range(step.reps):
                start = t + rep * (step.push_s + step.relax_s)
                out += [(start, a), (start + step.push_s, b)]
        t += step.planned_s  # an action step is confirmed at once in this run
        out.append((t, "done"))
    out.append((t, "finish"))
    return out


def heard(routine: Routine, events: list[Event]) -> list[tuple[float, str]]:
    out = []
    for ev in events:
        cue = cue_for(ev, routine)
        if cue is None:
            continue
        if cue.tone is Tone.START:
            label = f"start:{routine.steps[ev.step].name}"
            assert routine.steps[ev.step].name in cue.text
        elif cue.tone is Tone.FINISH:
            label = "finish"
        else:
            label = cue.text
        out.append((round(cue.t, 6), label))
    return out


@pytest.mark.parametrize("name", ["daily", "beginner", "ball"])
def test_every_cue_at_its_planned_time_for_a_whole_routine(name: str) -> None:
    routine = load_routine(name)
    routine = routine.for_side("left") if routine.sided else routine
    clock = FakeClock()
    events = run_to_end(Engine(routine, clock), clock.advance)
    want = [(round(t, 6), label) for t, label in expected_schedule(routine)]
    assert heard(routine, events) == want


def test_daily_cue_counts() -> None:
    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    cues = [
        c for ev in run_to_end(Engine(routine, clock), clock.advance) if (c := cue_for(ev, routine))
    ]
    texts = [c.text for c in cues]
    assert texts.count("push") == texts.count("relax") == 10
    assert texts.count("up") == texts.count("down") == 10
    presses = sum(1 for s in routine.steps if s.kind in (StepKind.PRESS, StepKind.TIMED))
    assert texts.count("3") == texts.count("2") == texts.count("1") == presses
    starts = [c.text for c in cues if c.tone is Tone.START]
    assert "Psoas press, left side. 1 minute 30." in starts
    assert "Lever, right side. Press Enter when done." in starts


def test_back_is_silent_skip_and_pause_are_said() -> None:
    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(routine, clock)
    engine.start()
    skip = [e for e in engine.skip() if e.kind is EventKind.STEP_FINISHED]
    back = [e for e in engine.back() if e.kind is EventKind.STEP_FINISHED]
    pause = engine.pause()
    resume = engine.resume()
    assert cue_for(skip[0], routine) == Cue("skipped", Tone.END, 0.0, stale_after=2.0)
    assert cue_for(back[0], routine) is None
    assert [cue_for(e, routine).text for e in pause + resume] == ["paused", "go on"]  # type: ignore[union-attr]


def test_the_bell_rings_only_for_key_cues() -> None:
    rings: list[str] = []
    bell = BellBackend(lambda: rings.append("ring"))
    bell.play(Cue("push", Tone.PUSH, 0, ring=True))
    bell.play(Cue("relax", Tone.RELAX, 0, ring=False))
    assert rings == ["ring"]


# --------------------------------------------------------------------------- choosing backends
def fake_which(*present: str):  # type: ignore[no-untyped-def]
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_chain_prefers_voice_then_tone_then_bell() -> None:
    chain, notes = build_chain("auto", which=fake_which("espeak-ng", "paplay"))
    assert [b.name for b in chain] == ["voice", "tone", "bell"] and notes == []
    chain, notes = build_chain("auto", which=fake_which())
    assert [b.name for b in chain] == ["bell"] and len(notes) == 1
    chain, notes = build_chain("voice", which=fake_which("aplay"))
    assert [b.name for b in chain] == ["tone", "bell"]
    assert "no speech engine" in notes[0] and "tones" in notes[0]
    chain, notes = build_chain("tone", which=fake_which("espeak-ng"))
    assert [b.name for b in chain] == ["bell"] and "no sound player" in notes[0]
    assert build_chain("none") == ([], [])
    with pytest.raises(ValueError):
        build_chain("loud")


class Failing:
    name = "voice"
    inline = False

    def __init__(self) -> None:
        self.calls = 0

    def play(self, cue: Cue) -> None:
        self.calls += 1
        raise OSError("espeak-ng: error: no sound device")


class Slow:
    name = "tone"
    inline = False

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.played: list[str] = []

    def play(self, cue: Cue) -> None:
        time.sleep(self.seconds)
        self.played.append(cue.text)


def test_a_failing_backend_falls_back_and_says_so_once() -> None:
    rings: list[int] = []
    notes: list[str] = []
    failing = Failing()
    player = CuePlayer(
        load_routine("ball"), [failing, BellBackend(lambda: rings.append(1))], note=notes.append
    )
    for _ in range(5):
        player.submit(Cue("go", Tone.START, 0, ring=True))
        assert player.wait_idle(2)
    player.close()
    assert failing.calls == 1
    assert len(notes) == 1 and "spoken cues did not work" in notes[0]
    assert "no sound device" in notes[0] and "the terminal bell from now on" in notes[0]
    assert len(rings) == 5  # the first cue was not lost: the bell played it instead


def failing_run(*failing: str):  # type: ignore[no-untyped-def]
    """A `run` for the backends: the named programs fail, the rest "play" (and a speech
    engine's -w writes its file)."""
    ran: list[str] = []

    def run(cmd: list[str]) -> None:
        name = Path(cmd[0]).name
        ran.append(name)
        if name in failing:
            raise OSError(f"{name}: error: it broke")
        if "-w" in cmd:
            Path(cmd[cmd.index("-w") + 1]).write_bytes(b"RIFF")

    return run, ran


def test_a_failing_player_hands_over_to_the_next_and_the_words_stay() -> None:
    run, ran = failing_run("paplay")
    chain, _ = build_chain("voice", which=fake_which("espeak-ng", "paplay", "aplay"), run=run)
    notes: list[str] = []
    player = CuePlayer(load_routine("ball"), chain, note=notes.append)
    for text in ("push", "relax", "push"):
        player.submit(Cue(text, Tone.PUSH, 0))
        assert player.wait_idle(2)
    player.close()
    assert notes == [
        "Cues: paplay did not work (error: it broke); aplay plays the cues from now on."
    ]
    assert [(b, c.text) for b, c in player.played] == [
        ("voice", "push"),
        ("voice", "relax"),
        ("voice", "push"),
    ]
    assert ran.count("paplay") == 1  # never tried again


def test_the_speech_engine_failing_hands_over_to_tones_through_the_same_player() -> None:
    run, _ = failing_run("espeak-ng")
    chain, _ = build_chain("voice", which=fake_which("espeak-ng", "paplay"), run=run)
    notes: list[str] = []
    player = CuePlayer(load_routine("ball"), chain, note=notes.append)
    for text in ("push", "relax"):
        player.submit(Cue(text, Tone.PUSH, 0))
        assert player.wait_idle(2)
    player.close()
    assert notes == [
        "Cues: espeak-ng did not work (error: it broke); tones through paplay from now on."
    ]
    assert [b for b, _c in player.played] == ["tone", "tone"]


def test_no_player_left_is_one_word_and_the_bell_rings() -> None:
    """Spoken cues and tones need a player: the last one failing is said once, not once
    for the words and again for the tones."""
    run, _ = failing_run("paplay", "aplay")
    rings: list[int] = []
    chain, _ = build_chain(
        "auto",
        ring=lambda: rings.append(1),
        which=fake_which("espeak-ng", "paplay", "aplay"),
        run=run,
    )
    notes: list[str] = []
    player = CuePlayer(load_routine("ball"), chain, note=notes.append)
    for _ in range(4):
        player.submit(Cue("push", Tone.PUSH, 0, ring=True))
        assert player.wait_idle(2)
    player.close()
    assert notes == [
        "Cues: paplay did not work (error: it broke); aplay plays the cues from now on.",
        "Cues: aplay did not work (error: it broke); the terminal bell from now on.",
    ]
    assert len(rings) == 4 and player.backend_name == "bell"


def test_cues_never_block_the_caller_and_stale_ones_are_dropped() -> None:
    slow = Slow(0.25)
    player = CuePlayer(load_routine("ball"), [slow], max_queue=4)
    t0 = time.perf_counter()
    for n in range(10):
        player.submit(Cue(f"c{n}", Tone.COUNT, 0, stale_after=0.1))
    # Playing all ten would take 2.5 s; queueing them must not wait for any of it.
    assert time.perf_counter() - t0 < 0.25
    assert player.wait_idle(5)
    player.close()
    # At most one plays (whichever the worker took first: when it starts depends on the
    # scheduler); everything queued behind it goes stale while it plays (0.25 s > 0.1 s)
    # or was pushed out of the 4-slot queue. Every other cue is dropped, not played.
    assert len(slow.played) <= 1
    assert player.dropped == 10 - len(slow.played)


def test_attached_cues_follow_a_runner_on_a_fake_clock() -> None:
    async def main() -> list[float]:
        clock = FakeClock()
        runner = SessionRunner(load_routine("ball").for_side("left"), clock)
        rings: list[float] = []
        player = attach_cues(runner, "bell", ring=lambda: rings.append(clock.now() - 1000))
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0)
        for _ in range(27):
            clock.advance(1)
            await asyncio.sleep(0)
        runner.abort()
        await asyncio.wait_for(task, 1)
        player.close()
        return rings

    rings = asyncio.run(main())
    first = load_routine("ball").steps[0]
    assert first.kind in (StepKind.TIMED, StepKind.PRESS) and first.seconds > 27
    assert rings == [0.0] + [first.seconds - n for n in (3, 2, 1) if first.seconds - n <= 27]


# --------------------------------------------------------------------------- rendered sound
def wav_stats(path: Path) -> tuple[float, float, int]:
    """(seconds, RMS as a fraction of full scale, peak) of a mono 16-bit WAV."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        rate = w.getframerate()
        samples = array("h", w.readframes(w.getnframes()))
    if samples and array("h", [1]).tobytes()[0] == 0:  # a big-endian host
        samples.byteswap()
    rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768
    return len(samples) / rate, rms, max((abs(s) for s in samples), default=0)


@pytest.mark.parametrize("tone", list(Tone))
def test_each_tone_renders_with_its_length_and_loudness(tone: Tone, tmp_path: Path) -> None:
    path = render_tone_wav(Cue("x", tone, 0), tmp_path / "t.wav")
    seconds, rms, peak = wav_stats(path)
    want = sum(d for _f, d in PATTERNS[tone])
    assert abs(seconds - want) <= 2 / RATE * len(PATTERNS[tone])
    assert 0.15 < rms < 0.45  # clearly audible
    assert peak < 32767  # never clipped


def test_tones_differ_by_ear() -> None:
    patterns = {tuple(PATTERNS[t]) for t in Tone}
    assert len(patterns) == len(Tone)


def test_tone_backend_plays_a_rendered_file(tmp_path: Path) -> None:
    played: list[list[str]] = []
    backend = ToneBackend(["/usr/bin/paplay"], run=played.append)
    backend.play(Cue("push", Tone.PUSH, 0))
    backend.play(Cue("push", Tone.PUSH, 2))
    assert played[0][0] == "/usr/bin/paplay" and played[0] == played[1]  # rendered once
    seconds, rms, _ = wav_stats(Path(played[0][1]))
    assert seconds > 0.2 and rms > 0.15
    backend.close()
    assert not Path(played[0][1]).exists()


SPEECH = shutil.which("espeak-ng") or shutil.which("espeak")


@pytest.mark.skipif(
    SPEECH is None,
    reason="no speech engine installed (apt-get install "
    "espeak-ng); .ci/run installs it so this runs in CI",
)
def test_speech_renders_words_to_a_wav(tmp_path: Path) -> None:
    assert SPEECH is not None
    voice = VoiceBackend(SPEECH)
    short = voice.render_wav(Cue("push", Tone.PUSH, 0), tmp_path / "push.wav")
    long = voice.render_wav(
        Cue("Iliacus press, right side. 1 minute 30.", Tone.START, 0), tmp_path / "start.wav"
    )
    s_short, rms_short, _ = wav_stats(short)
    s_long, rms_long, _ = wav_stats(long)
    assert 0.2 < s_short < 1.5  # a single word, short enough to fit a 2-second push
    assert s_short < s_long < 5.0
    assert rms_short > 0.02 and rms_long > 0.02  # speech, not silence


def test_voice_plays_through_the_player_when_there_is_one(tmp_path: Path) -> None:
    ran: list[list[str]] = []

    def run(cmd: list[str]) -> None:
        ran.append(cmd)
        if "-w" in cmd:
            Path(cmd[cmd.index("-w") + 1]).write_bytes(b"RIFF")

    voice = VoiceBackend("/usr/bin/espeak-ng", run=run, player=["/usr/bin/aplay", "-q"])
    voice.play(Cue("push", Tone.PUSH, 0))
    voice.play(Cue("push", Tone.PUSH, 2))
    renders = [c for c in ran if "-w" in c]
    plays = [c for c in ran if c[0] == "/usr/bin/aplay"]
    assert len(renders) == 1 and len(plays) == 2  # a phrase is rendered once, played twice
    voice.close()


def test_an_error_line_from_a_player_counts_as_a_failure() -> None:
    """espeak-ng exits 0 without a sound device; its "error:" line must still count."""
    from app.cues.backends import run_command

    with pytest.raises(OSError, match="no device"):
        run_command(["sh", "-c", "echo 'error: no device' >&2"])
    with pytest.raises(OSError, match="exit status 3"):
        run_command(["sh", "-c", "exit 3"])
    run_command(["true"])


# --------------------------------------------------------------------------- press harder
def test_a_press_that_never_reaches_the_band_gets_press_harder_once() -> None:
    from app.core.coach import HARDER_AFTER_S, CoachKind, PressureCoach
    from app.core.cues import cue_for_coach
    from app.core.pressure import Band

    routine = load_routine("daily").for_side("left")
    clock = FakeClock()
    engine = Engine(routine, clock)
    coach = PressureCoach(routine, band=Band(100.0, 300.0, calibrated=True), sensor_connected=True)
    out = []
    for ev in engine.start():
        coach.on_event(ev)
    clock.advance(30.0)
    for ev in engine.poll():  # the psoas press begins at 30 s
        out += coach.on_event(ev)
    for _ in range(200):  # 10 s of a light touch, 20 Hz, below the band
        clock.advance(0.05)
        out += coach.on_samples([(engine.t(), 40.0)]) + coach.tick(engine.t())
    harder = [e for e in out if e.kind is CoachKind.HARDER]
    assert len(harder) == 1 and harder[0].t == pytest.approx(30.0 + HARDER_AFTER_S, abs=0.06)
    cue = cue_for_coach(harder[0])
    assert cue is not None and cue.text == "press harder" and cue.ring
    # a press that reached the band, then slipped, is "press again", never "harder"
    coach2 = PressureCoach(routine, band=Band(100.0, 300.0, calibrated=True), sensor_connected=True)
    engine2 = Engine(routine, clock2 := FakeClock())
    for ev in engine2.start():
        coach2.on_event(ev)
    clock2.advance(30.0)
    for ev in engine2.poll():
        coach2.on_event(ev)
    got = coach2.on_samples([(30.5, 200.0)])
    got += coach2.on_samples([(30.5 + 0.05 * n, 20.0) for n in range(1, 200)])
    assert [e.kind for e in got if e.kind is CoachKind.HARDER] == []
    # without readings (no sensor) nothing is said
    coach3 = PressureCoach(routine, sensor_connected=False)
    engine3 = Engine(routine, clock3 := FakeClock())
    for ev in engine3.start():
        coach3.on_event(ev)
    clock3.advance(30.0)
    for ev in engine3.poll():
        coach3.on_event(ev)
    assert coach3.tick(45.0) == []


# --------------------------------------------------------------------------- the stream path
# The bank and the stream stand in for app.cues.render / app.cues.stream at their API
# (the real ones are measured through PulseAudio in the audio tests); here the point is
# what the player hands them and when, on a fake clock, with run seconds as "monotonic".
class FakeSound:
    def __init__(self, cue: Cue, seconds: float) -> None:
        self.key = f"{cue.tone.value}:{cue.text}"
        self.duration_s = seconds


class FakeBank:
    def __init__(self) -> None:
        self.prepared: set[str] = set()

    def prepare(self, cues: object, say: object = None) -> None:
        self.prepared |= {c.text for c in cues}  # type: ignore[attr-defined]

    def duration(self, cue: Cue) -> float:
        return 0.2 + 0.05 * len(cue.text)

    def sound(self, cue: Cue) -> FakeSound:
        return FakeSound(cue, self.duration(cue))


class FakeStream:
    latency_s = 0.0

    def __init__(self, fail_after: int | None = None) -> None:
        self.placed: list[tuple[int, float, str]] = []
        self.cancels: list[float] = []
        self.drained: list[float] = []
        self.closed: list[float] = []
        self.fail_after = fail_after
        self._ids = 0

    def play_at(self, sound: FakeSound, at: float) -> int:
        if self.fail_after is not None and self._ids >= self.fail_after:
            raise OSError("the sound server went away")
        self._ids += 1
        self.placed.append((self._ids, at, sound.key))
        return self._ids

    def cancel_from(self, at: float) -> int:
        keep = [p for p in self.placed if p[1] < at]
        n = len(self.placed) - len(keep)
        self.placed = keep
        self.cancels.append(at)
        return n

    def drain(self, timeout: float = 3.0) -> bool:
        self.drained.append(timeout)
        return True

    def close(self, fade_s: float = 0.03) -> None:
        self.closed.append(fade_s)


def stream_player(
    routine: Routine, stream: FakeStream | Exception, **kw: object
) -> tuple[CuePlayer, Engine, FakeClock, list[str]]:
    clock = FakeClock()
    engine = Engine(routine, clock)
    notes: list[str] = []
    rings: list[int] = []

    def open_stream(on_error: object) -> FakeStream:
        if isinstance(stream, Exception):
            raise stream
        return stream

    player = CuePlayer(
        routine,
        [BellBackend(lambda: rings.append(1))],
        note=notes.append,
        engine=engine,
        bank=FakeBank(),
        open_stream=open_stream,
        to_mono=lambda t: t,
        **kw,
    )  # type: ignore[arg-type]
    assert player.wait_ready(2)
    return player, engine, clock, notes


def feed(player: CuePlayer, events: list[Event]) -> None:
    player.handle(events)
    assert player.wait_idle(2)


def short_routine() -> Routine:
    from app.core.routine import Step

    return Routine(
        "r",
        "R",
        1,
        "",
        (
            Step(StepKind.TIMED, "Get into position", "x", seconds=8.0, side="left"),
            Step(StepKind.HOLDS, "Realignment", "x", reps=2, push_s=2.0, relax_s=3.0, side="left"),
            Step(StepKind.PRESS, "Psoas press", "x", seconds=30.0, side="left"),
        ),
    )


def test_the_player_schedules_the_plan_on_the_stream_ahead_of_time() -> None:
    stream = FakeStream()
    records: list[object] = []
    player, engine, clock, notes = stream_player(short_routine(), stream, on_cue=records.append)
    bank = player.bank
    assert (
        isinstance(bank, FakeBank)
        and {"Realignment.", "halfway", "press harder", "Routine complete. Well done."}
        <= bank.prepared
    )
    feed(player, engine.start())
    at: dict[str, float] = {}
    for _i, t, key in sorted(stream.placed, key=lambda p: p[1]):
        at.setdefault(key.split(":", 1)[1], t)  # the first of each
    # at the start, the rest of this step and all of the next are on the stream already
    assert at["3"] == 5.0 and at["push"] == 8.0 and at["relax"] == 10.0
    ann = next(t for k, t in at.items() if k.startswith("Realignment"))
    assert ann < 5.0  # announced before the count, in the step before
    assert at["done"] == 18.0  # the one at 8 s is merged into the push
    clock.advance(8.0)
    feed(player, engine.poll())  # the holds begin: the press's sounds join
    times = sorted(t for _i, t, _k in stream.placed)
    assert all(a != b for a, b in itertools.pairwise(times))
    keys = [k for _i, _t, k in stream.placed]
    assert keys.count("push:push") == 2 and "pace:halfway" in keys  # nothing twice
    while engine.state is not State.FINISHED:
        clock.advance((engine.next_deadline() or clock.now()) - clock.now())
        feed(player, engine.poll())
    assert stream.placed[-1][2] == "finish:Routine complete. Well done."
    assert [r.text for r in records if not r.cancelled][-1] == "Routine complete. Well done."
    assert all(r.to_dict()["event"] == "cue" for r in records)  # type: ignore[attr-defined]
    assert player.counts()["dropped"] == player.counts()["dropped:merged"] == 2
    player.close()
    assert stream.drained and stream.drained[0] <= 3.0 and stream.closed == [0.03]
    assert notes == []


def test_a_control_takes_back_the_sounds_not_started_and_places_the_new_ones() -> None:
    stream = FakeStream()
    player, engine, clock, _ = stream_player(short_routine(), stream)
    feed(player, engine.start())
    clock.advance(3.0)
    feed(player, engine.skip())  # the holds begin now, at 3 s
    at = sorted((t, k) for _i, t, k in stream.placed)
    assert stream.cancels and stream.cancels[-1] >= 3.0
    assert (3.0, "push:push") in at and (5.0, "relax:relax") in at
    # the old count (at 5 s) went with its step; the press's comes 3 s before its end
    assert [t for t, k in at if k == "count:3"] == [3.0 + 10.0 + 27.0]
    clock.advance(1.0)
    feed(player, engine.pause())
    # everything after the pause is taken back; "paused" waits for the words playing
    assert [k for _i, t, k in stream.placed if t >= 4.0] == ["pause:paused"]
    clock.advance(10.0)
    feed(player, engine.resume())  # the relax now falls at 15 s
    at = {k: t for _i, t, k in sorted(stream.placed, key=lambda p: -p[1]) if t >= 14.0}
    assert at["resume:go on"] == 14.0 and at["relax:relax"] == 15.0
    player.close()  # mid-run: no waiting, the stream fades
    assert stream.drained == [] and stream.closed == [0.03]


def test_no_stream_means_the_chain_plays_and_says_so_once() -> None:
    player, engine, clock, notes = stream_player(
        short_routine(), OSError("no sound output (PortAudio: no device)")
    )
    assert player.mode == "chain" and player.backend_name == "bell"
    feed(player, engine.start())
    clock.advance(5.0)
    feed(player, engine.poll())
    assert len(notes) == 1 and "no device" in notes[0] and "terminal bell" in notes[0]
    assert [c.text for _b, c in player.played] == ["Get into position, left side. 8 seconds.", "3"]
    player.close()


def test_a_stream_that_dies_mid_run_hands_over_to_the_chain() -> None:
    stream = FakeStream(fail_after=3)
    player, engine, clock, notes = stream_player(short_routine(), stream)
    feed(player, engine.start())  # the fourth sound fails: the stream is gone
    assert player.mode == "chain" and len(notes) == 1
    assert "the sound server went away" in notes[0]
    clock.advance(8.0)
    events = engine.poll()
    feed(player, events)  # from now on the chain (here the bell) has every cue
    want = [c.text for ev in events if (c := cue_for(ev, player.routine)) is not None]
    assert [c.text for _b, c in player.played] == want and "push" in want
    player.close()


def test_the_player_sees_a_whole_dispatch_before_it_plans() -> None:
    """Through a real runner: a skip's end, next start and first push arrive one by one;
    the plan is made after the last, so the push has its moment (not "skipped")."""

    async def main() -> FakeStream:
        routine = short_routine()
        clock = FakeClock()
        runner = SessionRunner(routine, clock)
        stream = FakeStream()
        player = CuePlayer(
            routine,
            [],
            engine=runner.engine,
            bank=FakeBank(),
            open_stream=lambda on_error: stream,
            to_mono=lambda t: t,
        )
        assert player.wait_ready(2)
        runner.subscribe(player)
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0)
        clock.advance(3.0)
        await asyncio.sleep(0)
        runner.skip()
        await asyncio.sleep(0)  # the flush runs once the dispatch is over
        assert player.wait_idle(2)
        runner.abort()
        await asyncio.wait_for(task, 1)
        player.close()
        return stream

    stream = asyncio.run(main())
    at = sorted((t, k) for _i, t, k in stream.placed)
    assert (3.0, "push:push") in at and (3.0, "end:skipped") not in at

"""Boundary -> sound onset at the ear, through a real PulseAudio server.

Why: the engine keeps boundaries to a millisecond, but the runner hears the routine. So
this plays the issue's short routine at real time (a 6 s timed step, a 10 s press, 5
holds of 2 s / 3 s, 5 calf raises of 2 s / 2 s; `--reps` changes the counts) into a
private server's null sink, records its monitor with parec (tests/support/pulse.py), finds the
onsets and compares each with its planned time:

- **stream**: the new path. The cue plan (app/core/cueplan.py) places every sound; each
  is put on the one output stream (app/cues/stream.py) with `play_at` at its planned
  time; sounds come from the sound bank (trimmed, cached).
- **player**: the whole path of a run: a real runner at real time with `attach_cues`
  (the CuePlayer re-plans on each step start and hands the stream each sound); the
  sounds placed less than the stream's latency ahead (the first announcement, due when
  the run starts) are counted apart, as the tests do.
- **paplay**: the design it replaces, in the same run: at each boundary the cue goes on a
  queue (4 deep, stale ones dropped as before), and one worker plays it with a new
  `paplay` process, waiting for it to exit; speech is espeak-ng's untrimmed WAV.

Both for tone and voice cues, idle and with one core kept busy by another process. Then
the library choice (the same click train through sounddevice, which reports when each
buffer reaches the speaker, and miniaudio, which does not: it can only assume its buffer
size), the warm and cold start of the daily routine's sounds, and the CPU of the audio
path during a press.

    .venv/bin/python bench/bench_cues.py            # about 9 minutes
    .venv/bin/python bench/bench_cues.py --reps 2   # about 5 minutes
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.clock import FakeClock  # noqa: E402
from app.core.cueplan import all_cues, dues_for_events, plan  # noqa: E402
from app.core.cues import Cue, Tone, cue_for  # noqa: E402
from app.core.engine import Engine, run_to_end  # noqa: E402
from app.core.routine import Routine, load_routine, parse_routine  # noqa: E402
from app.cues.render import RATE, SoundBank  # noqa: E402
from app.cues.stream import LATENCY_S, AudioStream  # noqa: E402
from app.cues.tones import render_tone_wav  # noqa: E402
from tests.support.pulse import PulseServer, Recorder, Recording, short_routine  # noqa: E402

TARGETS = {"heard_pct": 100.0, "p50": 10.0, "p99": 20.0, "max": 50.0, "cpu_pct": 2.0}
LEAD_S = 1.0  # the run starts this long after it is set up


@dataclass
class Result:
    name: str
    due: int
    heard: int
    errors_ms: list[float] = field(default_factory=list)
    overlaps: int = 0
    dropped: int = 0
    note: str = ""

    def row(self) -> str:
        a = np.abs(np.asarray(self.errors_ms)) if self.errors_ms else np.asarray([np.nan])
        pct = 100.0 * self.heard / self.due if self.due else 0.0
        return (
            f"{self.name:<28} {self.heard:>3}/{self.due:<3} {pct:6.1f}%  "
            f"{np.percentile(a, 50):7.1f} {np.percentile(a, 99):7.1f} {a.max():7.1f}  "
            f"{self.overlaps:>3}  {self.note}"
        )


HEADER = f"{'path':<28} {'heard':>7} {'':>7}  {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  ovl  note"


@contextmanager
def busy_core(on: bool) -> Iterator[None]:
    """Another process spinning on one core (what a busy machine does to the player)."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        yield
    finally:
        proc.kill()
        proc.wait()


def events_of(routine: Routine) -> list:  # type: ignore[type-arg]
    clock = FakeClock()
    return run_to_end(Engine(routine, clock), clock.advance)


# --------------------------------------------------------------------------- new path
def run_stream(server: PulseServer, routine: Routine, bank: SoundBank, name: str) -> Result:
    events = events_of(routine)
    dues = dues_for_events(events, routine, pacing=True)
    bank.prepare([f for d in dues for f in d.forms])
    the_plan = plan(dues, bank.duration, now=0.0)
    with Recorder(server) as rec:
        stream = AudioStream.open()
        t0 = time.monotonic() + LEAD_S
        ids = []
        for p in the_plan.placed:
            ids.append(stream.play_at(bank.sound(p.cue), t0 + p.start))
        while time.monotonic() < t0 + the_plan.placed[-1].end:
            time.sleep(0.05)
        stream.drain(timeout=5)
        time.sleep(0.1)
        stream.close()
    r = rec.stop()
    expected = [t0 + p.start for p in the_plan.placed]
    found = r.match(expected)
    errors = [e * 1000 for e in found if e is not None]
    # overlaps as the stream played them: a sound started before the one before ended
    spans = sorted(
        (stream.onsets[i], stream.onsets[i] + bank.sound(p.cue).duration_s)
        for i, p in zip(ids, the_plan.placed, strict=True)
        if i in stream.onsets
    )
    overlaps = sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1] - 1e-4)
    counts = the_plan.counts()
    note = (
        f"plan: {counts['due']} due, {counts['dropped']} merged by rule, "
        f"{counts['shortened']} shortened; latency {stream.latency_s * 1000:.0f} ms, "
        f"underruns {stream.underruns}; mean {np.mean(errors):+.1f} ms; "
        f"recorder timeline moved {r.timeline_shift_ms:.0f} ms"
    )
    return Result(name, len(expected), len(errors), errors, overlaps, counts["dropped"], note)


# --------------------------------------------------------------------------- the player
def run_player(server: PulseServer, routine: Routine, mode: str, name: str) -> Result:
    """The whole path a run takes: a real runner at real time, `attach_cues` (CuePlayer:
    re-plans on each step start, the stream, the bank), every kept sound matched."""
    import asyncio

    from app.core.clock import MonotonicClock
    from app.cues import attach_cues
    from app.runner import SessionRunner

    runner = SessionRunner(routine, MonotonicClock())
    t0: list[float] = []
    runner.subscribe(
        lambda ev: t0.append(runner.clock.now() - runner.engine.t()) if not t0 else None
    )
    notes: list[str] = []
    with Recorder(server) as rec:
        player = attach_cues(runner, mode, note=notes.append)
        player.wait_ready(30)
        if player.mode != "stream":
            rec.stop()
            return Result(name, 0, 0, [], 0, 0, f"no stream: {notes}")
        asyncio.run(runner.run())
        player.close()
        time.sleep(0.1)
    r = rec.stop()
    kept: dict[tuple[str, float], list[float]] = {}  # (text, start) -> when each was placed
    for c in player.records:
        got = kept.setdefault((c.text, c.start_t), [])
        if c.cancelled:
            del got[:1]
        else:
            got.append(c.t)
    latency = player.stream.latency_s if player.stream is not None else 0.0
    # A sound placed less than the stream's latency ahead (the first announcement, due
    # at t = 0 when the run starts) cannot be on time: counted apart, not in the figures.
    ahead = sorted(
        (start, text, ts[0])
        for (text, start), ts in kept.items()
        if ts and start - ts[0] >= latency
    )
    soon = sum(1 for (_x, start), ts in kept.items() if ts and start - ts[0] < latency)
    found = r.match([t0[0] + s for s, _x, _p in ahead], late_s=latency + 0.25)
    errors = [e * 1000 for e in found if e is not None]
    counts = player.counts()
    heard = [(abs(e), a) for e, a in zip(found, ahead, strict=True) if e is not None]
    worst_e, (w_start, w_text, w_placed) = max(heard) if heard else (0.0, (0.0, "-", 0.0))
    underruns = getattr(player.stream, "underruns", 0)
    note = (
        f"plan: {counts.get('due', 0)} due, {counts.get('dropped', 0)} dropped, {soon} placed "
        f"under the latency ahead (left out); mean {np.mean(errors):+.1f} ms; worst "
        f"{w_text!r} at {w_start:.2f} s (placed {w_start - w_placed:.2f} s ahead), "
        f"{worst_e * 1000:.0f} ms; underruns {underruns}; "
        f"recorder timeline moved {r.timeline_shift_ms:.0f} ms"
    )
    return Result(name, len(ahead), len(errors), errors, 0, counts.get("dropped", 0), note)


# --------------------------------------------------------------------------- old path
def run_paplay(
    server: PulseServer, routine: Routine, mode: str, name: str, wav_dir: Path
) -> Result:
    """The replaced design: a queue, one worker, one paplay per cue, stale ones dropped."""
    events = events_of(routine)
    cues = [(e.planned_t, c) for e in events if (c := cue_for(e, routine)) is not None]
    files: dict[str, Path] = {}
    for _, c in cues:
        key = c.text if mode == "voice" else c.tone.value
        if key not in files:
            path = wav_dir / f"{mode}-{len(files)}.wav"
            if mode == "voice":
                subprocess.run(["espeak-ng", "-s", "165", "-w", str(path), c.text], check=True)
            else:
                render_tone_wav(c, path)
            files[key] = path
    started: list[tuple[float, float]] = []  # (planned monotonic, process start)
    dropped = 0
    pending: list[tuple[float, Cue]] = []
    cv = threading.Condition()
    env = server.full_env()

    def worker() -> None:
        nonlocal dropped
        while True:
            with cv:
                while not pending:
                    cv.wait()
                queued_at, cue = pending.pop(0)
            if cue is None:  # type: ignore[comparison-overlap]
                return
            if time.monotonic() - queued_at > cue.stale_after:
                dropped += 1
                continue
            key = cue.text if mode == "voice" else cue.tone.value
            started.append((queued_at, time.monotonic()))
            subprocess.run(["paplay", str(files[key])], env=env, check=False)

    with Recorder(server) as rec:
        th = threading.Thread(target=worker, daemon=True)
        th.start()
        t0 = time.monotonic() + LEAD_S
        for planned, c in cues:  # each event "happens" at its deadline
            at = t0 + planned
            while (left := at - time.monotonic()) > 0:
                time.sleep(min(left, 0.05) if left > 0.002 else 0)
            with cv:
                if len(pending) >= 4:
                    pending.pop(0)
                    dropped += 1
                pending.append((at, c))
                cv.notify()
        end = time.monotonic() + 15
        while time.monotonic() < end:
            with cv:
                if not pending:
                    break
            time.sleep(0.05)
        time.sleep(3.0)  # the last paplay (and the server's buffer) finish
        with cv:
            pending.append((0.0, None))  # type: ignore[arg-type]
            cv.notify()
        th.join(timeout=10)
    r = rec.stop()
    errors = []
    onsets = r.onsets()
    for planned, proc_start in started:
        hits = onsets[(onsets >= proc_start - 0.01) & (onsets <= proc_start + 1.5)]
        if hits.size:
            errors.append((hits[0] - planned) * 1000)
    return Result(
        name,
        len(cues),
        len(errors),
        errors,
        0,
        dropped,
        f"{dropped} dropped (queue full or stale); recorder timeline moved "
        f"{r.timeline_shift_ms:.0f} ms",
    )


# --------------------------------------------------------------------------- libraries
def click_train(n: int = 40) -> tuple[np.ndarray, list[float]]:
    tone = 0.45 * 32767 * np.sin(2 * np.pi * 1000 * np.arange(int(0.06 * RATE)) / RATE)
    offsets = [0.3 + i * 0.25 + (i % 7) * 0.0131 for i in range(n)]
    return tone.astype(np.int16), offsets


def _mix(placed: list[float], tone: np.ndarray, first: float, frames: int) -> bytes:
    out = np.zeros(frames, np.int16)
    for at in placed:
        off = int(round((at - first) * RATE))
        if off < frames and off + len(tone) > 0:
            a, b = max(0, off), min(frames, off + len(tone))
            out[a:b] = tone[a - off : b - off]
    return out.tobytes()


def run_library(server: PulseServer, lib: str) -> Result:
    tone, offsets = click_train()
    placed: list[float] = []
    note = ""
    with Recorder(server) as rec:
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        if lib == "sounddevice":
            import sounddevice as sd

            def cb(out, frames, ti, status):  # type: ignore[no-untyped-def]
                first = time.monotonic() + (ti.outputBufferDacTime - ti.currentTime)
                out[:] = _mix(placed, tone, first, frames)

            dev = sd.RawOutputStream(
                samplerate=RATE, channels=1, dtype="int16", latency=LATENCY_S, callback=cb
            )
            dev.start()
            note = f"reported latency {dev.latency * 1000:.1f} ms, per buffer"
        else:
            import miniaudio

            ms = 10
            dev = miniaudio.PlaybackDevice(
                nchannels=1,
                sample_rate=RATE,
                buffersize_msec=ms,
                backends=[miniaudio.Backend.PULSEAUDIO],
            )
            assumed = ms / 1000  # no latency report: the configured buffer is all we know

            def gen():  # type: ignore[no-untyped-def]
                frames = yield b""
                while True:
                    frames = yield _mix(placed, tone, time.monotonic() + assumed, frames)

            g = gen()
            next(g)
            dev.start(g)
            note = f"no latency report; assumed the {ms} ms buffer"
        t0 = time.monotonic() + 0.5
        expected = [t0 + o for o in offsets]
        placed.extend(expected)
        while time.monotonic() < expected[-1] + 0.3:
            time.sleep(0.05)
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        wall = expected[-1] + 0.3 - (t0 - 0.5)
        dev.close()
    r: Recording = rec.stop()
    found = r.match(expected)
    errors = [e * 1000 for e in found if e is not None]
    cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / wall * 100
    mean = float(np.mean(errors)) if errors else float("nan")
    return Result(
        lib,
        len(expected),
        len(errors),
        errors,
        0,
        0,
        f"{note}; mean {mean:+.1f} ms, spread {np.std(errors):.2f} ms; "
        f"process CPU {cpu:.1f}% (with the recorder)",
    )


# --------------------------------------------------------------------------- start, CPU
def start_times() -> list[str]:
    out = []
    routine = load_routine("daily")
    cues = all_cues(routine)
    for mode in ("tone", "voice"):
        cache = Path(tempfile.mkdtemp(prefix="hiphook-bench-cache-"))
        t = time.monotonic()
        SoundBank(mode, cache_dir=cache).prepare(cues)
        cold = time.monotonic() - t
        t = time.monotonic()
        warm_bank = SoundBank(mode, cache_dir=cache)
        warm_bank.prepare(cues)
        warm = time.monotonic() - t
        shutil.rmtree(cache, ignore_errors=True)
        out.append(
            f"daily routine, {mode:<5}: {len(cues)} cues; cold start {cold:.2f} s "
            f"(target <= 2 s), warm start {warm * 1000:.0f} ms (target <= 1 s)"
        )
    return out


def press_cpu(server: PulseServer, seconds: float = 10.0) -> list[str]:
    """CPU of the audio path while a press runs: the stream open, a pacing cue halfway."""
    bank = SoundBank("voice")
    halfway = Cue("halfway", Tone.PACE, 0.0)
    bank.prepare([halfway])
    lines = []
    # parec in its own process keeps the null sink running as a card would
    rec = subprocess.Popen(
        ["parec", "--latency-msec=5", "-d", server.monitor],
        env=server.full_env(),
        stdout=subprocess.DEVNULL,
    )
    try:
        stream = AudioStream.open()
        time.sleep(0.5)
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        stream.play_at(bank.sound(halfway), t0 + seconds / 2)
        while time.monotonic() < t0 + seconds:
            time.sleep(0.1)
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic() - t0
        stream.close()
        cpu = (c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) / wall * 100
        lines.append(
            f"stream, {seconds:.0f} s press: {cpu:.2f}% of a core for the whole "
            f"process ({stream.callbacks / wall:.0f} callbacks/s)"
        )
        wav = Path(tempfile.mkdtemp()) / "halfway.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "halfway"], check=True)
        k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(["paplay", str(wav)], env=server.full_env(), check=True)
        k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        per = (k1.ru_utime + k1.ru_stime - k0.ru_utime - k0.ru_stime) * 1000
        lines.append(
            f"paplay, the same cue: {per:.0f} ms of CPU per cue in its process "
            f"(over {(time.monotonic() - t0) * 1000:.0f} ms of wall time)"
        )
        shutil.rmtree(wav.parent, ignore_errors=True)
    finally:
        rec.terminate()
        rec.wait()
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="holds and raises (default 5)")
    ap.add_argument("--skip-old", action="store_true", help="without the paplay baseline")
    ap.add_argument(
        "--routine",
        help="a routine name or file instead of the short one (daily: ~9 minutes per run)",
    )
    ap.add_argument("--idle-only", action="store_true", help="without the busy-core runs")
    ap.add_argument(
        "--player-only",
        action="store_true",
        help="only the whole path (runner, CuePlayer, stream), not the bare plan on the stream",
    )
    ap.add_argument(
        "--onsets-only",
        action="store_true",
        help="only the routine runs (no library, start or CPU figures)",
    )
    args = ap.parse_args(argv)
    for tool in ("pulseaudio", "parec", "paplay", "espeak-ng"):
        if shutil.which(tool) is None:
            print(
                f"bench_cues: {tool} is missing (apt-get install pulseaudio "
                "pulseaudio-utils espeak-ng)",
                file=sys.stderr,
            )
            return 2
    server = PulseServer.start()
    os.environ.update(server.env)
    routine = (
        load_routine(args.routine).for_side("left")
        if args.routine
        else parse_routine(short_routine(args.reps))
    )
    wav_dir = Path(tempfile.mkdtemp(prefix="hiphook-bench-wav-"))
    try:
        print(
            f"routine: {routine.name}, {len(routine.steps)} steps, "
            f"{sum(s.planned_s for s in routine.steps):.0f} s; targets: heard 100%, p50 <= "
            f"{TARGETS['p50']:.0f} ms, p99 <= {TARGETS['p99']:.0f} ms, max <= "
            f"{TARGETS['max']:.0f} ms, 0 overlaps, CPU <= {TARGETS['cpu_pct']:.0f}%"
        )
        print(
            f"onset = first recorded sample above 2% of full scale; error = onset - "
            f"planned start\n\n{HEADER}"
        )
        for busy in (False,) if args.idle_only else (False, True):
            load = "busy core" if busy else "idle"
            for mode in ("tone", "voice"):
                with busy_core(busy):
                    print(
                        run_player(server, routine, mode, f"player {mode}, {load}").row(),
                        flush=True,
                    )
                    if args.player_only:
                        continue
                    bank = SoundBank(mode)
                    print(
                        run_stream(server, routine, bank, f"stream {mode}, {load}").row(),
                        flush=True,
                    )
                    if not args.skip_old:
                        print(
                            run_paplay(
                                server, routine, mode, f"paplay {mode}, {load}", wav_dir
                            ).row(),
                            flush=True,
                        )
        if args.onsets_only:
            return 0
        print("\nlibrary: the same 40 clicks, each placed by the callback at its time")
        print(HEADER)
        for lib in ("sounddevice", "miniaudio"):
            print(run_library(server, lib).row(), flush=True)
        print("\nstart:")
        for line in start_times():
            print("  " + line)
        print("\nCPU of the audio path:")
        for line in press_cpu(server):
            print("  " + line)
    finally:
        shutil.rmtree(wav_dir, ignore_errors=True)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

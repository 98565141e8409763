"""A cue part that fails reaches a program reading `hiphook run --json` as a `note` line.

The parts fail for real, as in tests/functional/test_cues_fallback.py: a $PULSE_SERVER
where nobody listens (the stream, paplay and ALSA's default all fail to connect) and a
PATH holding only paplay and aplay; or a sound server of the test's own, killed in the
middle of a run. The hand-off itself (the player's thread to the loop, and what happens
once the loop is gone) is driven with a real loop and real threads.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path

import pytest

from app.core.clock import FakeClock
from app.core.cues import cue_for
from app.core.engine import Engine, Event, State
from app.core.routine import parse_routine
from app.plain import NoteRelay
from tests.support.cli import JsonLines, hiphook, start
from tests.support.programs import need
from tests.support.pulse import (
    PulseServer,
    has_sound_card,
    nobody_here,
    path_with,
    short_routine,
    silent_server,
)

TINY = short_routine(reps=1, raises=1, timed_s=3, press_s=3, relax_s=1)
# A step that waits for Enter between two timed ones: the run holds still while the test
# kills the sound server and waits for the stream's note, with no time to race.
LEVER = """
name = "lever"
title = "Lever between two steps"
version = 1
description = "A run that waits for Enter."

[[step]]
kind = "timed"
name = "Lie down"
instruction = "Lie still."
seconds = 3

[[step]]
kind = "action"
name = "Lever"
seconds = 10
instruction = "Push the lever, then press Enter."

[[step]]
kind = "timed"
name = "Rest"
instruction = "Lie still."
seconds = 3
"""


def first_cued(text: str) -> Event:
    """The first event of the routine that has a cue: no part can fail before it."""
    routine = parse_routine(text)
    clock = FakeClock()
    engine = Engine(routine, clock)
    events = engine.start()
    while engine.state is not State.FINISHED:
        for ev in events:
            if cue_for(ev, routine) is not None:
                return ev
        clock.advance((engine.next_deadline() or clock.now()) - clock.now())
        events = engine.poll()
    raise AssertionError("the routine has no cue at all")


@pytest.mark.skipif(
    has_sound_card(),
    reason="a real sound card is here: without a server ALSA may still open it, so "
    "'every player fails' cannot be staged",
)
def test_each_failed_cue_part_is_a_json_note_line_in_order_and_none_is_lost(
    tmp_path: Path,
) -> None:
    """Spoken cues asked for, no speech engine on the PATH (said while the run is being
    assembled, before the face or its loop exist), then the stream, paplay and aplay
    failing for real: four note lines, each once, each where it happened."""
    need("paplay", "pulseaudio-utils")
    need("aplay", "alsa-utils")
    file = tmp_path / "tiny.toml"
    file.write_text(TINY)
    env = {"PULSE_SERVER": nobody_here(tmp_path), "PATH": path_with(["paplay", "aplay"], tmp_path)}
    args = ["run", "--json", "--cues", "voice", "--routine", str(file), "--time-scale", "40"]
    done = hiphook(*args, "--db", str(tmp_path / "h.db"), env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]  # every line is JSON
    kinds = [obj["event"] for obj in lines]
    notes = [i for i, obj in enumerate(lines) if obj.get("kind") == "cue_fallback"]
    said = [(lines[i]["part"], lines[i]["now"]) for i in notes]
    # The first two are said on two threads at the start (assembly, the stream's opening):
    # either may come first. The players fail later, one after the other.
    # Each `now` names the player: the missing engine is said while the stream is to
    # play the tones; the stream's failure hands them to paplay.
    assert sorted(said[:2]) == [
        ("sound stream", "tones through paplay"),
        ("speech engine", "tones through the sound stream"),
    ], said
    assert said[2:] == [("paplay", "tones through aplay"), ("aplay", "the terminal bell")], said
    for i in notes:
        assert set(lines[i]) == {"event", "kind", "part", "now", "text"}
        assert lines[i]["event"] == "note" and lines[i]["text"].startswith("Cues: ")
    assert "Connection refused" in lines[notes[2]]["text"]  # paplay's own words, passed on
    # In order with the events: what is missing and the stream are told before the run
    # starts (the sounds are prepared first); a player can fail only on a cue, so after
    # the first event that has one; all before the summary, which is the last line.
    cued = first_cued(TINY)
    at = next(
        i
        for i, obj in enumerate(lines)
        if (obj["event"], obj.get("step"), obj.get("planned_t"))
        == (cued.kind.value, cued.step, round(cued.planned_t, 4))
    )
    _, second, paplay, aplay = notes  # the first two: either order, both before the start
    assert second < kinds.index("run_started") < at < paplay < aplay < kinds.index("summary")
    assert kinds[-1] == "summary" and kinds.count("step_finished") == 4
    # Told once, in the stream only: nothing of it went to stderr (the bell rang there).
    assert "Cues:" not in done.stderr and "hiphook:" not in done.stderr, done.stderr
    assert done.stderr.count("\a") > 3


def test_a_sound_server_killed_mid_run_is_a_note_line_and_so_is_the_player_after_it(
    tmp_path: Path,
) -> None:
    """The stream plays until its server is killed during the step that waits for Enter;
    the stream's thread says so, in a note before anything else happens. After Enter, the next
    cue goes to paplay, which cannot reach the dead server either: a second note, after
    the step that Enter ended, before the summary. Nothing on stderr but the bell."""
    need("paplay", "pulseaudio-utils")
    try:
        own = PulseServer.start(tmp_path / "pulse")
    except Exception as exc:  # noqa: BLE001 - as the audio tests: no server, no test
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no pulseaudio to kill: {exc}")
    file = tmp_path / "lever.toml"
    file.write_text(LEVER)
    env = {**own.env, "PATH": path_with(["paplay"], tmp_path)}
    args = ["run", "--json", "--cues", "tone", "--routine", str(file), "--time-scale", "20"]
    run = start(*args, "--db", str(tmp_path / "h.db"), env=env)
    try:
        assert run.stdin is not None and run.stdout is not None and run.stderr is not None
        lines = JsonLines(run.stdout)
        waiting = lines.until(lambda obj: obj["event"] == "waiting")
        assert any(obj["event"] == "cue" for obj in lines.seen)  # the stream played
        assert not [obj for obj in lines.seen if obj.get("kind") == "cue_fallback"]
        own.kill()
        stream = lines.until(lambda obj: obj.get("kind") == "cue_fallback", timeout=15)
        between = {obj["event"] for obj in lines.seen[waiting + 1 : stream]}
        assert between <= {"cue"}, lines.seen[waiting:]  # the run waits: no event between
        assert lines.seen[stream]["part"] == "sound stream"
        assert lines.seen[stream]["now"] == "tones through paplay"
        assert "sound output stopped" in lines.seen[stream]["text"]
        run.stdin.write("\n")  # Enter: the lever step is done, the next step's cue is due
        run.stdin.flush()
        summary = lines.until(lambda obj: obj["event"] == "summary")
        run.stdin.close()
        assert run.wait(timeout=15) == 0
        err = run.stderr.read()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=5)
        own.stop()
    seen = lines.seen
    notes = [i for i, obj in enumerate(seen) if obj.get("kind") == "cue_fallback"]
    assert [seen[i]["part"] for i in notes] == ["sound stream", "paplay"], seen
    assert seen[notes[1]]["now"] == "the terminal bell"
    enter = next(
        i
        for i, obj in enumerate(seen)
        if obj["event"] == "step_finished" and obj["name"].startswith("Lever")
    )
    assert stream < enter < notes[1] < summary == len(seen) - 1
    assert "Cues:" not in err and "hiphook:" not in err and "Traceback" not in err, err


# The end of a finished run waits this long at most for its last cues (docs/architecture.md).
END_WAIT_S = 3.0


def test_a_finished_run_whose_sound_hangs_ends_within_one_wait_not_two(
    tmp_path: Path,
) -> None:
    """A sound server that takes the connection and never answers: the stream's opening
    hangs on it, so the last cues are never planned. The run still finishes; the end waits
    for them once (3 s, before the summary), and the player's close after the summary
    waits only for what is left of that deadline, not 3 s more."""
    file = tmp_path / "tiny.toml"
    file.write_text(TINY)
    with silent_server(tmp_path) as server:
        env = {"PULSE_SERVER": server, "PATH": path_with(["paplay"], tmp_path)}
        args = ["run", "--json", "--cues", "tone", "--routine", str(file), "--time-scale", "40"]
        run = start(*args, "--db", str(tmp_path / "h.db"), env=env)
        try:
            assert run.stdin is not None and run.stdout is not None and run.stderr is not None
            run.stdin.close()
            lines = JsonLines(run.stdout)
            lines.until(lambda obj: obj["event"] == "finished", timeout=60)
            finished = time.monotonic()
            lines.until(lambda obj: obj["event"] == "summary")
            assert run.wait(timeout=30) == 0, run.stderr.read()
            took = time.monotonic() - finished
        finally:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=5)
    # It waited (the cues never played), once: two waits would be 6 s and more.
    assert END_WAIT_S <= took < 2 * END_WAIT_S, took
    assert lines.seen[-1]["event"] == "summary"


def test_the_hand_off_never_waits_on_the_loop_and_keeps_the_order(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A player's thread says many notes while the loop is busy: each call returns at
    once, and the face gets all of them, in the order said, those before it came first."""
    relay = NoteRelay()
    relay("said while the run was assembled")
    shown: list[str] = []
    said_all = threading.Event()

    def player() -> None:
        for i in range(200):
            relay(f"note {i}")
        said_all.set()

    async def face() -> None:
        relay.attach(asyncio.get_running_loop(), shown.append)
        thread = threading.Thread(target=player)
        thread.start()
        # The loop is held here: were a note to wait for the loop, this would time out.
        assert said_all.wait(10), "a note waited for the loop"
        thread.join()
        assert shown == ["said while the run was assembled"]
        end = asyncio.get_running_loop().time() + 10  # a bound for a lost note
        while len(shown) < 201 and asyncio.get_running_loop().time() < end:
            await asyncio.sleep(0)  # now the loop runs: the deliveries come
        relay.detach()

    asyncio.run(face())
    assert shown == ["said while the run was assembled"] + [f"note {i}" for i in range(200)]
    relay("after the summary")  # the face is done: stderr, at once
    assert capfd.readouterr().err == "hiphook: after the summary\n"


def test_a_note_said_on_the_loop_is_shown_in_its_place_among_the_events() -> None:
    """The sensor says its problem on the loop, in a callback that emits events around
    it: the note is shown between them, not a loop turn late. A note another thread said
    before it comes out first (the order said), and nothing is shown twice when the
    delivery that thread asked for runs later."""
    relay = NoteRelay()
    shown: list[str] = []

    async def face() -> None:
        relay.attach(asyncio.get_running_loop(), shown.append)
        player = threading.Thread(target=relay, args=("said on the player's thread",))
        player.start()
        player.join()  # handed over: it waits for a turn of the loop, held here
        shown.append("event before")
        relay("said on the loop")
        shown.append("event after")
        assert shown == [
            "event before",
            "said on the player's thread",
            "said on the loop",
            "event after",
        ]
        await asyncio.sleep(0)  # the player's delivery runs now: nothing left for it
        await asyncio.sleep(0)
        relay.detach()

    asyncio.run(face())
    assert shown == [
        "event before",
        "said on the player's thread",
        "said on the loop",
        "event after",
    ]


def test_a_note_said_once_the_loop_is_gone_goes_to_stderr_and_never_raises(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The run ended without the face detaching (it raised): one note is handed to a
    loop that has stopped and will never run it, the next comes after the loop closed.
    Neither raises, neither is lost: both on stderr, in order, as soon as the loop is gone."""
    relay = NoteRelay()
    loop = asyncio.new_event_loop()
    shown: list[str] = []

    async def attach() -> None:
        relay.attach(asyncio.get_running_loop(), shown.append)

    loop.run_until_complete(attach())  # the loop has stopped, not closed
    said = threading.Thread(target=relay, args=("handed over, never run",))
    said.start()
    said.join()
    assert capfd.readouterr().err == ""  # still waiting: the loop could run again
    loop.close()
    late = threading.Thread(target=relay, args=("said after the loop closed",))
    late.start()
    late.join()
    assert shown == []
    assert capfd.readouterr().err == (
        "hiphook: handed over, never run\nhiphook: said after the loop closed\n"
    )
    relay.close()  # what the CLI does after the run: nothing is said twice
    relay("said at exit")
    assert capfd.readouterr().err == "hiphook: said at exit\n"

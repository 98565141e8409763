"""The plain runner end to end: a real process, the real clock, a time scale."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import pytest

from app.core.routine import load_routine
from app.plain import QUIT_QUESTION
from tests.support.cli import hiphook
from tests.support.cli import start as start_hiphook


def start(*args: str) -> subprocess.Popen[str]:
    return start_hiphook("run", "--plain", *args)


def read_until(stream: IO[str], event: str, timeout: float = 30.0) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = stream.readline()
        if not line:
            break
        obj = json.loads(line)
        seen.append(obj)
        if obj["event"] == event:
            return seen
    raise AssertionError(f"no {event!r} in {seen[-5:]}")


def test_whole_daily_run_scaled_end_to_end() -> None:
    out = hiphook(
        "run",
        "--plain",
        "--json",
        "--routine",
        "daily",
        "--side",
        "right",
        "--time-scale",
        "200",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    notes = [x for x in lines if x["event"] == "note"]
    assert any("Time scale ×200" in str(n["text"]) for n in notes)
    events = [x for x in lines if x["event"] not in ("note", "summary")]
    for e in events:
        assert {"event", "step", "name", "t", "planned_t"} <= set(e)
        assert float(e["t"]) >= float(e["planned_t"]) - 1e-3  # never early (4-dp rounding)
    r = load_routine("daily").for_side("right")
    started = [e for e in events if e["event"] == "step_started"]
    assert [e["step"] for e in started] == list(range(len(r.steps)))
    assert started[0]["name"] == "Get into position (right)"
    assert events[-1]["event"] == "finished"
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["state"] == "finished"
    timed = [s for s in summary["steps"] if s["kind"] != "action"]  # type: ignore[union-attr]
    for s in timed:
        assert abs(s["actual_s"] - s["planned_s"]) < 1e-6  # deadlines, not sleeps
    # one planned total, the one `routine show` gives; waiting is not active time
    assert summary["planned_s"] == r.total_s
    assert summary["active_s"] == pytest.approx(r.timed_total_s)
    assert summary["waiting_s"] > 0 and not summary["interrupted"]
    # t = 0 on the monotonic clock and on the wall, to line a recording up with the run
    run_started = next(e for e in lines if e["event"] == "run_started")
    assert isinstance(run_started["t0_monotonic"], float)
    wall = dt.datetime.fromisoformat(str(run_started["t0_wall"]))
    assert wall.utcoffset() is not None
    assert abs((dt.datetime.now(dt.UTC) - wall).total_seconds()) < 60


def test_keys_pause_skip_and_quit_over_a_pipe() -> None:
    p = start("--json", "--routine", "daily", "--side", "left", "--time-scale", "5")
    assert p.stdin and p.stdout
    read_until(p.stdout, "step_started")
    p.stdin.write("\n")  # Enter outside an action step does nothing
    p.stdin.write("p\n")
    p.stdin.flush()
    paused = read_until(p.stdout, "paused")
    assert all(e["event"] != "step_finished" for e in paused)
    p.stdin.write("p\nn\n")
    p.stdin.flush()
    read_until(p.stdout, "resumed")
    skipped = read_until(p.stdout, "step_finished")[-1]
    assert skipped["skipped"] is True and skipped["step"] == 0
    p.stdin.write("q\ny\n")  # q asks first, y stops
    p.stdin.flush()
    rest = read_until(p.stdout, "summary")
    assert {"event": "note", "text": QUIT_QUESTION} in rest
    assert any(e["event"] == "aborted" for e in rest)
    assert rest[-1]["state"] == "aborted" and rest[-1]["interrupted"] is False  # chosen
    assert p.wait(timeout=10) == 0


def test_enter_confirms_the_lever_step() -> None:
    p = start("--json", "--routine", "daily", "--side", "left", "--time-scale", "100")
    assert p.stdin and p.stdout
    read_until(p.stdout, "waiting")
    time.sleep(0.3)  # lingering proves it waits (nothing auto-confirms while input is open)
    p.stdin.write("\n")
    p.stdin.flush()
    done = read_until(p.stdout, "step_finished")
    assert done[-1]["name"] == "Lever (left)" and done[-1]["skipped"] is False
    assert float(done[-1]["actual_s"]) >= 0.3 * 100 - 1
    p.stdin.write("q\n\n")  # q asks first, Enter stops
    p.stdin.flush()
    read_until(p.stdout, "summary")
    p.wait(timeout=10)


def test_ctrl_c_ends_cleanly_with_a_summary() -> None:
    p = start("--routine", "daily", "--side", "left", "--time-scale", "2")
    assert p.stdout and p.stderr
    line = p.stdout.readline()
    while "Step 1 of 10" not in line:
        line = p.stdout.readline()
        assert line
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 130
    assert "Traceback" not in err
    assert "Interrupted (Ctrl-C). The run so far is kept, marked as interrupted." in out
    assert "Summary: interrupted" in out


def read_line(stream: IO[str], pattern: str, seen: list[str], timeout: float = 30.0) -> str:
    """The next line matching `pattern` whole (a regex); every line read goes to `seen`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = stream.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if re.fullmatch(pattern, seen[-1]):
            return seen[-1]
    raise AssertionError(f"no line like {pattern!r} in {seen[-5:]}")


def test_plain_lines_are_sentences_and_q_asks_first() -> None:
    """Skip, back (twice, the second at the first step), pause, and q answered both ways,
    over a pipe at real speed: each line is a sentence, and only y or Enter stops."""
    p = start("--cues", "none", "--routine", "daily", "--side", "left")
    assert p.stdin and p.stdout
    lines: list[str] = []

    def send(keys: str, *expect: str) -> None:
        p.stdin.write(keys)  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
        for pattern in expect:
            read_line(p.stdout, rf"(\[\d+:\d\d\] )?{pattern}", lines)  # type: ignore[arg-type]

    send("", re.escape("Step 1 of 10: Get into position (left), 30 s. Face down") + ".*")
    send("n\n", r"Get into position \(left\) skipped after \d s\.")
    send("", re.escape("Step 2 of 10: Psoas press (left), 1 min 30 s. ") + ".*")
    send(
        "b\n",
        r"Going back: Psoas press \(left\) stopped after \d s; the step before starts again\.",
        r"Step 1 of 10: .*",
    )
    send("b\n", r"Going back: Get into position \(left\) stopped after \d s; it starts again\.")
    send("p\n", r"Paused\. Press space or p to go on\.")
    send("p\n", r"Going on\.")
    send("q\n", re.escape(QUIT_QUESTION))
    send("n\n", r"Going on with the routine\.")  # "n" answers the question: no skip
    send("q\n", re.escape(QUIT_QUESTION))
    send("\n", r"Stopped, as you asked\. The run so far is kept\.")
    p.stdin.close()
    out = p.stdout.read()  # the rest: the summary (communicate would skip what is buffered)
    assert p.wait(timeout=10) == 0
    answered = lines.index("Going on with the routine.")
    assert not any("skipped" in line for line in lines[answered:]), lines  # n did not skip
    # after Back a step's last attempt is its record: the skipped first attempt is gone
    assert re.search(r"^Summary: stopped\. 0 of 10 steps done, 0 skipped\. Active \d+ s", out, re.M)
    assert "   1. Get into position (left): not done, " in out
    for line in lines:  # no leftover shorthand like "left (back)" or "(paused)."
        assert "(back)" not in line and "(paused)" not in line, line


def test_missing_side_is_asked_for_not_guessed() -> None:
    out = hiphook("run", "--plain", timeout=30)
    assert out.returncode == 2
    assert "--side left" in out.stderr and "Traceback" not in out.stderr


def test_side_is_remembered() -> None:
    args = ("run", "--plain", "--json", "--routine", "ball", "--time-scale", "400")
    first = hiphook(*args, "--side", "right", timeout=30)
    assert first.returncode == 0, first.stderr
    again = hiphook(*args, timeout=30)
    assert again.returncode == 0, again.stderr
    assert '"name": "Get into position (right)"' in again.stdout


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return hiphook("run", "--plain", *args, timeout=60)


def test_bad_sensor_choices_are_refused_cleanly() -> None:
    for args in (["--sensor", "/dev/no-such-port"], ["--sensor", "sim", "--sim-scenario", "x"]):
        out = _run("--side", "left", *args)
        assert out.returncode == 2, out
        assert "Traceback" not in out.stderr and out.stderr.strip()


def test_damaged_remembered_settings_do_not_block_a_run() -> None:
    import os
    from pathlib import Path

    Path(os.environ["HIPHOOK_CONFIG"]).write_text(
        json.dumps({"beginner_started": "yesterday", "routine": "gone-file", "side": "left"})
    )
    out = _run("--json", "--time-scale", "400")
    assert out.returncode == 0, out.stderr
    assert "gone-file cannot be used" in out.stdout
    assert "Using the built-in 'daily' routine instead" in out.stdout
    assert '"event": "run_started", "step": -1, "name": "Daily hip-flexor release"' in out.stdout
    out = _run("--json", "--routine", "beginner", "--time-scale", "400")
    assert out.returncode == 0, out.stderr
    assert "Progression by evidence: First run: presses start at 30 s." in out.stdout


SHORT = """
name = "short"
[[step]]
kind = "timed"
name = "Position"
instruction = "Find the spot."
seconds = 4
[[step]]
kind = "press"
name = "Press"
instruction = "Hold."
seconds = 6
"""


def test_cues_are_json_lines_and_the_sound_choices_are_remembered(
    tmp_path: Path, pulse_server: object
) -> None:
    """On a real (null-sink) sound server: each sound scheduled is a "cue" line, before
    the summary; --pacing and --volume are kept in the settings for the next run."""
    f = tmp_path / "short.toml"
    f.write_text(SHORT)
    out = hiphook(
        "run",
        "--plain",
        "--json",
        "--routine",
        str(f),
        "--cues",
        "tone",
        "--time-scale",
        "5",
        "--pacing",
        "off",
        "--volume",
        "40",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    cues = [x for x in lines if x["event"] == "cue"]
    assert cues, out.stdout
    assert all({"text", "tone", "planned_t", "start_t", "t", "role"} <= set(c) for c in cues)
    assert lines[-1]["event"] == "summary"
    saved = json.loads(Path(os.environ["HIPHOOK_CONFIG"]).read_text())
    assert (saved["pacing"], saved["volume"]) == ("off", "40")


def test_a_volume_out_of_range_is_refused_with_a_message() -> None:
    out = hiphook("run", "--plain", "--volume", "101", timeout=30)
    assert out.returncode == 2
    assert "volume must be between 0 and 100" in out.stderr and "Traceback" not in out.stderr


def test_a_routine_file_run_is_remembered_by_its_full_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The routine last run is the one a bare `hiphook run` (and Home) takes next, a file
    included; run from another folder, the relative path given first still finds it."""
    (tmp_path / "mine.toml").write_text(SHORT)
    monkeypatch.chdir(tmp_path)
    first = _run("--json", "--routine", "mine.toml", "--time-scale", "400")
    assert first.returncode == 0, first.stderr
    remembered = json.loads(Path(os.environ["HIPHOOK_CONFIG"]).read_text())["routine"]
    assert remembered == str(tmp_path / "mine.toml")
    monkeypatch.chdir(tmp_path.parent)
    again = _run("--json", "--time-scale", "400")
    assert again.returncode == 0, again.stderr
    assert '"event": "run_started", "step": -1, "name": "short"' in again.stdout

"""The plain face prints a step's finished line only once the log has committed it, and
a write that hangs without an error (a stalled disk) is said within a second while the
clock and the cues go on.

Real parts: the assembled session (runner, recorder, the log's writer on a real SQLite
file, the cue player with the terminal bell) and the plain face; the clock is a
FakeClock moved by the test, and the hang is injected at the writer's own boundary
(`LogWriter(stall=...)`, called before each write), since SQLite offers no honest way to
make a write hang without failing.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.clock import FakeClock
from app.core.engine import Event, EventKind
from app.plain import run_plain
from app.session import RunOptions, Session, SessionLog, assemble
from app.settings import Settings
from app.store.writer import LogWriter
from tests.support.routines import timed_steps

STEP_S = 10.0
STEPS = 4
HANG_S = 0.3  # the watchdog's deadline here (the product's is HANG_NOTICE_S, 0.8 s)


def on_disk(db: Path) -> set[int]:
    """The steps committed, read as another program would."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return {int(i) for (i,) in con.execute("SELECT idx FROM step")}
    finally:
        con.close()


class Out(io.StringIO):
    """The face's stdout: each finished line checks the file as it is printed."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db
        self.lines: list[dict[str, Any]] = []
        self.when: list[float] = []  # monotonic, per line
        self.on_disk_when_printed: dict[int, bool] = {}

    def write(self, s: str) -> int:
        for text in s.splitlines():
            obj = json.loads(text)
            if obj.get("event") == "step_finished":
                self.on_disk_when_printed[obj["step"]] = obj["step"] in on_disk(self.db)
            self.lines.append(obj)
            self.when.append(time.monotonic())
        return super().write(s)

    def has(self, pred: Callable[[dict[str, Any]], bool]) -> bool:
        return any(pred(o) for o in self.lines)


class Stall:
    """A disk that stops answering once armed, until let go (the writer's boundary)."""

    def __init__(self) -> None:
        self.armed = False
        self.entered = threading.Event()
        self.free = threading.Event()
        self.entered_at = 0.0

    def __call__(self) -> None:
        if self.armed:
            self.entered_at = time.monotonic()
            self.entered.set()
            self.free.wait(60)


def assembled(
    tmp_path: Path, clock: FakeClock, stall: Stall, ring: Callable[[], None] = lambda: None
) -> tuple[Session, SessionLog]:
    db = tmp_path / "log.db"
    log = SessionLog(RunOptions(db=str(db), cues="bell"))
    log.open(lambda text: None)
    assert log.writer is not None and log.store is not None
    log.writer.close()  # the same writer, with the stall at its boundary
    log.writer = LogWriter(
        log.store,
        on_notice=lambda n: [listener(n) for listener in list(log.listeners)],
        recovery_dirs=[tmp_path],
        close_wait_s=0.2,
        hang_notice_s=HANG_S,
        stall=stall,
    )
    session = assemble(
        RunOptions(db=str(db), cues="bell"),
        timed_steps(STEPS, STEP_S, "four"),
        "left",
        clock=clock,
        settings=Settings(),
        log=log,
        ring=ring,  # the terminal bell, rung on the cue player's thread
        publish=False,
    )
    return session, log


async def until(pred: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait for a state (the timeout bounds a hang, it is not a timing)."""
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, f"never: {what}"
        await asyncio.sleep(0.005)


def finished(n: int) -> Callable[[dict[str, Any]], bool]:
    return lambda o: o.get("event") == "step_finished" and o.get("step") == n


def started(n: int) -> Callable[[dict[str, Any]], bool]:
    return lambda o: o.get("event") == "step_started" and o.get("step") == n


def log_line(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda o: o.get("event") == "log" and o.get("state") == state


def test_every_finished_line_is_printed_after_its_commit_and_in_order(tmp_path: Path) -> None:
    """No fault: each finished line finds its step in the file when it is printed, and
    the lines keep the run's order (the next step's start waits behind the commit)."""
    clock, stall = FakeClock(), Stall()
    out = Out(tmp_path / "log.db")
    seen: list[tuple[str, int]] = []

    async def main() -> None:
        session, log = assembled(tmp_path, clock, stall)
        session.runner.subscribe(lambda ev: seen.append((ev.kind.value, ev.step)))
        run = asyncio.create_task(run_plain(session, json_mode=True, inp=io.StringIO(), out=out))
        await until(lambda: out.has(started(0)), "the first step")
        for n in range(STEPS):
            clock.advance(STEP_S)
            await until(lambda n=n: out.has(finished(n)), f"step {n}'s finished line")
        await run
        session.close()
        assert log.close() is not None and not log.incomplete

    asyncio.run(main())
    assert out.on_disk_when_printed == dict.fromkeys(range(STEPS), True)
    kinds = ("step_started", "step_finished")
    printed = [(o["event"], o["step"]) for o in out.lines if o["event"] in kinds]
    assert printed == [x for x in seen if x[0] in kinds]
    assert out.lines[-1]["event"] == "summary"


def test_a_hung_write_is_said_the_run_and_cues_go_on_and_its_line_waits(tmp_path: Path) -> None:
    """The disk stops answering on step 1's write: the runner and the cues go on at once,
    the line after the held one waits only until the log says (once its deadline has
    passed) that it has not answered, step 1's line waits for its commit, and "caught
    up" follows; everything is on disk and nothing was printed before it was."""
    clock, stall = FakeClock(), Stall()
    db = tmp_path / "log.db"
    out = Out(db)
    heard: list[tuple[str, int]] = []  # (who, step)

    async def main() -> None:
        session, log = assembled(tmp_path, clock, stall, ring=lambda: heard.append(("bell", -1)))
        assert session.player is not None

        def after_face(ev: Event) -> None:
            if ev.kind is EventKind.STEP_STARTED:
                heard.append(("runner", ev.step))

        run = asyncio.create_task(run_plain(session, json_mode=True, inp=io.StringIO(), out=out))
        session.runner.subscribe(after_face)
        await until(lambda: out.has(started(0)), "the first step")
        clock.advance(STEP_S)
        await until(lambda: out.has(finished(0)), "step 0's line")
        stall.armed = True
        await until(lambda: ("bell", -1) in heard, "the bell at step 1's start")
        rung = heard.count(("bell", -1))
        clock.advance(STEP_S)  # step 1 ends: its write hangs
        await until(stall.entered.is_set, "the write of step 1 under way")
        await until(lambda: ("runner", 2) in heard, "step 2 under way")
        await until(lambda: heard.count(("bell", -1)) > rung, "the bell at step 2's start")
        assert not out.has(started(2)), "the next line waits behind step 1's"
        await until(lambda: out.has(log_line("waiting")), "a word that the log waits")
        [waiting] = [o for o in out.lines if log_line("waiting")(o)]
        assert waiting["reason"] == "the disk has not answered for 1 s"
        told_at = out.when[out.lines.index(waiting)]
        assert told_at - stall.entered_at >= HANG_S, "said at its deadline"
        await until(lambda: out.has(started(2)), "the lines after it go on")
        assert not out.has(finished(1)), "step 1 is not on disk: its line waits"
        clock.advance(STEP_S)  # step 2 ends while the disk still hangs
        await until(lambda: out.has(started(3)), "step 3's start, printed at once")
        assert not out.has(finished(2))
        stall.armed = False
        stall.free.set()  # the disk answers again
        await until(lambda: out.has(log_line("caught_up")), "a word that the log caught up")
        assert out.has(finished(1)) and out.has(finished(2))
        clock.advance(STEP_S)
        await run
        session.close()
        assert log.close() is not None and not log.incomplete

    asyncio.run(main())
    assert out.on_disk_when_printed == dict.fromkeys(range(STEPS), True)
    assert on_disk(db) == set(range(STEPS))
    assert out.lines[-1]["event"] == "summary"


def test_a_write_still_hung_at_the_end_goes_to_a_recovery_file_then_its_lines(
    tmp_path: Path,
) -> None:
    """The disk hangs to the end: the run ends anyway (nobody waits on the hung thread),
    the steps go to a recovery file, said, and only then are their lines printed."""
    clock, stall = FakeClock(), Stall()
    out = Out(tmp_path / "log.db")

    async def main() -> None:
        session, log = assembled(tmp_path, clock, stall)
        run = asyncio.create_task(run_plain(session, json_mode=True, inp=io.StringIO(), out=out))
        await until(lambda: out.has(started(0)), "the first step")
        clock.advance(STEP_S)
        await until(lambda: out.has(finished(0)), "step 0's line")
        stall.armed = True
        for _ in range(STEPS - 1):
            clock.advance(STEP_S)
        await run
        session.close()
        assert log.incomplete

    try:
        asyncio.run(main())
    finally:
        stall.free.set()  # let the daemon thread end
    [path] = sorted(tmp_path.glob("log.db.recovery-*.json"))
    saved = json.loads(path.read_text())["sessions"][0]
    assert [s["index"] for s in saved["steps"]] == list(range(STEPS))
    said = [i for i, o in enumerate(out.lines) if log_line("saved_to_file")(o)]
    lines = [i for i, o in enumerate(out.lines) if o.get("event") == "step_finished"]
    assert said and len(lines) == STEPS and lines[1] > said[0], "said, then printed"
    assert out.on_disk_when_printed == {0: True, 1: False, 2: False, 3: False}
    assert out.lines[-1]["event"] == "summary"

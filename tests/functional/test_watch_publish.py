"""The run publishes itself: real runs (runner, engine, plain face) and a real Unix socket.

Only the clock is scaled (or, for the flood of controls, a FakeClock moved by hand).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import stat
from pathlib import Path

from app.core.clock import FakeClock, ScaledClock
from app.core.routine import Routine, parse_routine
from app.plain import run_plain
from app.publish import Publisher, socket_path
from app.publish.client import connect
from app.session import RunOptions, Session, assemble
from app.settings import Settings
from tests.support.waiting import wait_for
from tests.support.watch import ROUTINE, RunProcess, write_routine

SCALE = 8.0


def routine() -> Routine:
    return parse_routine(ROUTINE)


def session_for(clock: ScaledClock | FakeClock, scale: float = SCALE) -> Session:
    return assemble(
        RunOptions(cues="none", time_scale=scale),
        routine(),
        None,
        clock=clock,
        settings=Settings.load(),
    )


async def _until(pred: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():  # type: ignore[operator]
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.01)


def _plain_events(out: io.StringIO) -> list[dict[str, object]]:
    objs = [json.loads(line) for line in out.getvalue().splitlines()]
    return [o for o in objs if o["event"] not in ("note", "summary")]


def test_a_watcher_gets_the_json_events_a_view_and_the_start_and_the_socket_is_private() -> None:
    """Joined mid-run: hello, the very `run_started` object `--json` printed (t = 0), a
    view of the step the run is in, then the same objects as the plain face prints, to
    the end; the socket is 0600 in a 0700 folder while the run lasts, and gone after."""
    out = io.StringIO()
    got: list[dict[str, object]] = []
    modes: dict[str, int] = {}

    async def main() -> None:
        session = session_for(ScaledClock(SCALE))
        run = asyncio.create_task(run_plain(session, json_mode=True, inp=io.StringIO(), out=out))
        await _until(lambda: '"step_started"' in out.getvalue())
        path = socket_path()
        modes["sock"] = stat.S_IMODE(os.stat(path).st_mode)
        modes["dir"] = stat.S_IMODE(os.stat(path.parent).st_mode)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        conn = await connect()
        assert conn is not None
        async for msg in conn.messages():
            got.append(msg)
        await conn.close()
        await run
        await session.aclose_publisher()
        session.close()

    asyncio.run(main())
    assert modes == {"sock": 0o600, "dir": 0o700}
    assert not socket_path().exists()
    plain = _plain_events(out)
    assert [m["event"] for m in got[:3]] == ["hello", "run_started", "view"]
    hello, started, view = got[:3]
    assert hello["routine"] == "Watch me" and hello["time_scale"] == SCALE
    assert started == plain[0] and started["t"] == 0 and "t0_monotonic" in started
    assert view["state"] == "running" and view["name"] == "Settle in"
    events = [m for m in got[3:] if m["event"] != "view"]
    assert len(events) >= 8, events  # the reps, the lever, the rest and the end
    assert events == plain[-len(events) :]
    assert events[-1]["event"] == "finished"
    assert got[-1]["event"] == "view" and got[-1]["state"] == "finished"


def test_a_late_joiner_sees_the_step_the_run_is_in_now() -> None:
    out = io.StringIO()
    seen: list[dict[str, object]] = []

    async def main() -> None:
        session = session_for(ScaledClock(SCALE))
        run = asyncio.create_task(run_plain(session, json_mode=True, inp=io.StringIO(), out=out))
        await _until(lambda: '"phase"' in out.getvalue())  # the second step is going on
        conn = await connect()
        assert conn is not None
        async for msg in conn.messages():
            seen.append(msg)
            if msg["event"] == "view":
                break
        assert session.runner.engine.view().step_index == 1
        await conn.close()
        session.runner.abort("test over")
        await run
        await session.aclose_publisher()
        session.close()

    asyncio.run(main())
    view = seen[-1]
    assert view["step"] == 1 and view["name"] == "Pulses" and view["kind"] == "holds"
    assert view["phase"] in ("push", "relax") and view["rep"] in (1, 2)
    assert isinstance(view["step_remaining_s"], float) and 0 < view["step_remaining_s"] <= 8


def test_a_socket_left_by_a_killed_run_is_replaced_and_a_live_one_is_not(
    tmp_path: Path,
) -> None:
    """SIGKILL leaves the socket file behind; the next run takes the name over. While a
    run is published, a second one is not, and says so."""
    run = RunProcess("--routine", str(write_routine(tmp_path)), "--time-scale", "1")
    try:
        run.wait_published()
        os.kill(run.proc.pid, signal.SIGKILL)
        run.wait()
    finally:
        run.stop()
    path = socket_path()
    assert path.exists()  # the killed run's socket: nobody listens on it
    probe = socket.socket(socket.AF_UNIX)
    try:
        assert probe.connect_ex(str(path)) != 0
    finally:
        probe.close()

    async def main() -> tuple[Publisher, str | None, dict[str, object] | None]:
        loop = asyncio.get_running_loop()
        first = session_for(ScaledClock(SCALE))
        second = session_for(ScaledClock(SCALE))
        first.start(loop)
        second.start(loop)
        assert first.publisher is not None
        conn = await connect()
        assert conn is not None
        hello = await anext(aiter(conn.messages()))
        await conn.close()
        why = None if second.publisher is not None else "\n".join(second.notes)
        publisher = first.publisher
        first.close()
        second.close()
        return publisher, why, hello

    publisher, why, hello = asyncio.run(main())
    assert publisher.replaced_stale
    assert hello is not None and hello["pid"] == os.getpid()
    assert why is not None and "another hiphook run" in why
    assert not path.exists()


def test_a_stuck_watcher_is_dropped_and_told_while_a_reading_one_gets_everything() -> None:
    """A watcher that never reads fills its queue and is let go with a last line saying
    why; the run's controls never wait for it, and a watcher that reads misses nothing."""
    batches = 3000
    counts = {"views": 0}
    stuck_tail: list[bytes] = []

    async def main() -> Publisher:
        clock = FakeClock()
        session = session_for(clock)
        session.publisher = Publisher(session.runner, time_scale=1.0, queue_batches=16)
        session.start(asyncio.get_running_loop())
        publisher = session.publisher
        stuck = socket.socket(socket.AF_UNIX)
        stuck.connect(str(socket_path()))
        stuck.sendall(b'{"hello": 1}\n')
        reader = await connect()
        assert reader is not None
        await _until(lambda: len(publisher.watchers) == 2)
        finished = asyncio.Event()

        async def read() -> None:
            async for msg in reader.messages():
                if msg["event"] == "view":
                    counts["views"] += 1
                if msg["event"] == "aborted":
                    finished.set()

        task = asyncio.create_task(read())
        session.runner.start()
        for i in range(batches):
            (session.runner.skip if i % 2 == 0 else session.runner.back)()
            while counts["views"] <= i + 1:  # paced by the reading watcher, not by time
                await asyncio.sleep(0)
        await _until(lambda: publisher.dropped == 1)
        session.runner.abort("test over")
        await asyncio.wait_for(finished.wait(), 20)
        # The stuck watcher reads at last: what was buffered, then why it was let go.
        stuck.setblocking(False)
        data = b""
        while True:
            try:
                chunk = stuck.recv(1 << 16)
            except BlockingIOError:
                await asyncio.sleep(0.01)
                continue
            if not chunk:
                break
            data += chunk
        stuck_tail.append(data.rstrip(b"\n").rsplit(b"\n", 1)[-1])
        stuck.close()
        await session.aclose_publisher()
        task.cancel()
        await reader.close()
        session.close()
        return publisher

    publisher = asyncio.run(main())
    assert publisher.dropped == 1
    last = json.loads(stuck_tail[0])
    assert last["event"] == "dropped" and "too slow" in last["reason"]
    # every control's batch and the greeting's view reached the reading watcher
    assert counts["views"] >= batches + 1


def test_no_run_means_no_socket_and_connect_says_so() -> None:
    async def main() -> object:
        return await connect()

    assert asyncio.run(main()) is None
    assert wait_for(lambda: not socket_path().exists(), 1)


def test_a_full_screen_run_publishes_too_and_frees_the_name_when_it_ends() -> None:
    """The coach's own run (the Routine screen, through the same assembly) is on the
    socket with the step it shows; once it ends, the socket is gone."""
    from tests.support.tui import daily, drive, make_app, settle

    app, clock = make_app(daily(), check_in=False)
    seen: dict[str, object] = {}

    async def body(pilot: object) -> None:
        await _until(lambda: socket_path().exists())
        conn = await connect()
        assert conn is not None
        async for msg in conn.messages():
            if msg["event"] == "view":
                seen.update(msg)
                break
        await conn.close()
        assert app.runner is not None
        app.runner.abort("test over")
        await settle(pilot)  # type: ignore[arg-type]
        await _until(lambda: not socket_path().exists())

    drive(app, body)  # type: ignore[arg-type]
    assert seen["state"] == "running" and seen["step"] == 0
    assert seen["name"] == daily().steps[0].title()
    assert not socket_path().exists()

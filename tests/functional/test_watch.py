"""`hiphook watch` against a real run in a subprocess: the watch app with the Pilot, and
the real command in a real pty."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from textual.widgets import Static

from app.publish.client import connect
from app.watch import EXIT_NO_RUN
from app.watch.app import WatchApp
from tests.support.cli import command, environment, hiphook
from tests.support.waiting import wait_for
from tests.support.watch import RunProcess, write_routine

SIZE = (80, 24)


def test_with_no_run_watch_once_says_so_and_exits_69() -> None:
    for args in (("watch", "--once"), ("watch", "--once", "--json")):
        out = hiphook(*args)
        assert out.returncode == EXIT_NO_RUN == 69, out
        assert "No hiphook run is going on" in out.stderr
    assert "69" in hiphook("watch", "--help").stdout


def _shown(app: WatchApp, key: str) -> str:
    return str(app.screen_view.query_one(f"#{key}", Static).content)


async def _until(pilot: object, pred: object, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not pred():  # type: ignore[operator]
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.02)  # type: ignore[attr-defined]


def test_watch_follows_the_run_read_only_then_steers_it_with_control(tmp_path: Path) -> None:
    """Read-only, the watcher shows each step as the run reaches it and its keys change
    nothing; a read-only connection's request is refused by the run itself. With
    --control, Enter confirms the lever, Space pauses and resumes, n skips: the run's
    own output shows each, and the watcher with --once ends with the run."""
    run = RunProcess("--routine", str(write_routine(tmp_path)), "--time-scale", "2")
    try:
        run.wait_published()
        watcher = WatchApp(once=True)
        steer = WatchApp(control=True, once=True)

        async def follow() -> None:
            async with watcher.run_test(size=SIZE) as pilot:
                await _until(pilot, lambda: _shown(watcher, "title") == "Pulses")
                await _until(pilot, lambda: "Hold" in _shown(watcher, "phase"))
                await _until(pilot, lambda: _shown(watcher, "title") == "Lever")
                assert "WAITING FOR YOU" in _shown(watcher, "phase")
                await pilot.press("enter", "n")
                await _until(pilot, lambda: "Read-only:" in _shown(watcher, "notice"))
                # the run checks too: a read-only connection asking to skip is refused
                conn = await connect()
                assert conn is not None
                assert await conn.request("skip")
                refused = None
                async for msg in conn.messages():
                    if msg["event"] == "refused":
                        refused = msg
                        break
                await conn.close()
                assert refused is not None and "read-only" in str(refused["reason"])
                assert not run.has("step_finished", step=2)
                await pilot.press("q")
            async with steer.run_test(size=SIZE) as sp:
                await _until(sp, lambda: _shown(steer, "title") == "Lever")
                await sp.press("enter")
                await _until(sp, lambda: _shown(steer, "title") == "Rest")
                assert run.has("step_finished", step=2, skipped=False)
                await sp.press("space")
                await _until(sp, lambda: run.has("paused"))
                await _until(sp, lambda: "PAUSED" in _shown(steer, "phase"))
                await sp.press("space")
                await _until(sp, lambda: run.has("resumed"))
                await sp.press("n")
                await _until(sp, lambda: run.has("finished"))
                await _until(sp, lambda: steer.return_code is not None)

        asyncio.run(follow())
        assert run.wait() == 0
    finally:
        run.stop()
    assert steer.return_code == 0 and watcher.return_code == 0
    assert run.has("step_finished", step=3, skipped=True)
    # each boundary the steering watcher saw is the run's own object, the end last
    seen = [ev for _, ev in steer.shown]
    assert seen[-1]["event"] == "finished" and seen[-1] in run.events("finished")


ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


def test_watch_in_a_real_terminal_shows_the_run_and_q_leaves_it_running(
    tmp_path: Path,
) -> None:
    run = RunProcess("--routine", str(write_routine(tmp_path)), "--time-scale", "1")
    master, slave = pty.openpty()
    try:
        run.wait_published()
        env = environment({"TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"})
        proc = subprocess.Popen(
            command("watch"),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)
        slave = -1
        screen = bytearray()

        def read_some() -> None:
            while select.select([master], [], [], 0)[0]:
                try:
                    screen.extend(os.read(master, 65536))
                except OSError:
                    return

        def shows(text: str) -> bool:
            read_some()
            plain = ANSI.sub(b"", bytes(screen)).decode("utf-8", "replace")
            return text in plain

        try:
            assert wait_for(lambda: shows("Watch me"), 60), bytes(screen)[-2000:]
            assert wait_for(lambda: shows("Settle in") or shows("Pulses"), 30)
            assert shows("Read-only view")
            os.write(master, b"q")
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert run.proc.poll() is None  # leaving the watcher never stops the run
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
        run.stop()

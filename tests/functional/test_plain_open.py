"""The plain runner opens the run's socket and sensor off the event loop, and nothing
else during the run.

A real session (the simulated sensor on a pseudo-terminal, the watchers' socket, a real
SQLite log) is run by `run_plain` on a FakeClock, with an audit hook (PEP 578) that
records every file, device and socket name opened and on which thread.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path

from app.core.clock import FakeClock
from app.plain import run_plain
from app.publish.paths import LOCK_NAME
from app.session import RunOptions, SessionLog, assemble
from app.settings import Settings
from tests.support.audit import watching
from tests.support.routines import timed_steps
from tests.support.waiting import wait_for

STEPS, STEP_S = 2, 5.0


def finished(n: int, lines: list[dict[str, object]]) -> bool:
    return any(o.get("event") == "step_finished" and o.get("step") == n for o in lines)


def test_the_socket_and_the_sensor_open_on_threads_and_nothing_on_the_loop(tmp_path: Path) -> None:
    clock = FakeClock()
    options = RunOptions(db=str(tmp_path / "log.db"), cues="bell", sensor="sim")
    out = io.StringIO()

    def lines() -> list[dict[str, object]]:
        return [json.loads(x) for x in out.getvalue().splitlines() if x.strip()]

    async def main() -> list[str]:
        log = SessionLog(options)
        log.open(lambda text: None)
        session = assemble(
            options,
            timed_steps(STEPS, STEP_S, "open"),
            "left",
            clock=clock,
            settings=Settings(),
            log=log,
            ring=lambda: None,
        )
        assert session.sensor is not None and session.publisher is not None
        loop = asyncio.get_running_loop()

        async def until(pred: Callable[[], bool], what: str) -> None:
            assert await loop.run_in_executor(None, wait_for, pred), f"{what}: {out.getvalue()}"

        def port_opened() -> bool:  # by the sensor's reader thread, once it has started
            return any(Path(o.path).name.startswith("usb-HipHook_Sim_") for o in opened)

        try:
            with watching() as opened:
                run = asyncio.create_task(
                    run_plain(session, json_mode=True, inp=io.StringIO(), out=out)
                )
                await until(lambda: any(o.get("event") == "step_started" for o in lines()), "start")
                await until(port_opened, "the sensor's port")
                for n in range(STEPS):
                    clock.advance(STEP_S)
                    await until(lambda n=n: finished(n, lines()), f"step {n}")
                await asyncio.wait_for(run, 10)
        finally:
            session.close()
            log.close()
        on_loop = [o for o in opened if o.on_main_thread]
        assert not on_loop, f"opened on the event loop during the run: {on_loop}"
        return sorted({Path(o.path).name for o in opened})

    elsewhere = asyncio.run(main())
    # The watchers' socket (its lock and its name) were opened, on another thread.
    assert {LOCK_NAME, "run.sock"} <= set(elsewhere), elsewhere
    assert lines()[-1]["event"] == "summary"

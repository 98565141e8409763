"""The plain runner opens the run's socket and sensor off the event loop.

A real session (the simulated sensor on a pseudo-terminal, the watchers' socket, a real
SQLite log) is run by `run_plain` on a FakeClock, with an audit hook (PEP 578) that
records every file, device and socket name opened and on which thread.
"""

from __future__ import annotations

import asyncio
import io
import json
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


def test_the_socket_and_the_sensor_open_on_a_thread_before_the_clock(tmp_path: Path) -> None:
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
        try:
            with watching() as opened:
                run = asyncio.create_task(
                    run_plain(session, json_mode=True, inp=io.StringIO(), out=out)
                )
                loop = asyncio.get_running_loop()
                started = await loop.run_in_executor(
                    None, wait_for, lambda: any(o.get("event") == "step_started" for o in lines())
                )
                assert started, out.getvalue()
                elsewhere = {Path(o.path).name for o in opened if not o.on_main_thread}
                on_loop = [o for o in opened if o.on_main_thread]
            for _ in range(STEPS):
                clock.advance(STEP_S)
                await asyncio.sleep(0.05)
            await asyncio.wait_for(run, 10)
        finally:
            session.close()
            log.close()
        assert not on_loop, f"opened on the event loop while the run started: {on_loop}"
        return sorted(elsewhere)

    elsewhere = asyncio.run(main())
    # The watchers' socket (its lock and its name) and the simulated sensor's port (its
    # stable by-id name, as a real board's).
    assert {LOCK_NAME, "run.sock"} <= set(elsewhere), elsewhere
    assert any(name.startswith("usb-HipHook_Sim_") for name in elsewhere), elsewhere
    assert lines()[-1]["event"] == "summary"

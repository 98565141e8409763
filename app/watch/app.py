"""`hiphook watch`: the run's Routine view in another terminal, following the live run.

A viewer, never a run: it draws what the run's socket says (app/publish), counts the
time down between lines from the run's own clock, and with `--control` sends the
run pause, skip, back and confirm requests, which the run checks. Quitting the
watcher never stops the run.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from app.publish.client import RunConnection, connect
from app.tui.widgets import BigClock, TextBar
from app.watch import EXIT_NO_RUN, RETRY_S
from app.watch.model import WatchModel

DISPLAY_HZ = 10

CSS = """
WatchScreen { layout: vertical; }
WatchScreen #body { padding: 0 2; overflow: hidden hidden; }
WatchScreen #where { height: 1; color: $text-muted; }
WatchScreen #title { height: 1; margin-top: 1; text-style: bold; text-align: center; }
WatchScreen #clock { height: 1fr; min-height: 5; }
WatchScreen #phase { height: 1; margin: 1 0; text-align: center; text-style: bold; }
WatchScreen #instruction { height: 2; text-align: center; }
WatchScreen #step-bar { margin-top: 1; }
WatchScreen #next { height: 1; margin-top: 1; color: $text-muted; }
WatchScreen #notice { height: 1; color: $warning; }
"""


class WatchScreen(Screen[None]):
    """The Routine screen's layout, drawn from a `WatchModel` instead of a runner."""

    def __init__(self, model: WatchModel) -> None:
        super().__init__()
        self.model = model
        self._shown: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Static(id="where")
            yield Static(id="title")
            yield BigClock(id="clock")
            yield Static(id="phase")
            yield Static(id="instruction")
            yield TextBar("Step   ", id="step-bar")
            yield TextBar("Routine", id="routine-bar")
            yield Static(id="next")
            yield Static(id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1 / DISPLAY_HZ, self.render_view, name="display")
        self.render_view()

    def _put(self, key: str, value: object) -> bool:
        if self._shown.get(key) == value:
            return False
        self._shown[key] = value
        return True

    def render_view(self) -> None:
        if not self.is_mounted:
            return
        d = self.model.display(time.monotonic())
        for key in ("where", "title", "instruction", "next"):
            value = getattr(d, key)
            if self._put(key, value):
                self.query_one(f"#{key}", Static).update(value, layout=False)
        if self._put("clock", d.clock):
            self.query_one("#clock", BigClock).value = d.clock
        phase = d.phase_line
        if d.status == "ended":
            phase = f"{phase} · the run has ended"
        if self._put("phase", (phase, d.mood)):
            text = Text(phase, style="reverse" if d.mood else "")
            self.query_one("#phase", Static).update(text, layout=False)
        notice = self.model.notice
        if self._put("notice", notice):
            self.query_one("#notice", Static).update(notice, layout=False)
        timed = d.clock_s is not None
        self.query_one("#step-bar", TextBar).set(
            d.step_fraction, d.clock + " left" if timed else ("waiting" if d.title else "")
        )
        self.query_one("#routine-bar", TextBar).set(d.routine_fraction, d.routine_left)


class WatchApp(App[int]):
    """Follows the published run; `once` ends with it (or at once, with no run)."""

    CSS = CSS
    TITLE = "hiphook watch"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit watching"),
        Binding("space", "pause", "Pause/Go on"),
        Binding("n", "request('skip')", "Skip"),
        Binding("b", "request('back')", "Back"),
        Binding("enter", "request('confirm')", "Done"),
    ]

    def __init__(
        self, *, control: bool = False, once: bool = False, path: Path | None = None
    ) -> None:
        super().__init__()
        self.control = control
        self.once = once
        self.path = path
        self.model = WatchModel(control=control)
        self.conn: RunConnection | None = None
        # (monotonic time drawn, the run's event object): when each line reached the screen.
        self.shown: list[tuple[float, dict[str, object]]] = []
        self.theme = "textual-dark"
        self.model.notice = (
            "Watching with control: the keys below steer the run."
            if control
            else "Read-only view (steer with `hiphook watch --control`); q stops watching."
        )

    def on_mount(self) -> None:
        self.screen_view = WatchScreen(self.model)
        self.push_screen(self.screen_view)
        self.run_worker(self._follow(), name="follow", exclusive=True)

    async def _follow(self) -> None:
        while True:
            conn = await connect(self.path, control=self.control)
            if conn is None:
                if self.once:
                    self.exit(EXIT_NO_RUN)
                    return
                self.model.reset()
                self.screen_view.render_view()
                await asyncio.sleep(RETRY_S)
                continue
            self.conn = conn
            drawn: list[dict[str, object]] = []  # events waiting for their batch's view
            async for msg in conn.messages():
                self.model.feed(msg, time.monotonic())
                kind = msg.get("event")
                if kind == "view":
                    self.screen_view.render_view()
                    now = time.monotonic()
                    self.shown += [(now, ev) for ev in drawn]
                    drawn = []
                elif kind in ("refused", "dropped"):
                    self.screen_view.render_view()
                elif kind != "hello":
                    drawn.append(msg)
            self.conn = None
            self.model.ended()
            self.screen_view.render_view()
            await conn.close()
            if self.once:
                self.exit(0)
                return
            await asyncio.sleep(RETRY_S)

    async def action_request(self, name: str) -> None:
        if not self.control:
            self.model.notice = "Read-only: start `hiphook watch --control` to steer the run."
            self.screen_view.render_view()
            return
        if self.conn is not None:
            await self.conn.request(name)

    async def action_pause(self) -> None:
        view = self.model.view or {}
        await self.action_request("resume" if view.get("state") == "paused" else "pause")

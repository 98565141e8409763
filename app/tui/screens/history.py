"""History: the streak (with its rule), 12 weeks of days, adherence, pain, and each press.

Self-contained: `app.push_screen(HistoryScreen(store_url))`. Nothing is read in
compose; the log is opened and queried in a thread worker, and a session's force
traces are decoded in another when it is picked, so the screen paints at once and
stays responsive on ten years of data. The session list has the focus from the start
(↑/↓ pick a session, Enter jumps to its details); every step is listed and every press
gets its own force plot below, in the one scrolling body. Escape goes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

from app.report.sessiontext import press_title, session_header, step_lines, thin
from app.store import stats
from app.store.errors import StoreError

PAIN_DAYS = 90  # sessions on the pain plot
# Markers differ by shape, not colour alone; the legend is in the title, so plotext never
# draws one over the axis labels.
BEFORE, AFTER, STOPPED = "•", "x", "!"
PAIN_TITLE = f"Pain 0–10:  {BEFORE} before  {AFTER} after  {STOPPED} run stopped early"


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


@dataclass(frozen=True)
class PainMark:
    """One session on the pain plot; `stopped` marks a run that did not complete."""

    day: date
    before: int | None
    after: int | None
    stopped: bool


def pain_marks(
    sessions_newest_first: Sequence[dict[str, Any]], n: int = PAIN_DAYS
) -> list[PainMark]:
    """The last n sessions with a pain answer, oldest first, interrupted ones included."""
    out = []
    for s in sessions_newest_first:
        if s["pain_before"] is None and s["pain_after"] is None:
            continue
        if s["status"] not in ("completed", "aborted", "interrupted"):
            continue  # still running: no result yet
        out.append(
            PainMark(
                date.fromisoformat(s["local_day"]),
                s["pain_before"],
                s["pain_after"],
                s["status"] != "completed",
            )
        )
        if len(out) == n:
            break
    return out[::-1]


class HistoryScreen(Screen[None]):
    """The session log at a glance; pick a session to see its steps and each press."""

    DEFAULT_CSS = """
    HistoryScreen #history-body { height: 1fr; }
    HistoryScreen #streak { padding: 0 1; height: auto; }
    HistoryScreen #overview { height: 16; }
    HistoryScreen #left { width: 42; padding: 0 1; }
    HistoryScreen #calendar { height: auto; }
    HistoryScreen #adherence { height: auto; margin-top: 1; }
    HistoryScreen #pain { width: 1fr; height: 16; }
    HistoryScreen #sessions-row { height: auto; }
    HistoryScreen #sessions { width: 36; height: 16; }
    HistoryScreen #detail-box { width: 1fr; height: auto; }
    HistoryScreen #detail { height: auto; padding: 0 1; }
    HistoryScreen .press { height: 12; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    # What the screen shows, as state: each watch_ repaints its own widget.
    loaded: reactive[bool] = reactive(False)
    streak_text: reactive[str] = reactive("", init=False)
    detail_text: reactive[str] = reactive(
        "Pick a session (↑/↓) to see its steps and presses.", init=False
    )
    session_id: reactive[int | None] = reactive(None)

    def __init__(self, store_url: str | None = None, today: date | None = None) -> None:
        super().__init__()
        self.store_url = store_url
        self.today = today  # None: today in the machine's zone (tests pin it)
        self._store: Any = None
        self.press_titles: list[str] = []  # one per force plot shown (for tests)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="history-body"):
            yield Static("History — loading your log…", id="streak")
            with Horizontal(id="overview"):
                with Vertical(id="left"):
                    yield Static("", id="calendar")
                    yield Static("", id="adherence")
                yield PlotextPlot(id="pain")
            with Horizontal(id="sessions-row"):
                yield OptionList(id="sessions")
                with Vertical(id="detail-box"):
                    yield Static(escape(self.detail_text), id="detail")
        yield Footer()

    def on_mount(self) -> None:
        # The keys go to the list, but the view stays at the top: on a small terminal
        # scrolling the list into view would hide the streak, the first thing to see.
        self.query_one("#sessions", OptionList).focus(scroll_visible=False)
        self.load()

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()

    def watch_streak_text(self, text: str) -> None:
        if text:
            self.query_one("#streak", Static).update(escape(text))

    def watch_detail_text(self, text: str) -> None:
        self.query_one("#detail", Static).update(escape(text))

    def watch_session_id(self, session_id: int | None) -> None:
        if session_id is not None:
            self.load_detail(session_id)

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="history-load")
    def load(self) -> None:
        """Open the store and read everything but the blobs, off the event loop."""
        # lazy: the database layer (SQLAlchemy, sqlmodel, alembic; most of a second)
        # loads here, on the worker's thread, so the screen paints before it
        from app.store.store import open_store

        try:
            self._store = open_store(self.store_url)
            data = self._store.history(today=self.today)
        except StoreError as err:
            self.app.call_from_thread(self._show_error, str(err))
            return
        self.app.call_from_thread(self._show, data)

    def _show_error(self, message: str) -> None:
        self.streak_text = f"The session log cannot be read: {message}"
        self.detail_text = "Nothing to show."
        self.loaded = True

    def _show(self, data: Any) -> None:
        home = data.home
        self.streak_text = f"{home.streak.text()}\n{home.streak.rule}"
        self.query_one("#calendar", Static).update(
            "[b]Last 12 weeks[/b] (columns are weeks)\n" + escape(data.calendar)
        )
        week = stats.window(home.done_days, home.today, 7)
        self.query_one("#adherence", Static).update(
            escape(
                f"Last 7 days ({week.span_text()}):\n{week.marks()}\n"
                f"Done on {_pct(home.adherence7)} of those 7 days,\n"
                f"and on {_pct(home.adherence30)} of the last 30."
            )
        )
        self._plot_pain(pain_marks(data.sessions))
        options = self.query_one("#sessions", OptionList)
        options.clear_options()
        for s in data.sessions:
            status = s["status"].replace("_", " ")
            pain = ""
            if s["pain_before"] is not None or s["pain_after"] is not None:
                pb = "–" if s["pain_before"] is None else s["pain_before"]
                pa = "–" if s["pain_after"] is None else s["pain_after"]
                pain = f" pain {pb}→{pa}"
            note = " ✎" if s.get("notes") else ""
            label = f"{s['local_day']} {s['routine']} {status}{pain}{note}"
            options.add_option(Option(escape(label), id=str(s["id"])))
        if data.sessions:
            options.highlighted = 0  # the newest: its details load at once
        else:
            self.detail_text = "No sessions yet. Start one from Home (Enter)."
        self.loaded = True

    def _plot_pain(self, marks: list[PainMark]) -> None:
        widget = self.query_one("#pain", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(PAIN_TITLE)
        if marks:
            xs = list(range(len(marks)))
            for attr, marker in (("before", BEFORE), ("after", AFTER)):
                pts = [(x, getattr(m, attr)) for x, m in zip(xs, marks, strict=True)]
                pts = [(x, v) for x, v in pts if v is not None]
                if pts:
                    plt.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker)
            stopped = [
                (x, m.after if m.after is not None else m.before)
                for x, m in zip(xs, marks, strict=True)
                if m.stopped
            ]
            if stopped:
                plt.scatter([p[0] for p in stopped], [p[1] for p in stopped], marker=STOPPED)
            plt.ylim(0, 10)
            plt.yticks([0, 2, 4, 6, 8, 10])
            # Three dates, far enough apart to fit at any width the screen gives the
            # plot: where labels crowd, plotext drops some in an order that changes
            # from one launch to the next (it goes through a set).
            ticks = sorted({xs[0], xs[len(xs) // 2], xs[-1]})
            plt.xticks(cast("list[float]", ticks), [marks[i].day.strftime("%d %b") for i in ticks])
        widget.refresh()

    # ------------------------------------------------------------------ detail

    @on(OptionList.OptionHighlighted, "#sessions")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self.session_id = int(event.option.id)

    @on(OptionList.OptionSelected, "#sessions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """Enter: bring the session's steps and presses into view."""
        self.query_one("#detail-box").scroll_visible(top=True)

    @work(thread=True, exclusive=True, group="history-detail")
    def load_detail(self, session_id: int) -> None:
        if self._store is None:
            return
        try:
            found = self._store.sessions(ids=[session_id])
            presses = self._store.session_traces(session_id)
        except (StoreError, ValueError) as err:
            self.app.call_from_thread(setattr, self, "detail_text", f"Cannot read it: {err}")
            return
        if not found:
            return
        curves = []
        for info, trace in presses:
            ts = trace.times()
            xs, ys = thin([t - ts[0] for t in ts], list(trace.values))
            curves.append((info, xs, ys))
        # Textual types a coroutine returning None as Awaitable[Never] here (mypy solves
        # `T | Awaitable[T]` to Never), though it awaits it on the loop as documented.
        self.app.call_from_thread(self._show_detail, session_id, found[0], curves)  # type: ignore[arg-type]

    async def _show_detail(
        self, session_id: int, session: dict[str, Any], curves: list[Any]
    ) -> None:
        if session_id != self.session_id:
            return  # the user moved on while it loaded
        lines = [session_header(session), *step_lines(session)]
        if session["notes"]:
            lines.append(f"Note: {session['notes']}")
        if curves:
            lines.append(f"Force of each press below ({len(curves)}).")
        else:
            lines.append("No force traces (no sensor was used).")
        self.detail_text = "\n".join(lines)
        box = self.query_one("#detail-box", Vertical)
        await box.query(".press").remove()
        plots = []
        self.press_titles = []
        for info, xs, ys in curves:
            plot = PlotextPlot(classes="press")
            plt = plot.plt
            title = press_title(info)
            plt.title(title)
            plt.plot(xs, ys, marker="braille")
            self.press_titles.append(title)
            plots.append(plot)
        if plots:
            await box.mount_all(plots)

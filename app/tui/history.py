"""History: the streak (with its rule), 12 weeks of days, adherence, pain, and each press.

Self-contained: `app.push_screen(HistoryScreen(store_url))`. Nothing is read in
compose; the log is opened and queried in a thread worker, and a session's force
traces are decoded in another when it is picked, so the screen paints at once and
stays responsive on ten years of data. Escape goes back.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

MARKERS = ("•", "x", "+", "o", "*", "#")  # series differ by shape, not colour alone
MAX_POINTS = 400  # per curve: a terminal cannot show more, and plotting stays fast


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def _thin(xs: list[float], ys: list[float], n: int = MAX_POINTS) -> tuple[list[float], list[float]]:
    step = max(1, len(xs) // n)
    return xs[::step], ys[::step]


class HistoryScreen(Screen[None]):
    """The session log at a glance; pick a session to see its presses."""

    CSS_PATH = "history.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, store_url: str | None = None) -> None:
        super().__init__()
        self.store_url = store_url
        self._store: Any = None
        self.streak_text = ""  # what the streak line says (for tests and screen readers)
        self.detail_text = ""
        self.loaded = False

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
                    yield Static("Pick a session to see its presses.", id="detail")
                    yield PlotextPlot(id="force")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="history-load")
    def load(self) -> None:
        """Open the store and read everything but the blobs, off the event loop."""
        from app.store.errors import StoreError
        from app.store.store import open_store

        try:
            self._store = open_store(self.store_url)
            data = self._store.history()
        except StoreError as err:
            self.app.call_from_thread(self._show_error, str(err))
            return
        self.app.call_from_thread(self._show, data)

    def _show_error(self, message: str) -> None:
        self.streak_text = f"The session log cannot be read: {message}"
        self.query_one("#streak", Static).update(escape(self.streak_text))
        self.loaded = True

    def _show(self, data: Any) -> None:
        home = data.home
        self.streak_text = home.streak.text()
        self.query_one("#streak", Static).update(
            f"[b]{escape(self.streak_text)}[/b]\n{escape(home.streak.rule)}"
        )
        self.query_one("#calendar", Static).update(
            "[b]Last 12 weeks[/b] (columns are weeks)\n" + escape(data.calendar)
        )
        self.query_one("#adherence", Static).update(
            f"Adherence: {_pct(home.adherence7)} of 7 days, {_pct(home.adherence30)} of 30"
        )
        self._plot_pain(data.pain)
        options = self.query_one("#sessions", OptionList)
        options.clear_options()
        for s in data.sessions:
            status = s["status"].replace("_", " ")
            pain = ""
            if s["pain_before"] is not None or s["pain_after"] is not None:
                pb = "–" if s["pain_before"] is None else s["pain_before"]
                pa = "–" if s["pain_after"] is None else s["pain_after"]
                pain = f" pain {pb}→{pa}"
            label = f"{s['local_day']} {s['routine']} {status}{pain}"
            options.add_option(Option(escape(label), id=str(s["id"])))
        if not data.sessions:
            self.query_one("#detail", Static).update("No sessions yet.")
        self.loaded = True

    def _plot_pain(self, points: list[Any]) -> None:
        widget = self.query_one("#pain", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Pain 0–10: before • after x")
        recent = points[-90:]
        if recent:
            xs = list(range(len(recent)))
            for attr, label, marker in (("before", "before", "•"), ("after", "after", "x")):
                pts = [
                    (x, getattr(p, attr))
                    for x, p in zip(xs, recent, strict=True)
                    if getattr(p, attr) is not None
                ]
                if pts:
                    plt.plot([p[0] for p in pts], [p[1] for p in pts], label=label, marker=marker)
            plt.ylim(0, 10)
            ticks = xs[:: max(1, len(xs) // 4)]
            plt.xticks(ticks, [recent[i].day.strftime("%d %b") for i in ticks])
        widget.refresh()

    # ------------------------------------------------------------------ detail

    @on(OptionList.OptionHighlighted, "#sessions")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self.load_detail(int(event.option.id))

    @work(thread=True, exclusive=True, group="history-detail")
    def load_detail(self, session_id: int) -> None:
        from app.store.errors import StoreError

        if self._store is None:
            return
        try:
            [session] = self._store.sessions(ids=[session_id]) or [None]
            presses = self._store.session_traces(session_id)
        except (StoreError, ValueError):
            return
        if session is None:
            return
        curves = []
        for info, trace in presses:
            ts = trace.times()
            xs, ys = _thin([t - ts[0] for t in ts], list(trace.values))
            curves.append((info, xs, ys))
        self.app.call_from_thread(self._show_detail, session, curves)

    def _show_detail(self, session: dict[str, Any], curves: list[Any]) -> None:
        lines = [
            f"{session['local_day']} {session['routine']}: {session['status'].replace('_', ' ')}"
        ]
        for st in session["steps"]:
            how = "skipped" if st["skipped"] else ("done" if st["completed"] else "not done")
            verdict = f", {st['verdict']}" if st["verdict"] else ""
            side = f" ({st['side']})" if st["side"] else ""
            lines.append(
                f"{st['index'] + 1}. {st['name']}{side}: {how}, "
                f"{st['actual_s']:.0f}/{st['planned_s']:.0f} s{verdict}"
            )
        if session["notes"]:
            lines.append(f"Notes: {session['notes']}")
        if not curves:
            lines.append("No force traces (no sensor was used).")
        self.detail_text = "\n".join(lines)
        self.query_one("#detail", Static).update(escape(self.detail_text))
        widget = self.query_one("#force", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Force per press (N) over seconds")
        for k, (info, xs, ys) in enumerate(curves):
            side = f" {info['side']}" if info["side"] else ""
            plt.plot(xs, ys, label=f"{info['name']}{side}", marker=MARKERS[k % len(MARKERS)])
        widget.refresh()

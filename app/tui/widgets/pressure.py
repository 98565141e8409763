"""The pressure panel: how hard the runner presses, against their target band, in words too.

Shown on the routine screen only when a sensor is attached. It draws the sensor's
immutable `PressureSnapshot`, taken on the screen's display timer (10 Hz), and keeps its
own short history in a bounded deque, so the sensor's 100 Hz stream never turns into
one message per sample; it never reaches into the coach or the link.
Every state is spelled out ("HELD", "PRESS HARDER", "sensor lost — reconnecting");
colour only helps.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from app.core.pressure import Band, Verdict, VerdictKind, Zone
from app.tui.widgets.line import TextLine

if TYPE_CHECKING:  # not at run time: app.sensor loads pyserial
    from app.sensor.attachment import PressureSnapshot as Snapshot

GAUGE_CELLS = 36  # inside the brackets; the trend below is as wide, so they line up
COMPACT_CELLS = 24  # the one-row panel leaves room for the time held
LABEL = 9  # "Force    " and "Last 10 s" take the same width
HISTORY_S = 10.0
CELL_S = HISTORY_S / GAUGE_CELLS  # the span of run time one cell of the trend covers
FILLED, IN_BAND, OUTSIDE, EDGE = "█", "░", "·", "|"

ZONE_WORDS = {Zone.HELD: "HELD", Zone.OUT: "PRESS HARDER", Zone.OVER: "EASIER"}


def gauge_top(band: Band) -> float:
    """The gauge's full scale: a quarter of the band's width past its upper edge."""
    return band.high + 0.25 * (band.high - band.low)


def gauge_cells(force: float | None, band: Band, cells: int = GAUGE_CELLS) -> str:
    """The bar inside the brackets, e.g. `██|█████░░░░░░░|····`: filled up to the force,
    the band's edges as `|`, and empty cells inside the band told from those outside it
    by their shape, so the band reads without colour."""
    top = gauge_top(band)
    low = min(cells - 1, round(band.low / top * cells))
    high = min(cells - 1, max(low + 1, round(band.high / top * cells)))
    filled = 0 if force is None else round(max(0.0, min(force, top)) / top * cells)
    out = []
    for i in range(cells):
        if i in (low, high):
            out.append(EDGE)
        elif i < filled:
            out.append(FILLED)
        else:
            out.append(IN_BAND if low < i < high else OUTSIDE)
    return "".join(out)


def zone_words(snap: Snapshot) -> str:
    """What the runner should do now, in words; between presses there is nothing to judge."""
    if not snap.connected:
        return "NO READING"
    if snap.zone is None:
        return "no press now"
    return ZONE_WORDS[snap.zone]


def held_words(snap: Snapshot) -> str:
    """Time under pressure against the plan during a press; the last verdict after one."""
    if snap.under_pressure_s is not None and snap.planned_s is not None:
        return f"held {int(snap.under_pressure_s)} of {snap.planned_s:.0f} s"
    if snap.last_verdict is not None:
        return f"last press: {short_verdict(snap.last_verdict)}"
    return "no press yet"


def short_verdict(v: Verdict) -> str:
    if v.kind is VerdictKind.PARTIAL:
        return f"partial {v.share:.0%}"
    return v.kind.value


def link_words(status: Any) -> str:
    """The link's state in words, from a `LinkStatus` (None before the first report)."""
    state = getattr(status, "state", None)
    if state is None or state == "connecting":
        return "sensor: connecting…"
    if state in ("lost", "reconnecting"):
        return "sensor lost — reconnecting"
    if state == "closed":
        return "sensor: closed"
    words = f"sensor: connected {status.rate_hz:.0f} Hz, {status.dropped} dropped"
    bad = status.bad_lines + getattr(status, "checksum_errors", 0)
    return words + (f", {bad} bad" if bad else "")


def band_words(band: Band) -> str:
    edges = f"{band.low:.0f}–{band.high:.0f} N"
    return f"target {edges}" if band.calibrated else f"uncalibrated band {edges}"


class _Edge(float):
    """A scale mark for the trend: it sets the range but is never drawn as a bar."""


def _bar(bucket: Sequence[float]) -> float:
    values = [v for v in bucket if not isinstance(v, _Edge)]
    return max(values) if values else 0.0


def trend_top(cells: Sequence[float], band: Band) -> float:
    """The trend's full scale: the highest force shown, but at least twice the band's
    lower edge, so a steady press fills most of the row and a slip is a deep notch,
    while an empty tool stays near the floor."""
    return max(max(cells, default=0.0), 2 * band.low, 1.0)


def pinned(cells: Sequence[float], top: float) -> list[float]:
    """Trend data on a scale from 0 to `top`.

    Textual's Sparkline scales bars to the data's own min and max, which would blow the
    few newtons of noise in a steady hold up to full height. So each cell goes in twice
    (each bar is one bucket of two), and the first and last copies are replaced by edge
    marks at 0 and `top`, which `_bar` leaves out.
    """
    out: list[float] = []
    for v in cells:
        v = max(0.0, min(v, top))
        out += [v, v]
    if out:
        out[0], out[-1] = _Edge(0.0), _Edge(top)
    return out


class ForceGauge(Widget):
    """One row: `Force    [██|████░░░░|···]   155 N  HELD`, then `tail` (compact panel)."""

    DEFAULT_CSS = """
    ForceGauge {
        height: 1;
        width: 1fr;
    }
    ForceGauge > .gauge--held {
        color: $success;
    }
    ForceGauge > .gauge--out {
        color: $warning;
    }
    ForceGauge > .gauge--over {
        color: $error;
    }
    ForceGauge > .gauge--words {
        text-style: bold;
    }
    """
    COMPONENT_CLASSES = {"gauge--held", "gauge--out", "gauge--over", "gauge--words"}

    cells: reactive[str] = reactive("")
    force: reactive[str] = reactive("")
    words: reactive[str] = reactive("")
    zone: reactive[str] = reactive("out")
    tail: reactive[str] = reactive("")
    label: reactive[str] = reactive("Force")

    def set(self, cells: str, force: str, words: str, zone: str) -> None:
        self.cells, self.force, self.words, self.zone = cells, force, words, zone

    def render(self) -> Text:
        fill = self.get_component_rich_style(f"gauge--{self.zone}")
        text = Text(self.label.ljust(LABEL) if self.label else "", no_wrap=True)
        text.append("[")
        for ch in self.cells:
            text.append(ch, fill if ch == FILLED else "")
        text.append(f"] {self.force:>6}  ")
        text.append(self.words, self.get_component_rich_style("gauge--words"))
        if self.tail:
            text.append(f"  {self.tail}")
        return text


class PressurePanel(Vertical):
    """The live gauge, the last ten seconds, time under pressure and the link's state.

    `compact` folds it into the gauge's one row (force, words, then time held or the
    link's trouble), leaving the rows to the big digits on a small terminal.
    """

    DEFAULT_CSS = """
    PressurePanel {
        height: auto;
    }
    PressurePanel #trend-row, PressurePanel #held-row {
        height: 1;
    }
    PressurePanel.-compact #trend-row, PressurePanel.-compact #held-row {
        display: none;
    }
    PressurePanel #trend-label {
        width: 10;
        color: $text-muted;
    }
    /* As wide as the gauge's cells, so the trend sits right under them. */
    PressurePanel #trend {
        width: 36;
        height: 1;
    }
    PressurePanel #band {
        width: 1fr;
        padding-left: 2;
        color: $text-muted;
    }
    PressurePanel #held {
        width: 1fr;
    }
    /* A fixed width: its words change while the rest of the screen must not move. */
    PressurePanel #link {
        width: 44;
        text-align: right;
    }
    """

    compact: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # One value per cell of the trend, each the mean of the display ticks in its
        # CELL_S of run time, so the trend moves (and repaints) a few times a second,
        # not on every tick, and a tick dropped under load leaves the time axis true.
        self.history: deque[float] = deque([0.0] * GAUGE_CELLS, maxlen=GAUGE_CELLS)
        self._cell: list[float] = []
        self._cell_at: int | None = None  # which CELL_S of run time the ticks are in
        self._press: tuple[int, int, float] = (0, 0, 0.0)  # key, samples, sum last seen
        self._last: Snapshot | None = None

    def compose(self) -> ComposeResult:
        yield ForceGauge(id="gauge")
        with Horizontal(id="trend-row"):
            yield Static("Last 10 s".ljust(LABEL + 1), id="trend-label")
            yield Sparkline([], summary_function=_bar, id="trend")
            yield TextLine(id="band")
        with Horizontal(id="held-row"):
            yield TextLine(id="held")
            yield TextLine(id="link")

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")
        if self._last is not None:
            self.show(self._last)

    def sample(self, snap: Snapshot, t: float) -> None:
        """One display tick at run time `t`: note the force since the last tick.

        During a press that is the mean of the press's samples since the last snapshot
        (so a short lift still shows); otherwise the latest reading. With no link it is
        0, and the words say why.
        """
        value = snap.force_n if snap.connected else 0.0
        if snap.zone is not None:
            key, seen, total = self._press
            if key != snap.press_key:  # a new press (or the same step again, after Back)
                seen, total = 0, 0.0
            fresh = snap.press_samples - seen
            if fresh > 0:
                value = (snap.press_sum_n - total) / fresh
            self._press = (snap.press_key, snap.press_samples, snap.press_sum_n)
        at = math.floor(t / CELL_S)
        if self._cell and self._cell_at is not None and at != self._cell_at:
            mean = sum(self._cell) / len(self._cell)
            # a cell no tick fell in (the loop was busy) carries the last value on
            for _ in range(max(1, min(at - self._cell_at, GAUGE_CELLS))):
                self.history.append(mean)
            self._cell.clear()
        self._cell_at = at
        self._cell.append(value)

    def show(self, snap: Snapshot) -> None:
        """Draw one snapshot; widgets given what they already show do not repaint."""
        if not self.is_mounted:
            return
        self._last = snap
        band = snap.band
        connected = snap.connected
        zone = snap.zone.value if snap.zone is not None and connected else "out"
        force = f"{round(snap.force_n)} N" if connected else "-- N"  # never "-0 N"
        cells = COMPACT_CELLS if self.compact else GAUGE_CELLS
        bar = gauge_cells(snap.force_n if connected else None, band, cells)
        gauge = self.query_one(ForceGauge)
        gauge.set(bar, force, zone_words(snap), zone)
        gauge.label = "" if self.compact else "Force"
        # Compact: after the words, the time held, or what is wrong with the link.
        gauge.tail = (held_words(snap) if connected else link_words(snap.link)) * self.compact
        history = list(self.history)
        self.query_one(Sparkline).data = pinned(history, trend_top(history, band))
        self.query_one("#band", TextLine).text = band_words(band)
        self.query_one("#held", TextLine).text = held_words(snap)
        self.query_one("#link", TextLine).text = link_words(snap.link)

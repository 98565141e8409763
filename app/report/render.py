"""Draw the report: matplotlib charts as inline SVG inside one self-contained HTML page.

matplotlib (Agg-free SVG backend, `svg.fonttype = "none"`) is used because it is the
best-kept plotting library for static figures, needs no browser or network, and writes
SVG text as text: the page stays small, searchable and sharp when printed. Nothing here
reads the log or the clock; it turns `Figures` into bytes.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import defaultdict
from datetime import date
from typing import Any

from app.report.figures import DAY_STATES, Figures

DISCLAIMER = (
    "hiphook is a tool for keeping a routine; it is not medical advice. "
    "Discuss this report, your pain and any change of exercise with your "
    "physical therapist or doctor."
)
STATE_COLOURS = {
    "done": "#2e7d32",
    "partial": "#f9a825",
    "interrupted": "#c62828",
    "missed": "#e0e0e0",
    "open": "#ffffff",
    "future": "#ffffff",
}
WIDTH_IN = 7.0  # fits the printable width of both A4 (180 mm) and Letter (7.5 in)
DENSE = 400  # points in one series beyond which it is drawn as an image (see _dense)
RASTER_DPI = 150  # for those images: sharp on paper, a few tens of kB a chart
PDF_DPI = 150  # the PDF's charts are images (see _png): sharp when printed
YEAR_WEEKS = 53  # up to a year, weekly series have markers and the calendar square cells
MARGIN_LEFT_IN = 0.8  # tick labels and a two-line axis label
MARGIN_RIGHT_IN = 2.15  # the legends' longest entry ("right: completed (no sensor)")
TABLE_WEEKS = 12  # the tables list the last weeks; the charts show the whole period


def _mpl() -> Any:
    """matplotlib, set up once for the report (SVG text as text, a fixed hash salt)."""
    # lazy: matplotlib takes most of a second to import; only the report draws
    import matplotlib

    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "hiphook",
            "font.size": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": 72,
        }
    )
    return matplotlib


def _figure(height_in: float) -> Any:
    """A bare Figure, not pyplot's: no global figure manager to register with and close,
    and pyplot's own import is skipped."""
    _mpl()
    # lazy: with matplotlib, above
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height_in))


def _date_axis(ax: Any) -> None:
    """Short date labels (years, or months and days with the year beside them) that fit
    level under the axis, so no chart needs rotated labels and room below for them."""
    # lazy: with matplotlib
    import matplotlib.dates

    dates: Any = matplotlib.dates  # its locator and formatter classes carry no type hints
    locator = dates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    # The year under the axis, not "2026-Dec": the period is stated above the charts.
    years = ["", "%Y", "%Y", "%Y", "%Y", "%Y"]
    ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, offset_formats=years))


def _epoch_ordinal() -> int:
    """The ordinal of matplotlib's day 0 (rcParams["date.epoch"], which a user may set)."""
    # lazy: with matplotlib
    import matplotlib.dates

    dates: Any = matplotlib.dates  # untyped, as in _date_axis
    base = date(1970, 1, 1)
    return base.toordinal() - round(float(dates.date2num(base)))


def _x(days: list[date]) -> list[int]:
    """Days as matplotlib's date numbers: converting date objects in matplotlib
    (date2num over an object array) cost more than drawing some of the charts."""
    epoch = _epoch_ordinal()
    return [d.toordinal() - epoch for d in days]


def _svg(fig: Any, alt: str) -> str:
    """The chart inline, as SVG (its words stay text: searchable, sharp in print)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", dpi=RASTER_DPI, metadata={"Date": None})
    text = buf.getvalue()
    label = f'<svg role="img" aria-label="{html.escape(alt)}"'
    return label + text[text.index("<svg") + len("<svg") :]


def _png(fig: Any, alt: str) -> str:
    """The chart as a PNG for the PDF: WeasyPrint lays out each SVG element in Python
    (most of a minute for a year's charts); one image takes it milliseconds. Without an
    alpha channel, and lightly compressed: WeasyPrint decodes it and compresses it
    again for the PDF, and an alpha channel would be split off and compressed apart."""
    # lazy: matplotlib's raster backend and Pillow (its dependency), only for a PDF
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(PDF_DPI)
    canvas: Any = FigureCanvasAgg(fig)  # matplotlib leaves draw() and buffer_rgba() untyped
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buf = io.BytesIO()
    rgba.convert("RGB").save(buf, format="PNG", compress_level=1)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="chart" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _days(values: list[str]) -> list[date]:
    return [date.fromisoformat(v) for v in values]


def _frame(fig: Any, bottom: float = 0.5, **adjust: float) -> None:
    """Fixed margins, in inches: the same plot width in every chart, the legend in the
    right one. (bbox_inches="tight" drew every chart twice to measure it: most of the
    drawing time.)"""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(
        left=MARGIN_LEFT_IN / w,
        right=1 - MARGIN_RIGHT_IN / w,
        bottom=bottom / h,
        top=1 - 0.1 / h,
        **adjust,
    )


def _dense(n: int) -> dict[str, Any]:
    """Draw a series of more than DENSE points as one image inside the SVG: thousands of
    markers would each be an SVG element (megabytes, and slow to lay out for the PDF).
    Drawn just below the other lines (zorder 1.9, lines are 2), the dense series of one
    chart come one after another and matplotlib makes them a single image, not one each."""
    return {"rasterized": True, "zorder": 1.9} if n > DENSE else {}


def calendar_chart(f: Figures) -> Any:
    """One cell a day, Monday on top, a column a week: an image of the state codes (one
    artist, whatever the period: a patch per day took seconds for ten years)."""
    # lazy: matplotlib and numpy, like _figure: not at the report's import
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    states = list(STATE_COLOURS)
    codes = np.array([states.index(c["state"]) for c in f.calendar], dtype=float)
    grid = codes.reshape(f.weeks, 7).T  # rows Mon..Sun, a column per week
    square = f.weeks <= YEAR_WEEKS  # beyond a year a column is too thin for square days
    plot_w = WIDTH_IN - MARGIN_LEFT_IN - MARGIN_RIGHT_IN
    cell = min(plot_w / f.weeks, 0.2) if square else 0.2
    # As tall as the cells need, and at least as the legend's four entries.
    fig = _figure(max(1.15, 7 * cell + 0.4))
    ax = fig.add_subplot()
    _frame(fig, bottom=0.3)
    ax.set_anchor("W")  # square cells: the plot keeps to the left, its legend beside it
    ax.imshow(
        grid,
        cmap=ListedColormap([STATE_COLOURS[k] for k in states]),
        vmin=-0.5,
        vmax=len(states) - 0.5,
        interpolation="none",
        extent=(0, f.weeks, 0, 7),
        aspect="equal" if square else "auto",
    )
    if square:  # white gaps between the cells
        gap = 0.1 * 72 * cell
        ax.hlines(range(8), 0, f.weeks, colors="white", lw=gap)
        ax.vlines(range(f.weeks + 1), 0, 7, colors="white", lw=gap)
    for k, day in enumerate(f.calendar):
        if day["state"] == "open":
            w, d = divmod(k, 7)
            ax.add_patch(Rectangle((w, 6 - d), 1, 1, fill=False, edgecolor="#9e9e9e"))
    ax.set_xlim(0, f.weeks)
    ax.set_ylim(0, 7)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    small = cell * 72 < 9  # points: a label a row would overlap the next
    ax.set_yticks(
        [6.5 - d for d in range(7)],
        [n if not small or d % 2 == 0 else "" for d, n in enumerate(days)],
    )
    # About four week labels: the cells are small (square days), and a label a week
    # runs into the next one.
    step = max(1, -(-f.weeks // 4))
    ax.set_xticks(
        [w + 0.5 for w in range(0, f.weeks, step)],
        [
            date.fromisoformat(f.calendar[w * 7]["day"]).strftime(
                "%d %b" if f.weeks <= YEAR_WEEKS else "%b %Y"
            )
            for w in range(0, f.weeks, step)
        ],
    )
    ax.tick_params(length=0, labelsize=8)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.legend(
        handles=[Patch(color=STATE_COLOURS[s], label=s) for s in DAY_STATES],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
    )
    return fig


def weekly_chart(f: Figures) -> Any:
    fig = _figure(1.8)
    ax = fig.add_subplot()
    weeks = _x(_days([w["week"] for w in f.weekly]))
    sessions = [w["sessions"] for w in f.weekly]
    if len(weeks) <= YEAR_WEEKS:
        ax.bar(weeks, sessions, width=5, color="#5c6bc0", label="sessions")
    else:  # one filled outline, not a bar (an artist) per week; fill_between, as stairs
        # measured its outline's extent curve by curve in Python (50 ms for ten years)
        edges = [*weeks, weeks[-1] + 7]
        steps = [*sessions, sessions[-1]]
        ax.fill_between(edges, steps, step="post", lw=0, color="#5c6bc0", label="sessions")
    ax.plot(
        weeks,
        [w["done_days"] for w in f.weekly],
        "o-" if len(weeks) <= YEAR_WEEKS else "-",
        color="#2e7d32",
        ms=3,
        lw=1,
        label="days done",
    )
    ax.set_ylabel("per week")
    ax.set_ylim(0, max([7] + [w["sessions"] for w in f.weekly]) + 0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _date_axis(ax)
    _frame(fig)
    return fig


def press_chart(f: Figures, name: str) -> Any:
    fig = _figure(3.4)
    a1, a2 = fig.subplots(2, 1, sharex=True)
    ps = [p for p in f.presses if p.name == name]
    for side in sorted({p.side or "" for p in ps}):
        mine = [p for p in ps if (p.side or "") == side and p.under_pressure_s is not None]
        if mine:
            a1.plot(
                _x(_days([p.day for p in mine])),
                [p.under_pressure_s for p in mine],
                ".",
                ms=4,
                label=f"held, {side or 'both'}",
                **_dense(len(mine)),
            )
    planned = [p for p in ps]
    if planned:
        a1.plot(
            _x(_days([p.day for p in planned])),
            [p.planned_s for p in planned],
            "_",
            color="#9e9e9e",
            label="planned",
            **_dense(len(planned)),
        )
    a1.set_ylabel("seconds under\npressure")
    a1.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    # Per week up to a year; beyond, per month (a week's share of three or four presses
    # jumps between 0 and 100%, and ten years of that is a smear), pooled: the month's
    # confirmed (or completed) presses over its presses.
    monthly = f.weeks > YEAR_WEEKS
    pooled: dict[tuple[str, bool], dict[date, list[int]]] = defaultdict(dict)
    for row in f.press_weekly:
        if row["name"] == name:
            week = date.fromisoformat(row["week"])
            key = week.replace(day=1) if monthly else week
            good = row["confirmed"] if row["sensor"] else row["completed"]
            tally = pooled[(row["side"] or "both", row["sensor"])].setdefault(key, [0, 0])
            tally[0] += good
            tally[1] += row["presses"]
    for (side, sensor), by_key in sorted(pooled.items()):
        pts = sorted(by_key.items())
        a2.plot(
            _x([d for d, _ in pts]),
            [100 * good / n for _, (good, n) in pts],
            ("o-" if sensor else "s--") if len(pts) <= YEAR_WEEKS else ("-" if sensor else "--"),
            ms=3,
            lw=1,
            label=f"{side}: {'confirmed (sensor)' if sensor else 'completed (no sensor)'}",
        )
    a2.set_ylim(-5, 105)
    a2.set_ylabel("% per month" if monthly else "% per week")
    a2.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _date_axis(a2)
    _frame(fig, hspace=0.15)
    return fig


def pain_chart(f: Figures) -> Any:
    # lazy: numpy takes ~0.1 s; only the pain chart needs it
    import numpy as np

    fig = _figure(2.2)
    ax = fig.add_subplot()
    epoch = _epoch_ordinal()
    for key, colour, label in (("before", "#6d4c41", "before"), ("after", "#1565c0", "after")):
        pts = [
            (date.fromisoformat(p.day).toordinal() - epoch, getattr(p, key), p.status)
            for p in f.pain
            if getattr(p, key) is not None
        ]
        full = [(d, v) for d, v, s in pts if s == "completed"]
        cut = [(d, v) for d, v, s in pts if s != "completed"]
        if full:
            ax.plot(
                [d for d, _ in full],
                [v for _, v in full],
                "o",
                ms=3,
                color=colour,
                label=label,
                **_dense(len(full)),
            )
        if cut:
            ax.plot(
                [d for d, _ in cut],
                [v for _, v in cut],
                "x",
                ms=5,
                color=colour,
                label=f"{label}, run not completed",
                **_dense(len(cut)),
            )
        if len({d for d, _, _ in pts}) >= 2:
            x = np.array([d for d, _, _ in pts], dtype=float)
            slope, icpt = np.polyfit(x, np.array([v for _, v, _ in pts], dtype=float), 1)
            xs = np.array([x.min(), x.max()])
            ax.plot(
                xs,
                slope * xs + icpt,
                "-",
                color=colour,
                lw=1,
                alpha=0.7,
                label=f"{label}, trend",
            )
    ax.set_ylim(-0.5, 10.5)
    ax.set_ylabel("pain 0-10")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _date_axis(ax)
    _frame(fig)
    return fig


CSS = """
@page { margin: 15mm; }
body { font: 10pt/1.35 system-ui, sans-serif; color: #111; max-width: 190mm; margin: auto; }
h1 { font-size: 16pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 14pt 0 4pt; }
section { break-inside: avoid; page-break-inside: avoid; }
svg, img.chart { width: 100%; height: auto; }
table { border-collapse: collapse; margin: 4pt 0; }
td, th { border-bottom: 1px solid #ccc; padding: 1pt 6pt; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.disclaimer { border: 1px solid #999; padding: 4pt 6pt; margin-top: 12pt; }
.meta { color: #444; }
"""


def _e(v: Any) -> str:
    return html.escape("–" if v is None else str(v))


def _fig(key: str, value: Any) -> str:
    """A number the tests read back: shown as text, tagged with what it is."""
    return f'<span data-figure="{html.escape(key)}">{_e(value)}</span>'


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def _cut_note(f: Figures) -> str:
    if f.weeks <= TABLE_WEEKS:
        return ""
    return (
        f"<p><small>The table lists the last {TABLE_WEEKS} weeks; the chart shows all "
        f"{f.weeks}, and every week is in the figures embedded in this file.</small></p>"
    )


def embedded_json(f: Figures) -> str:
    """The figures for anyone who checks them, compact; each press's own row is left to
    `history --json` (thousands over years), its weekly counts and shares are here."""
    # A shallow copy, the rows (frozen dataclasses) written by vars(): asdict's deep copy
    # of every row took most of a second for ten years.
    data = {k: v for k, v in vars(f).items() if k != "presses"}
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), default=vars)
    return text.replace("</", "<\\/")


def render_html(f: Figures, *, png_charts: bool = False) -> str:
    """The page; `png_charts` draws the charts as images (the PDF's way, see _png)."""
    chart = _png if png_charts else _svg
    s = f.summary
    st = s["streak"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>hiphook report</title><style>",
        CSS,
        "</style></head><body>",
        "<h1>hiphook: hip-flexor routine report</h1>",
        f"<p class='meta'>Period: {_fig('first_day', f.first_day)} to "
        f"{_fig('last_day', f.last_day)} ({f.weeks} weeks). Routine: "
        f"{_fig('routines', ', '.join(f.routines) or None)}. Tight side: "
        f"{_fig('sides', ', '.join(f.sides) or None)}. Made {_e(f.made_at)}.</p>",
        "<section><h2>Adherence</h2>",
        f"<p>Streak: {_fig('streak.days', st['days'])} day(s), best "
        f"{_fig('streak.best', st['best'])}, bent {_fig('streak.bends', st['bends'])}×. "
        f"<small>({_e(st['rule'])})</small></p>",
        f"<p>Completed on {_fig('adherence.last7', _pct(s['adherence']['last7']))} of the last "
        f"7 days and {_fig('adherence.last30', _pct(s['adherence']['last30']))} of the last 30, "
        f"counted to {_fig('adherence.window_end', s['adherence']['window_end'])} "
        "(today counts once it is done). "
        f"Sessions in the whole log: {_fig('sessions', s['sessions'])}.</p>",
        "<table><tr>"
        + "".join(f"<th>{d}</th>" for d in DAY_STATES)
        + "</tr><tr>"
        + "".join(f"<td>{_fig('days.' + d, f.day_counts[d])}</td>" for d in DAY_STATES)
        + "</tr></table>",
        chart(calendar_chart(f), "adherence calendar"),
        "<p><small>done: a completed run; partial: stopped before the end; interrupted: the "
        "app or computer stopped mid-run; missed: no run.</small></p></section>",
        "<section><h2>Sessions per week</h2>",
        chart(weekly_chart(f), "sessions and days done per week"),
        "<table><tr><th>week of</th><th>sessions</th><th>days done</th>"
        "<th>pain before</th><th>pain after</th></tr>",
    ]
    shown = f.weekly[-TABLE_WEEKS:]
    since = shown[0]["week"] if shown else f.first_day
    for w in shown:
        k = f"week.{w['week']}"
        parts.append(
            f"<tr><td>{_e(w['week'])}</td><td>{_fig(k + '.sessions', w['sessions'])}"
            f"</td><td>{_fig(k + '.done_days', w['done_days'])}</td>"
            f"<td>{_e(w['pain_before'])}</td><td>{_e(w['pain_after'])}</td></tr>"
        )
    parts.append("</table>" + _cut_note(f) + "</section>")
    for name in sorted({p.name for p in f.presses}):
        parts += [
            f"<section><h2>{_e(name)}: time under pressure and verdicts</h2>",
            chart(press_chart(f, name), f"{name}: time under pressure and verdicts"),
            "<table><tr><th>week of</th><th>side</th><th>sensor</th><th>presses</th>"
            "<th>confirmed</th><th>completed</th><th>share</th><th>held (mean s)</th>"
            "</tr>",
        ]
        for r in (r for r in f.press_weekly if r["name"] == name and r["week"] >= since):
            parts.append(
                f"<tr><td>{_e(r['week'])}</td><td>{_e(r['side'])}</td>"
                f"<td>{'yes' if r['sensor'] else 'no'}</td><td>{_e(r['presses'])}</td>"
                f"<td>{_e(r['confirmed'] if r['sensor'] else None)}</td>"
                f"<td>{_e(r['completed'])}</td><td>{_pct(r['share'])}</td>"
                f"<td>{_e(r['under_pressure_mean_s'])}</td></tr>"
            )
        parts.append(
            "</table>" + _cut_note(f) + "<p><small>With a sensor the share is of presses confirmed "
            "(held for 90% of the planned time); without one it is of presses "
            "completed, which the app cannot verify.</small></p></section>"
        )
    if not f.presses:
        parts.append("<section><h2>Presses</h2><p>No presses in this period.</p></section>")
    tr = f.pain_trend
    ha, la = f.pain_by_adherence["high"], f.pain_by_adherence["low"]
    parts += [
        "<section><h2>Pain (0-10) before and after each session</h2>",
        chart(pain_chart(f), "pain before and after")
        if f.pain
        else "<p>No pain answers in this period.</p>",
        f"<p>Trend: before {_fig('trend.before', tr['before_per_week'])}, after "
        f"{_fig('trend.after', tr['after_per_week'])} points per week (least squares; "
        "negative is better). Runs not completed are drawn as ×.</p>",
        "<table><tr><th>weeks</th><th>count</th><th>sessions</th><th>pain before</th>"
        "<th>pain after</th></tr>",
        f"<tr><td>high adherence (5+ of 7 days)</td><td>{_fig('high.weeks', ha['weeks'])}</td>"
        f"<td>{_e(ha['sessions'])}</td><td>{_fig('high.before', ha['pain_before'])}</td>"
        f"<td>{_fig('high.after', ha['pain_after'])}</td></tr>",
        f"<tr><td>low adherence</td><td>{_fig('low.weeks', la['weeks'])}</td>"
        f"<td>{_e(la['sessions'])}</td><td>{_fig('low.before', la['pain_before'])}</td>"
        f"<td>{_fig('low.after', la['pain_after'])}</td></tr></table></section>",
        "<section><h2>Notes</h2>",
    ]
    if f.notes:
        parts.append(
            "<ul>"
            + "".join(f"<li><b>{_e(n['day'])}</b> {_e(n['note'])}</li>" for n in f.notes)
            + "</ul>"
        )
    else:
        parts.append("<p>No notes in this period.</p>")
    parts += [
        "</section>",
        f"<p class='disclaimer'>{_e(DISCLAIMER)}</p>",
        "<script type='application/json' id='hiphook-figures'>",
        embedded_json(f),
        "</script></body></html>\n",
    ]
    return "".join(parts)

"""The report as it was before the speed-ups (kept only as bench_report.py's baseline).

The figures were computed with a scan of every session for each week, and the page drawn
with a matplotlib patch per calendar day, a bar per week, an SVG marker per press and per
pain answer, each chart measured by a second draw (bbox_inches="tight"), every week in
the tables, and every press in the embedded JSON (dataclasses.asdict). The PDF was
WeasyPrint laying out those SVGs. Not product code: nothing in app/ imports this.
"""

from __future__ import annotations

import html
import io
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from app.report.figures import (
    DAY_STATES,
    HIGH_ADHERENCE,
    Figures,
    PainRow,
    _mean,
    _slope_per_week,
    done_days,
    monday,
    summary,
)

_STATUS_STATE = {"completed": "done", "aborted": "partial", "interrupted": "interrupted"}


@dataclass(frozen=True)
class PressPoint:
    """One press of one session, as the old renderer had it (app's is a NamedTuple now)."""

    day: str
    session_id: int | None
    name: str
    side: str | None
    sensor: bool
    planned_s: float
    actual_s: float
    under_pressure_s: float | None
    verdict: str | None
    completed: bool
    n_samples: int | None


def compute(
    sessions: Sequence[Mapping[str, Any]], today: date, weeks: int = 12, made_at: str = ""
) -> Figures:
    """The report's figures for the `weeks` whole weeks (Monday first) ending with today's."""
    first = monday(today) - timedelta(weeks=weeks - 1)
    inside = [s for s in sessions if first <= date.fromisoformat(s["local_day"]) <= today]

    by_day: dict[date, str] = {}
    for s in inside:
        state = _STATUS_STATE.get(s["status"])
        if state is None:
            continue  # a run still in progress is not a day's result yet
        d = date.fromisoformat(s["local_day"])
        old = by_day.get(d)
        if old is None or DAY_STATES.index(state) < DAY_STATES.index(old):
            by_day[d] = state
    calendar = []
    counts = dict.fromkeys(DAY_STATES, 0)
    for k in range(weeks * 7):
        d = first + timedelta(days=k)
        if d > today:
            state = "future"
        elif d == today and d not in by_day:
            state = "open"
        else:
            state = by_day.get(d, "missed")
            counts[state] += 1
        calendar.append({"day": d.isoformat(), "state": state})

    weekly = []
    for w in range(weeks):
        start = first + timedelta(weeks=w)
        end = start + timedelta(days=6)
        ss = [s for s in inside if start <= date.fromisoformat(s["local_day"]) <= end]
        days_in = (min(end, today) - start).days + 1
        done = sum(1 for k in range(7) if by_day.get(start + timedelta(days=k)) == "done")
        weekly.append(
            {
                "week": start.isoformat(),
                "sessions": len(ss),
                "done_days": done,
                "days": days_in,
                "completed": sum(1 for s in ss if s["status"] == "completed"),
                "pain_before": _mean(
                    [s["pain_before"] for s in ss if s["pain_before"] is not None]
                ),
                "pain_after": _mean([s["pain_after"] for s in ss if s["pain_after"] is not None]),
            }
        )

    presses: list[PressPoint] = []
    for s in inside:
        for st in s.get("steps", []):
            if st["kind"] != "press":
                continue
            tr = st.get("trace")
            presses.append(
                PressPoint(
                    day=s["local_day"],
                    session_id=s.get("id"),
                    name=st["name"],
                    side=st["side"],
                    sensor=bool(s.get("sensor")),
                    planned_s=st["planned_s"],
                    actual_s=st["actual_s"],
                    under_pressure_s=st.get("under_pressure_s"),
                    verdict=st.get("verdict"),
                    completed=bool(st["completed"]),
                    n_samples=tr["n_samples"] if tr else None,
                )
            )
    groups: dict[tuple[str, str, str, bool], list[PressPoint]] = defaultdict(list)
    for p in presses:
        wk = monday(date.fromisoformat(p.day)).isoformat()
        groups[(wk, p.name, p.side or "", p.sensor)].append(p)
    press_weekly = []
    for (wk, name, side, sensor), ps in sorted(groups.items()):
        confirmed = sum(1 for p in ps if p.verdict == "confirmed")
        completed = sum(1 for p in ps if p.completed)
        held = [p.under_pressure_s for p in ps if p.under_pressure_s is not None]
        press_weekly.append(
            {
                "week": wk,
                "name": name,
                "side": side or None,
                "sensor": sensor,
                "presses": len(ps),
                "confirmed": confirmed,
                "completed": completed,
                # With a sensor a press is judged; without one it can only be completed.
                "share": round((confirmed if sensor else completed) / len(ps), 4),
                "under_pressure_mean_s": _mean(held),
            }
        )

    pain = [
        PainRow(s["local_day"], s.get("id"), s["status"], s["pain_before"], s["pain_after"])
        for s in inside
        if s["pain_before"] is not None or s["pain_after"] is not None
    ]
    trend = {
        "before_per_week": _slope_per_week(
            [(date.fromisoformat(p.day), p.before) for p in pain if p.before is not None]
        ),
        "after_per_week": _slope_per_week(
            [(date.fromisoformat(p.day), p.after) for p in pain if p.after is not None]
        ),
    }
    by_adh: dict[str, dict[str, Any]] = {}
    picks: tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...] = (
        ("high", lambda w: w["done_days"] >= HIGH_ADHERENCE),
        ("low", lambda w: w["done_days"] < HIGH_ADHERENCE),
    )
    for label, pick in picks:
        wks = {w["week"] for w in weekly if w["days"] == 7 and pick(w)}
        ss = [s for s in inside if monday(date.fromisoformat(s["local_day"])).isoformat() in wks]
        by_adh[label] = {
            "weeks": len(wks),
            "sessions": len(ss),
            "pain_before": _mean([s["pain_before"] for s in ss if s["pain_before"] is not None]),
            "pain_after": _mean([s["pain_after"] for s in ss if s["pain_after"] is not None]),
        }

    notes = [
        {"day": s["local_day"], "session_id": s.get("id"), "note": s["notes"]}
        for s in inside
        if (s.get("notes") or "").strip()
    ]
    return Figures(
        made_at=made_at,
        today=today.isoformat(),
        first_day=first.isoformat(),
        last_day=today.isoformat(),
        weeks=weeks,
        routines=sorted({s["routine"] for s in inside}),
        sides=sorted({s["side"] for s in inside if s["side"]}),
        summary=summary(done_days(sessions), len(sessions), today),
        calendar=calendar,
        day_counts=counts,
        weekly=weekly,
        presses=presses,
        press_weekly=press_weekly,
        pain=pain,
        pain_trend=trend,
        pain_by_adherence=by_adh,
        notes=notes,
    )


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


def _plt() -> Any:
    # lazy: matplotlib takes ~0.5 s; only the report draws (and the backend is set first)
    import matplotlib

    matplotlib.use("svg", force=False)
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
    # lazy: pyplot loads after the backend is chosen, above
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _days(values: list[str]) -> list[date]:
    return [date.fromisoformat(v) for v in values]


def calendar_chart(f: Figures) -> str:
    # lazy: matplotlib, like _plt: not at the report's import
    from matplotlib.patches import Patch, Rectangle

    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.9))
    for k, cell in enumerate(f.calendar):
        w, d = divmod(k, 7)
        ax.add_patch(
            Rectangle(
                (w, 6 - d),
                0.9,
                0.9,
                facecolor=STATE_COLOURS[cell["state"]],
                edgecolor="#9e9e9e" if cell["state"] == "open" else "none",
            )
        )
    ax.set_xlim(0, f.weeks)
    ax.set_ylim(0, 7)
    ax.set_yticks([6.45 - d for d in range(7)], ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    # About four week labels: the cells are small (square days), and a label a week
    # runs into the next one.
    step = max(1, -(-f.weeks // 4))
    ax.set_xticks(
        [w + 0.45 for w in range(0, f.weeks, step)],
        [
            date.fromisoformat(f.calendar[w * 7]["day"]).strftime("%d %b")
            for w in range(0, f.weeks, step)
        ],
    )
    ax.tick_params(length=0, labelsize=8)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_aspect("equal")
    ax.legend(
        handles=[Patch(color=STATE_COLOURS[s], label=s) for s in DAY_STATES],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
    )
    return _svg(fig)


def weekly_chart(f: Figures) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.8))
    weeks = _days([w["week"] for w in f.weekly])
    ax.bar(weeks, [w["sessions"] for w in f.weekly], width=5, color="#5c6bc0", label="sessions")
    ax.plot(
        weeks, [w["done_days"] for w in f.weekly], "o-", color="#2e7d32", ms=3, label="days done"
    )
    ax.set_ylabel("per week")
    ax.set_ylim(0, max([7] + [w["sessions"] for w in f.weekly]) + 0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.autofmt_xdate()
    return _svg(fig)


def press_chart(f: Figures, name: str) -> str:
    plt = _plt()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(WIDTH_IN, 3.4), sharex=True)
    ps = [p for p in f.presses if p.name == name]
    for side in sorted({p.side or "" for p in ps}):
        mine = [p for p in ps if (p.side or "") == side and p.under_pressure_s is not None]
        if mine:
            a1.plot(
                _days([p.day for p in mine]),
                [p.under_pressure_s for p in mine],
                ".",
                ms=4,
                label=f"held, {side or 'both'}",
            )
    planned = [p for p in ps]
    if planned:
        a1.plot(
            _days([p.day for p in planned]),
            [p.planned_s for p in planned],
            "_",
            color="#9e9e9e",
            label="planned",
        )
    a1.set_ylabel("seconds under\npressure")
    a1.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    series: dict[tuple[str, bool], list[tuple[date, float]]] = defaultdict(list)
    for row in f.press_weekly:
        if row["name"] == name:
            series[(row["side"] or "both", row["sensor"])].append(
                (date.fromisoformat(row["week"]), row["share"] * 100)
            )
    for (side, sensor), pts in sorted(series.items()):
        a2.plot(
            [d for d, _ in pts],
            [v for _, v in pts],
            "o-" if sensor else "s--",
            ms=3,
            label=f"{side}: {'confirmed (sensor)' if sensor else 'completed (no sensor)'}",
        )
    a2.set_ylim(-5, 105)
    a2.set_ylabel("% per week")
    a2.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.autofmt_xdate()
    return _svg(fig)


def pain_chart(f: Figures) -> str:
    # lazy: numpy takes ~0.1 s; only the pain chart needs it
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.2))
    for key, colour, label in (("before", "#6d4c41", "before"), ("after", "#1565c0", "after")):
        pts = [
            (date.fromisoformat(p.day), getattr(p, key), p.status)
            for p in f.pain
            if getattr(p, key) is not None
        ]
        full = [(d, v) for d, v, s in pts if s == "completed"]
        cut = [(d, v) for d, v, s in pts if s != "completed"]
        if full:
            ax.plot(
                [d for d, _ in full], [v for _, v in full], "o", ms=3, color=colour, label=label
            )
        if cut:
            ax.plot(
                [d for d, _ in cut],
                [v for _, v in cut],
                "x",
                ms=5,
                color=colour,
                label=f"{label}, run not completed",
            )
        if len({d for d, _, _ in pts}) >= 2:
            x = np.array([d.toordinal() for d, _, _ in pts], dtype=float)
            slope, icpt = np.polyfit(x, np.array([v for _, v, _ in pts], dtype=float), 1)
            xs = np.array([x.min(), x.max()])
            ax.plot(
                [date.fromordinal(int(v)) for v in xs],
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
    fig.autofmt_xdate()
    return _svg(fig)


CSS = """
@page { margin: 15mm; }
body { font: 10pt/1.35 system-ui, sans-serif; color: #111; max-width: 190mm; margin: auto; }
h1 { font-size: 16pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 14pt 0 4pt; }
section { break-inside: avoid; page-break-inside: avoid; }
svg { width: 100%; height: auto; }
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


def render_html(f: Figures) -> str:
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
        calendar_chart(f),
        "<p><small>done: a completed run; partial: stopped before the end; interrupted: the "
        "app or computer stopped mid-run; missed: no run.</small></p></section>",
        "<section><h2>Sessions per week</h2>",
        weekly_chart(f),
        "<table><tr><th>week of</th><th>sessions</th><th>days done</th>"
        "<th>pain before</th><th>pain after</th></tr>",
    ]
    for w in f.weekly:
        k = f"week.{w['week']}"
        parts.append(
            f"<tr><td>{_e(w['week'])}</td><td>{_fig(k + '.sessions', w['sessions'])}"
            f"</td><td>{_fig(k + '.done_days', w['done_days'])}</td>"
            f"<td>{_e(w['pain_before'])}</td><td>{_e(w['pain_after'])}</td></tr>"
        )
    parts.append("</table></section>")
    for name in sorted({p.name for p in f.presses}):
        parts += [
            f"<section><h2>{_e(name)}: time under pressure and verdicts</h2>",
            press_chart(f, name),
            "<table><tr><th>week of</th><th>side</th><th>sensor</th><th>presses</th>"
            "<th>confirmed</th><th>completed</th><th>share</th><th>held (mean s)</th>"
            "</tr>",
        ]
        for r in (r for r in f.press_weekly if r["name"] == name):
            parts.append(
                f"<tr><td>{_e(r['week'])}</td><td>{_e(r['side'])}</td>"
                f"<td>{'yes' if r['sensor'] else 'no'}</td><td>{_e(r['presses'])}</td>"
                f"<td>{_e(r['confirmed'] if r['sensor'] else None)}</td>"
                f"<td>{_e(r['completed'])}</td><td>{_pct(r['share'])}</td>"
                f"<td>{_e(r['under_pressure_mean_s'])}</td></tr>"
            )
        parts.append(
            "</table><p><small>With a sensor the share is of presses confirmed "
            "(held for 90% of the planned time); without one it is of presses "
            "completed, which the app cannot verify.</small></p></section>"
        )
    if not f.presses:
        parts.append("<section><h2>Presses</h2><p>No presses in this period.</p></section>")
    tr = f.pain_trend
    ha, la = f.pain_by_adherence["high"], f.pain_by_adherence["low"]
    parts += [
        "<section><h2>Pain (0-10) before and after each session</h2>",
        pain_chart(f) if f.pain else "<p>No pain answers in this period.</p>",
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
        json.dumps(asdict(f), ensure_ascii=True).replace("</", "<\\/"),
        "</script></body></html>\n",
    ]
    return "".join(parts)

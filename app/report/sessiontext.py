"""One session as text: its header, every step, each press's title and curve.

Shared by the History screen and `hiphook history show`, so both say the same; pure (no
Textual, no SQL), and the terminal drawing imports plotext only when it is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_POINTS = 400  # per curve: a terminal cannot show more, and plotting stays fast


def thin(xs: Sequence[float], ys: Sequence[float], n: int = MAX_POINTS) -> tuple[list[float], ...]:
    """Every k-th point so a curve has at most about n (a terminal shows no more)."""
    step = max(1, len(xs) // n)
    return list(xs[::step]), list(ys[::step])


def step_lines(session: dict[str, Any]) -> list[str]:
    """Every step of a session, one line each (shared with `hiphook history show`)."""
    lines = []
    for st in session["steps"]:
        how = "skipped" if st["skipped"] else ("done" if st["completed"] else "not done")
        verdict = f", {st['verdict']}" if st["verdict"] else ""
        held = st.get("under_pressure_s")
        held_text = f", {held:.0f} s under pressure" if held is not None else ""
        side = f" ({st['side']})" if st["side"] else ""
        lines.append(
            f"{st['index'] + 1}. {st['name']}{side}: {how}, "
            f"{st['actual_s']:.0f}/{st['planned_s']:.0f} s{verdict}{held_text}"
        )
    return lines


def session_header(session: dict[str, Any]) -> str:
    status = session["status"].replace("_", " ")
    side = f" ({session['side']} tight)" if session.get("side") else ""
    pain = ""
    if session["pain_before"] is not None or session["pain_after"] is not None:
        pb = "–" if session["pain_before"] is None else session["pain_before"]
        pa = "–" if session["pain_after"] is None else session["pain_after"]
        pain = f", pain {pb}→{pa}"
    return f"#{session['id']} {session['local_day']} {session['routine']}{side}: {status}{pain}"


def press_title(info: dict[str, Any]) -> str:
    side = f" ({info['side']})" if info["side"] else ""
    verdict = f": {info['verdict']}" if info["verdict"] else ""
    return f"{info['index'] + 1}. {info['name']}{side}{verdict}, force (N) over seconds"


def press_plot(info: dict[str, Any], xs: Sequence[float], ys: Sequence[float], width: int) -> str:
    """One press's force curve drawn in text (braille dots), `width` columns wide."""
    # lazy: plotext takes ~80 ms; only 'history show' draws a press
    import plotext as plt

    plt.clear_figure()
    plt.theme("clear")  # no colour codes: the same text in a pipe, a file or a terminal
    plt.plot_size(width, 14)
    plt.title(press_title(info))
    plt.plot(list(xs), list(ys), marker="braille")
    plt.xlabel("seconds")
    text: str = plt.uncolorize(plt.build())
    plt.clear_figure()
    return "\n".join(line.rstrip() for line in text.splitlines())
